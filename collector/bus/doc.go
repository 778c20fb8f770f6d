// Package bus is the collector's side of NATS: it runs the embedded
// nats-server with JetStream (or connects to an external cluster), makes
// the VIGIL stream and the collector's durable consumers, and grants each
// enrolled agent's NKey publish rights on its own subjects only.
package bus
