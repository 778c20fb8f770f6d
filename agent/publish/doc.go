// Package publish sends the agent's events, alerts and heartbeats to the
// collector over NATS JetStream. Every event is written to an on-disk spool
// first and published from there in order, so a collector or network outage
// (or an agent restart) loses nothing until the spool's bound is reached;
// then the oldest events go and an agent.loss record says how many.
//
// Publisher (publisher.go) is the agent's sink: Publish spools an event and
// wakes the sender (sender.go), which publishes runs of events several to a
// message with a window of unacknowledged messages (acks.go), keeping what
// JetStream acknowledged until the collector's watermark says it is stored
// (committed.go); alerts also go
// at once through a fast lane (fastlane.go). The agent's reader paces the
// sender and the spool's flushes (pace.go); records a full spool dropped are
// reported as agent.loss (loss.go); heartbeats go straight to JetStream
// (heartbeat.go); conn.go holds the connection.
package publish
