package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/rules/bundle"
)

// Names of the stream and the collector's durable consumers.
const (
	Stream = "VIGIL"
	// Consumer carries everything (the events lane reads alerts for their
	// seq and skips heartbeats).
	Consumer = "collector"
	// PriorityConsumer carries alerts and heartbeats only, so they are
	// stored and judged without waiting behind an event backlog.
	PriorityConsumer = "collector-priority"
)

// Config says where NATS is.
type Config struct {
	// URL of an external NATS cluster; empty runs the embedded server.
	URL string
	// Creds for the collector's connection to an external cluster (a
	// .creds file or an NKey seed file).
	Creds string

	// Embedded server settings.
	DataDir string // JetStream storage goes in DataDir/jetstream
	Listen  string // host:port agents connect to; default 127.0.0.1:4222, port -1 picks one
	// Auth requires enrolled NKeys (from AgentsDir) for every agent.
	Auth      bool
	AgentsDir string
	// TLS for agents' connections.
	TLSCert, TLSKey, TLSCA string
	// TLSVerify asks agents for client certificates signed by TLSCA.
	TLSVerify bool
	// Violations, if set, is called with each operation the embedded
	// server refuses a client for its permissions, on the server's
	// goroutine. An external cluster reports none.
	Violations func(Violation)

	// Stream settings.
	Replicas   int
	MaxAge     time.Duration // default 7 days
	MaxBytes   int64         // default unlimited (-1)
	Duplicates time.Duration // JetStream's dedupe window, default 10 minutes
}

// Bus is the collector's NATS connection (and server, when embedded).
type Bus struct {
	cfg    Config
	log    *slog.Logger
	srv    *server.Server
	base   *server.Options
	self   nkeys.KeyPair
	NC     *nats.Conn
	JS     jetstream.JetStream
	stream jetstream.Stream

	mu     sync.Mutex
	agents []enrol.Agent
	// enrolErrs are the records of agents the collector could not use.
	enrolErrs []string
}

// Start brings NATS up and makes the stream.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 7 * 24 * time.Hour
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = -1
	}
	if cfg.Duplicates == 0 {
		cfg.Duplicates = 10 * time.Minute
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	b := &Bus{cfg: cfg, log: log}
	var err error
	if cfg.URL == "" {
		err = b.startEmbedded()
	} else {
		err = b.connectExternal()
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	if err := b.ensureStream(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bus) startEmbedded() error {
	c := b.cfg
	host, port := "127.0.0.1", 4222
	if c.Listen != "" {
		h, p, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return fmt.Errorf("parsing NATS listen address %q: %w", c.Listen, err)
		}
		host = h
		if port, err = strconv.Atoi(p); err != nil {
			return fmt.Errorf("parsing NATS listen address %q: the port is not a number", c.Listen)
		}
	}
	o := &server.Options{
		ServerName: "vigil-collector",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(c.DataDir, "jetstream"),
		MaxPayload: 1 << 20,
		NoSigs:     true,
		NoLog:      true,
	}
	if c.TLSCert != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: c.TLSCert, KeyFile: c.TLSKey, CaFile: c.TLSCA, Verify: c.TLSVerify})
		if err != nil {
			return fmt.Errorf("loading NATS TLS certificates: %w", err)
		}
		o.TLS, o.TLSConfig, o.TLSVerify, o.TLSTimeout = true, tc, c.TLSVerify, 5
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("creating the collector's NATS key: %w", err)
	}
	b.self, b.base = kp, o
	if c.Auth {
		if err := b.loadAgents(); err != nil {
			return err
		}
		o.Nkeys = b.nkeyUsers()
	}
	srv, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("starting embedded NATS: %w", err)
	}
	srv.SetLoggerV2(violationLogger{log: b.log, report: b.reportViolation}, false, false, false)
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return errors.New("starting embedded NATS: not ready after 30 s")
	}
	b.srv = srv
	opts := []nats.Option{nats.InProcessServer(srv), nats.Name("vigil-collector"), nats.MaxReconnects(-1)}
	if c.Auth {
		pub, _ := kp.PublicKey()
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	}
	if b.NC, err = nats.Connect(srv.ClientURL(), opts...); err != nil {
		return fmt.Errorf("connecting to embedded NATS: %w", err)
	}
	if b.JS, err = jetstream.New(b.NC); err != nil {
		return fmt.Errorf("opening JetStream on embedded NATS: %w", err)
	}
	b.log.Info("embedded NATS running", "url", b.ClientURL(), "auth", c.Auth, "tls", c.TLSCert != "", "store", o.StoreDir)
	return nil
}

func (b *Bus) connectExternal() error {
	opts := []nats.Option{nats.Name("vigil-collector"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second)}
	if b.cfg.Creds != "" {
		if o, err := nats.NkeyOptionFromSeed(b.cfg.Creds); err == nil {
			opts = append(opts, o)
		} else {
			opts = append(opts, nats.UserCredentials(b.cfg.Creds))
		}
	}
	if b.cfg.TLSCA != "" {
		opts = append(opts, nats.RootCAs(b.cfg.TLSCA))
	}
	if b.cfg.TLSCert != "" {
		opts = append(opts, nats.ClientCert(b.cfg.TLSCert, b.cfg.TLSKey))
	}
	var err error
	if b.NC, err = nats.Connect(b.cfg.URL, opts...); err != nil {
		return fmt.Errorf("connecting to NATS %s: %w", b.cfg.URL, err)
	}
	if b.JS, err = jetstream.New(b.NC); err != nil {
		return fmt.Errorf("opening JetStream on NATS %s: %w", b.cfg.URL, err)
	}
	b.log.Info("using external NATS", "url", b.cfg.URL)
	return nil
}

func (b *Bus) ensureStream(ctx context.Context) error {
	sc := jetstream.StreamConfig{
		Name:        Stream,
		Description: "vigil agents' events, alerts and heartbeats",
		Subjects:    []string{event.SubjectRoot + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      b.cfg.MaxAge,
		MaxBytes:    b.cfg.MaxBytes,
		Duplicates:  b.cfg.Duplicates,
		Replicas:    b.cfg.Replicas,
		Discard:     jetstream.DiscardOld,
	}
	var err error
	// A cluster may still be electing its meta leader: retry for a while.
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b.stream, err = b.JS.CreateOrUpdateStream(cctx, sc)
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		b.log.Info("waiting for JetStream", "err", err)
		time.Sleep(time.Second)
	}
	if err != nil {
		return fmt.Errorf("creating stream %s: %w", Stream, err)
	}
	return nil
}

// Consumer returns the collector's durable pull consumer, creating it.
func (b *Bus) Consumer(ctx context.Context) (jetstream.Consumer, error) {
	c, err := b.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       Consumer,
		Description:   "vigil-collector ingest",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       60 * time.Second,
		MaxAckPending: 20000,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: event.SubjectRoot + ".>",
		Replicas:      b.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("creating consumer %s: %w", Consumer, err)
	}
	return c, nil
}

// PrioritySubjects are the subjects of the priority consumer.
var PrioritySubjects = []string{
	event.SubjectRoot + ".*.*." + event.ClassAlerts,
	event.SubjectRoot + ".*.*." + event.ClassHeartbeat,
}

// PriorityConsumer returns the collector's durable pull consumer of alerts
// and heartbeats. Made for the first time beside a Consumer that has been
// reading, it starts where that one's acknowledgements end rather than at
// the start of the stream, so days of old heartbeats are not judged again;
// later it resumes where it stopped. Call it after Consumer.
func (b *Bus) PriorityConsumer(ctx context.Context) (jetstream.Consumer, error) {
	c, err := b.stream.Consumer(ctx, PriorityConsumer)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("looking up consumer %s: %w", PriorityConsumer, err)
	}
	start := uint64(1)
	if main, err := b.stream.Consumer(ctx, Consumer); err == nil {
		start = main.CachedInfo().AckFloor.Stream + 1
	}
	c, err = b.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        PriorityConsumer,
		Description:    "vigil-collector alerts and heartbeats, ahead of the events backlog",
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        60 * time.Second,
		MaxAckPending:  20000,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    start,
		FilterSubjects: PrioritySubjects,
		Replicas:       b.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("creating consumer %s: %w", PriorityConsumer, err)
	}
	return c, nil
}

func (b *Bus) loadAgents() error {
	agents, errs := enrol.Load(b.cfg.AgentsDir)
	msgs := make([]string, 0, len(errs))
	for _, err := range errs {
		b.log.Error("enrolled agent skipped", "err", err)
		msgs = append(msgs, err.Error())
	}
	b.mu.Lock()
	b.agents, b.enrolErrs = agents, msgs
	b.mu.Unlock()
	return nil
}

// EnrolmentErrors says which enrolment records the collector skipped and
// why: each is an agent whose key is refused until the record is fixed.
func (b *Bus) EnrolmentErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.enrolErrs...)
}

// AgentPermissions are what an enrolled agent may do: publish to its own
// subjects, receive JetStream acks in its own inbox, and read (never
// write) the rule bundles of its site and of every site.
func AgentPermissions(site, agentID string) *server.Permissions {
	keys := []string{bundle.Key(site), bundle.Key(bundle.AllSites)}
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{event.AgentSubjects(site, agentID),
			bundle.GetSubject(keys[0]), bundle.GetSubject(keys[1])}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX." + agentID + ".>",
			bundle.Subject(keys[0]), bundle.Subject(keys[1]), event.CommittedSubject(agentID)}},
	}
}

func (b *Bus) nkeyUsers() []*server.NkeyUser {
	pub, _ := b.self.PublicKey()
	users := []*server.NkeyUser{{Nkey: pub}}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.agents {
		users = append(users, &server.NkeyUser{Nkey: a.PublicKey, Permissions: AgentPermissions(a.Site, a.AgentID)})
	}
	return users
}

// ReloadAgents re-reads the agents directory and applies it to the
// embedded server: new agents may connect, revoked ones are cut off.
func (b *Bus) ReloadAgents() error {
	if b.srv == nil || !b.cfg.Auth {
		return nil
	}
	if err := b.loadAgents(); err != nil {
		return err
	}
	o := b.base.Clone()
	o.Nkeys = b.nkeyUsers()
	if err := b.srv.ReloadOptions(o); err != nil {
		return fmt.Errorf("reloading agent keys: %w", err)
	}
	return nil
}

// Enrolled reports the enrolled agents (nil without auth).
func (b *Bus) Enrolled() []enrol.Agent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]enrol.Agent(nil), b.agents...)
}

// ClientURL is where agents connect (embedded) or the external URL.
func (b *Bus) ClientURL() string {
	if b.srv != nil {
		if b.cfg.TLSCert != "" {
			return fmt.Sprintf("tls://%s", b.srv.Addr())
		}
		return b.srv.ClientURL()
	}
	return b.cfg.URL
}

// Server is the embedded server (nil with an external cluster).
func (b *Bus) Server() *server.Server { return b.srv }

// Close disconnects and stops the embedded server.
func (b *Bus) Close() {
	if b.NC != nil {
		b.NC.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// AgentsDir is the enrolled agents' directory.
func (b *Bus) AgentsDir() string { return b.cfg.AgentsDir }
