package publish

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/event"
)

// ErrPublishRefused says the collector's NATS refused the agent's key a
// publish to the agent's own subjects: the key is enrolled for another
// site or agent id than agent.hcl names.
var ErrPublishRefused = errors.New("the collector refuses this key a publish to the agent's subjects")

// Check connects to the collector once, as the agent would, and says which
// server answered. It does not retry, so a preflight sees the first failure
// (an unreachable address, a TLS mismatch, a key the collector does not know)
// instead of waiting on reconnects. With an identity it also checks that
// the key may publish to the agent's own subjects, without storing
// anything.
func Check(c *Config, timeout time.Duration) (string, error) {
	auth, err := c.AuthOptions()
	if err != nil {
		return "", err
	}
	o := append(auth, nats.Name("vigil-agent preflight"), nats.Timeout(timeout), nats.NoReconnect())
	if c.Identity != nil {
		o = append(o, nats.CustomInboxPrefix(InboxPrefix(c.Identity.AgentID)))
	}
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
	server := fmt.Sprintf("NATS %s at %s", nc.ConnectedServerVersion(), nc.ConnectedUrlRedacted())
	if c.Identity == nil {
		return server, nil
	}
	if err := checkPublish(nc, c.Identity, timeout); err != nil {
		return "", err
	}
	return server + ", publish allowed", nil
}

// checkPublish publishes to the agent's heartbeat subject expecting a last
// sequence the stream cannot have: JetStream refuses to store it, which
// shows the server let the key publish there and a stream takes it; a
// permission violation shows the key is someone else's.
func checkPublish(nc *nats.Conn, id *Creds, timeout time.Duration) error {
	subject := event.SubjectRoot + "." + id.Site + "." + id.AgentID + "." + event.ClassHeartbeat
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("checking publish to %s: %w", subject, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err = js.Publish(ctx, subject, []byte("{}"), jetstream.WithExpectLastSequence(math.MaxUint64))
	var apiErr *jetstream.APIError
	switch {
	case errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant):
		return nil
	case err == nil:
		return fmt.Errorf("checking publish to %s: the stream stored a message it should have refused", subject)
	}
	// The server's -ERR for a refused publish reaches the connection
	// before the publish times out waiting for an answer that never comes.
	if last := nc.LastError(); errors.Is(last, nats.ErrPermissionViolation) {
		return fmt.Errorf("publishing to %s: %w (%v)", subject, ErrPublishRefused, last)
	}
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("publishing to %s: no stream takes it: is this the collector's NATS? %w", subject, err)
	}
	return fmt.Errorf("checking publish to %s: %w", subject, err)
}
