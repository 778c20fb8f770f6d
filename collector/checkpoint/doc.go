// Package checkpoint signs where the store's hash chain stands and
// publishes it where someone with the collector host's files cannot
// quietly rewrite it: a JetStream stream that refuses deletes and purges,
// and a file or command of the operator's choosing (a remote mount, a
// syslog forwarder). key.go is the collector's ed25519 key, publish.go the
// places a checkpoint goes, checkpointer.go the loop that takes them.
package checkpoint
