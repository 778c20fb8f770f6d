package publish

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// InboxPrefix is where an agent's JetStream acks arrive; its permissions
// allow subscribing there and nowhere else.
func InboxPrefix(agentID string) string { return "_INBOX." + agentID }

// connected tells Options.Connected where nc is connected, then lets the
// sender and the heartbeat publish on the connection.
func (p *Publisher) connected(nc *nats.Conn) {
	if p.opts.Connected != nil {
		if addr := nc.ConnectedAddr(); addr != "" {
			p.opts.Connected(addr)
		}
	}
	p.reported.Store(true)
	p.poke()
}

// online says the publisher may publish: connected, and the connection
// reported.
func (p *Publisher) online() bool { return p.reported.Load() && p.nc.IsConnected() }

// AuthOptions are how the agent proves who it is and checks the server:
// its enrolled NKey and the TLS settings of the collector block.
func (c *Config) AuthOptions() ([]nats.Option, error) {
	var o []nats.Option
	if c.Identity != nil {
		kp, err := c.Identity.KeyPair()
		if err != nil {
			return nil, err
		}
		pub, _ := kp.PublicKey()
		o = append(o, nats.Nkey(pub, kp.Sign))
	}
	if c.TLSCA != "" {
		o = append(o, nats.RootCAs(c.TLSCA))
	}
	if c.TLSCert != "" || c.TLSKey != "" {
		o = append(o, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	return o, nil
}

func (p *Publisher) connect() error {
	c := p.cfg
	o := []nats.Option{
		nats.Name("vigil-agent " + p.opts.AgentID),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, time.Second),
		// Without a reconnect buffer a publish during an outage fails at
		// once and the sender waits; the spool is the buffer.
		nats.ReconnectBufSize(-1),
		// By default a client stops for good after the same auth error
		// twice; an agent started before the collector loads its key
		// (or re-enrolled) must keep trying and deliver its spool then.
		nats.IgnoreAuthErrorAbort(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			p.log.Warn("collector refused", "err", err)
		}),
		nats.CustomInboxPrefix(InboxPrefix(p.opts.AgentID)),
		nats.ConnectHandler(func(nc *nats.Conn) {
			p.log.Info("connected to collector", "url", c.URL)
			if p.firstReported.CompareAndSwap(false, true) {
				p.connected(nc)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			p.log.Info("reconnected to collector")
			p.reconnects.Add(1)
			p.connected(nc)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				p.log.Warn("disconnected from collector; spooling", "err", err)
			}
			p.reported.Store(false)
			if p.opts.Connected != nil {
				p.opts.Connected("")
			}
		}),
	}
	auth, err := c.AuthOptions()
	if err != nil {
		return err
	}
	o = append(o, auth...)
	o = append(o, p.opts.NATSOptions...)
	nc, err := nats.Connect(c.URL, o...)
	if err != nil {
		return fmt.Errorf("connecting to collector %s: %w", c.URL, err)
	}
	// Reported before New returns (unless the connect handler, run
	// meanwhile, has), so that the agent's sensors know the server before
	// they attach.
	if nc.IsConnected() && p.firstReported.CompareAndSwap(false, true) {
		p.connected(nc)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(c.MaxInFlight+alertSlack),
		jetstream.WithPublishAsyncTimeout(p.opts.AckTimeout),
		// The sender waits on one ack of many; any failure wakes it too.
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) {
			select {
			case p.pubErr <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		nc.Close()
		return fmt.Errorf("connecting to collector %s: %w", c.URL, err)
	}
	p.nc, p.js = nc, js
	if err := p.subscribeCommitted(); err != nil {
		nc.Close()
		return fmt.Errorf("listening for the collector's watermarks: %w", err)
	}
	return nil
}

func (p *Publisher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}
