package publish

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Check connects to the collector once, as the agent would, and says which
// server answered. It does not retry, so a preflight sees the first failure
// (an unreachable address, a TLS mismatch, a key the collector does not know)
// instead of waiting on reconnects.
func Check(c *Config, timeout time.Duration) (string, error) {
	auth, err := c.AuthOptions()
	if err != nil {
		return "", err
	}
	o := append(auth, nats.Name("vigil-agent preflight"), nats.Timeout(timeout), nats.NoReconnect())
	nc, err := nats.Connect(c.URL, o...)
	if err != nil {
		return "", fmt.Errorf("connecting to collector %s: %w", c.URL, err)
	}
	defer nc.Close()
	// The server may refuse the key only after the handshake; a flush
	// waits for its verdict.
	if err := nc.FlushTimeout(timeout); err != nil {
		return "", fmt.Errorf("connecting to collector %s: %w", c.URL, err)
	}
	return fmt.Sprintf("NATS %s at %s", nc.ConnectedServerVersion(), nc.ConnectedUrlRedacted()), nil
}
