package collector

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/attribute"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/checkpoint"
	"github.com/vigilhq/vigil/collector/console"
	"github.com/vigilhq/vigil/collector/correlate"
	"github.com/vigilhq/vigil/collector/forward"
	"github.com/vigilhq/vigil/collector/ingest"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/rules"
)

// Config is everything vigil-collector run takes.
type Config struct {
	// Version is the collector's, for vigil_build_info.
	Version string
	DataDir string
	// Store is where alerts and events are kept: a postgres:// URL or a
	// SQLite file; empty is vigil.db in DataDir.
	Store string
	NATS  bus.Config
	// HTTP is the API's and console's listen address; empty turns it off.
	HTTP string
	// HTTPCert and HTTPKey, when set, serve HTTP over TLS.
	HTTPCert, HTTPKey string
	// NoConsole serves the API without the web console.
	NoConsole bool
	// RulesDir holds the correlation rules; empty runs none.
	RulesDir string
	// HostRulesDir is the host rule set the SOC ships: agents switching to
	// it raise no rule-set alert.
	HostRulesDir    string
	AllowedRuleSets []string
	Retention       store.Retention
	// CheckpointEvery is how often the store's hash chain is signed while
	// it moves (default one minute); CheckpointFile and CheckpointCommand
	// are where each checkpoint goes besides the JetStream stream.
	CheckpointEvery                   time.Duration
	CheckpointFile, CheckpointCommand string
	// OCSF appends each new alert as an OCSF finding line to this file
	// ("-": standard output).
	OCSF string
	// AttributionGrace is how long a statement read at a database server
	// waits for its connection's client end (attribute.Options.Grace).
	AttributionGrace time.Duration
	// OCSFWebhook posts each finding to this URL, signed with
	// OCSFWebhookSecret (HMAC-SHA256, see forward.Sign).
	OCSFWebhook       string
	OCSFWebhookSecret []byte
	// OCSFSyslog sends each finding as RFC 5424 syslog to this target:
	// tcp://, tls:// or udp://host:port.
	OCSFSyslog string
	// AlertsOut, when set, gets a one-line summary of each new alert.
	AlertsOut     io.Writer
	LivenessEvery time.Duration
	// BundleGrace is how long an agent may run another rule bundle than its
	// site's current one before it alerts (liveness.DefaultBundleGrace).
	BundleGrace time.Duration
	// Partitions, when above 0, shares the correlation rules' groups with
	// the other collectors on the same NATS (correlate.Partitioned) under
	// CollectorID (default: the host name); 0 runs every group here.
	Partitions        int
	CollectorID       string
	LeaseTTL          time.Duration
	CorrelationReplay time.Duration
	// Ready, when set, is called with the NATS URL and API address once
	// everything runs.
	Ready  func(natsURL, httpAddr string)
	Logger *slog.Logger
}

// Run runs the collector until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.LivenessEvery == 0 {
		cfg.LivenessEvery = time.Second
	}
	if cfg.Retention.Events == 0 {
		cfg.Retention.Events = 30 * 24 * time.Hour
	}
	if cfg.Retention.Alerts == 0 {
		cfg.Retention.Alerts = 365 * 24 * time.Hour
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data directory %s: %w", cfg.DataDir, err)
	}
	if cfg.NATS.DataDir == "" {
		cfg.NATS.DataDir = cfg.DataDir
	}
	if cfg.NATS.AgentsDir == "" {
		cfg.NATS.AgentsDir = filepath.Join(cfg.DataDir, "agents")
	}
	allowed := append([]string(nil), cfg.AllowedRuleSets...)
	if cfg.HostRulesDir != "" {
		set, diags := rules.LoadDir(cfg.HostRulesDir)
		if diags.HasErrors() {
			return fmt.Errorf("loading host rules from %s: %w", cfg.HostRulesDir, diags)
		}
		allowed = append(allowed, set.Hash())
	}

	if cfg.Store == "" {
		cfg.Store = filepath.Join(cfg.DataDir, "vigil.db")
	}
	st, err := store.Open(cfg.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	corr, err := correlate.Load(cfg.RulesDir, log)
	if err != nil {
		return err
	}
	m := metrics.New(func() float64 { return float64(corr.ReloadErrors()) })
	// Bundles are served once NATS runs; until then no site has one.
	var served atomic.Pointer[bundles.Server]
	currentBundle := func(site string) uint64 {
		if s := served.Load(); s != nil {
			return s.Current(site)
		}
		return 0
	}
	live := liveness.New(liveness.Options{AllowedRuleSets: allowed, Identifiers: corr.Identifiers, BundleGrace: cfg.BundleGrace,
		CurrentBundle: currentBundle,
		BundleHash: func(version uint64) (string, bool) {
			if s := served.Load(); s != nil {
				return s.Hash(version)
			}
			return "", false
		}})
	if err := errors.Join(m.SetBuildInfo(cfg.Version), m.WatchFleet(live.Health)); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	now := time.Now()
	agents, err := st.Agents(ctx)
	if err != nil {
		return err
	}
	for _, a := range agents {
		live.Known(a.AgentID, a.Site, a.Host, a.BootID, a.Heartbeat, now)
	}

	sinks, err := outputs(cfg)
	if err != nil {
		return err
	}
	hub := api.NewHub()
	var outMu sync.Mutex
	onAlert := func(al *event.Event) {
		hub.Notify()
		if cfg.AlertsOut != nil {
			outMu.Lock()
			fmt.Fprintln(cfg.AlertsOut, FormatAlert(al))
			outMu.Unlock()
		}
	}
	io := ingest.Options{Store: st, Correlation: corr, Liveness: live, Metrics: m, Logger: log, OnAlert: onAlert,
		Attribution: attribute.Options{Grace: cfg.AttributionGrace}}
	// Partitioned, the collectors owning the groups rebuild their windows
	// from the correlation stream, and the store warms the join only.
	var router correlate.Router
	if cfg.Partitions > 0 {
		if cfg.CollectorID, err = collectorID(cfg.CollectorID); err != nil {
			return err
		}
		io.Correlation, io.Route = nil, router.Route
	} else if cfg.Partitions < 0 {
		return fmt.Errorf("partitions %d: use 0 (this collector runs every group) or more", cfg.Partitions)
	}
	in := ingest.New(io)
	warm := func() {
		if n, err := in.Warm(ctx, 24*time.Hour, 200000); err != nil {
			log.Warn("warming correlation windows", "err", err)
		} else if n > 0 {
			log.Info("correlation windows warmed from the store", "events", n)
		}
	}
	if cfg.Partitions == 0 {
		warm()
	}

	// A refused operation is raised with the next liveness check.
	cfg.NATS.Violations = func(v bus.Violation) {
		live.Violation(liveness.Violation{AgentID: v.AgentID, Site: v.Site, Key: v.Key, Op: v.Op, Subject: v.Subject}, time.Now().UTC())
	}
	b, err := bus.Start(ctx, cfg.NATS, log)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := m.WatchEnrolment(func() float64 { return float64(len(b.EnrolmentErrors())) }); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	// A published bundle that cannot be read is logged and retried; only a
	// bucket that cannot be made stops the collector.
	srvBundles, err := bundles.Open(ctx, b.JS, cfg.DataDir, cfg.NATS.Replicas, log)
	if srvBundles == nil {
		return err
	}
	served.Store(srvBundles)
	cp, err := checkpointer(ctx, cfg, st, b, log)
	if err != nil {
		return err
	}
	if err := m.WatchCheckpoints(func() float64 { return float64(cp.Failed()) }); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	cons, err := b.Consumer(ctx)
	if err != nil {
		return err
	}
	prio, err := b.PriorityConsumer(ctx)
	if err != nil {
		return err
	}
	var parted *correlate.Partitioned
	if cfg.Partitions > 0 {
		router.JS = b.JS
		warm()
		parted, err = correlate.NewPartitioned(ctx, correlate.PartitionedOptions{Engine: corr, JS: b.JS, ID: cfg.CollectorID,
			Partitions: cfg.Partitions, TTL: cfg.LeaseTTL, Replicas: cfg.NATS.Replicas, Replay: cfg.CorrelationReplay,
			Store: in.PutAlerts, Logger: log})
		if err != nil {
			return err
		}
		log.Info("correlation shared among collectors", "collector_id", cfg.CollectorID, "partitions", cfg.Partitions)
	}

	var httpAddr string
	var srv *http.Server
	if cfg.HTTP != "" {
		ln, err := net.Listen("tcp", cfg.HTTP)
		if err != nil {
			return fmt.Errorf("listening for the API on %s: %w", cfg.HTTP, err)
		}
		httpAddr = ln.Addr().String()
		h, err := HTTPHandler(cfg, &api.Server{Store: st, Liveness: live, Metrics: m, Hub: hub, Enrolment: b.EnrolmentErrors,
			CurrentBundle: currentBundle}, log)
		if err != nil {
			ln.Close()
			return err
		}
		srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		scheme := "http"
		if cfg.HTTPCert != "" || cfg.HTTPKey != "" {
			scheme = "https"
		}
		go func() {
			var err error
			if scheme == "https" {
				err = srv.ServeTLS(ln, cfg.HTTPCert, cfg.HTTPKey)
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				log.Error("API stopped serving", "err", err)
			}
		}()
		log.Info("API listening", "addr", scheme+"://"+httpAddr)
		if !cfg.NoConsole {
			log.Info("console", "url", scheme+"://"+httpAddr+"/", "first_admin", filepath.Join(cfg.DataDir, auth.FirstAdminFile))
			if host, _, _ := net.SplitHostPort(httpAddr); scheme == "http" && !net.ParseIP(host).IsLoopback() {
				log.Warn("the console's session cookie is Secure: browsers send it over plain HTTP to loopback only; use --http-tls-cert/--http-tls-key")
			}
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() { in.WatchLiveness(ctx, cfg.LivenessEvery) })
	run(func() { in.WatchHeld(ctx, time.Second) })
	run(func() { in.WatchGaps(ctx, 10*time.Second) })
	run(func() { in.PublishCommitted(ctx, b.NC) })
	run(func() { corr.Watch(ctx) })
	if parted != nil {
		run(func() {
			if err := parted.Run(ctx); err != nil {
				log.Error("correlation partitions stopped; this collector correlates nothing until restarted", "err", err)
			}
		})
	}
	run(func() { watchAgents(ctx, b, log) })
	run(func() { srvBundles.Watch(ctx, time.Second) })
	run(func() { prune(ctx, st, cfg.Retention, log) })
	run(func() { cp.Run(ctx) })
	run(func() { agentGauge(ctx, st, live, m) })
	if len(sinks) > 0 {
		fw, err := forward.New(forward.Options{Store: st, Sinks: sinks, Wake: hub.Wait, Metrics: m.Registry, Logger: log})
		if err != nil {
			return err
		}
		run(func() { fw.Run(ctx) })
	}
	if cfg.Ready != nil {
		cfg.Ready(b.ClientURL(), httpAddr)
	}
	log.Info("vigil-collector running", "nats", b.ClientURL(), "rules", cfg.RulesDir, "correlation_rule_set", corr.Hash())
	err = in.Run(ctx, cons, prio)
	cancel()
	if srv != nil {
		sctx, c := context.WithTimeout(context.Background(), 2*time.Second)
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("API shutdown", "err", err)
		}
		c()
	}
	wg.Wait()
	return err
}

// collectorID is id, or the host name made a valid partition lease key.
func collectorID(id string) (string, error) {
	if id != "" {
		return id, nil
	}
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("naming this collector after its host (set --collector-id): %w", err)
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, host), nil
}

// HTTPHandler is the API srv (whose store and sources are set) and, unless
// cfg turns it off, the console, behind the data directory's tokens and
// users.
func HTTPHandler(cfg Config, srv *api.Server, log *slog.Logger) (http.Handler, error) {
	if (cfg.HTTPCert == "") != (cfg.HTTPKey == "") {
		return nil, errors.New("serving HTTP over TLS needs both a certificate and a key")
	}
	tokens, err := auth.Open(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("opening the API's tokens: %w", err)
	}
	srv.Auth, srv.DataDir = tokens, cfg.DataDir
	if !cfg.NoConsole {
		users, err := auth.OpenUsers(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("opening the console's users: %w", err)
		}
		srv.Users, srv.Sessions = users, auth.NewSessions()
		c := &console.Server{Store: srv.Store, Hub: srv.Hub, Liveness: srv.Liveness, CurrentBundle: srv.CurrentBundle, Users: users,
			Sessions: srv.Sessions, Log: log, DataDir: cfg.DataDir}
		if cfg.NATS.Auth {
			// Agents are enrolled where the NATS server reads them.
			c.AgentsDir = cfg.NATS.AgentsDir
			if c.AgentsDir == "" {
				c.AgentsDir = filepath.Join(cfg.DataDir, "agents")
			}
		}
		if srv.Console, err = c.Handler(); err != nil {
			return nil, err
		}
	}
	return srv.Handler(), nil
}

// outputs opens the OCSF outputs cfg asks for.
func outputs(cfg Config) ([]forward.Sink, error) {
	var sinks []forward.Sink
	if cfg.OCSF != "" {
		f, err := forward.NewFileSink(cfg.OCSF)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, f)
	}
	if cfg.OCSFWebhook != "" {
		w, err := forward.NewWebhookSink(cfg.OCSFWebhook, cfg.OCSFWebhookSecret, 30*time.Second)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, w)
	}
	if cfg.OCSFSyslog != "" {
		s, err := forward.NewSyslogSink(cfg.OCSFSyslog, nil, 30*time.Second)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, s)
	}
	return sinks, nil
}

// FormatAlert is the one-line form of an alert for terminals.
func FormatAlert(al *event.Event) string {
	a := al.Alert
	who := al.Person()
	if who == "" {
		who = "-"
	}
	return fmt.Sprintf("%s %-8s %-28s site=%s host=%s person=%s  %s",
		al.Time.Local().Format("15:04:05"), strings.ToUpper(a.Severity), a.Rule, al.Site, al.Host, who, a.Summary)
}

// watchAgents reloads enrolled agents' keys when the agents directory changes.
func watchAgents(ctx context.Context, b *bus.Bus, log *slog.Logger) {
	if b.Server() == nil {
		return
	}
	dir := b.AgentsDir()
	fp := dirFingerprint(dir)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if now := dirFingerprint(dir); now != fp {
			fp = now
			if err := b.ReloadAgents(); err != nil {
				log.Error("reloading enrolled agents", "err", err)
			} else {
				log.Info("enrolled agents reloaded", "agents", len(b.Enrolled()))
			}
		}
	}
}

func dirFingerprint(dir string) string {
	entries, _ := os.ReadDir(dir)
	var sb strings.Builder
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			// Mode and owner too: chown or chmod of a record the collector
			// could not read is the fix, and must be picked up.
			owner := ""
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				owner = fmt.Sprintf("%d:%d", st.Uid, st.Gid)
			}
			fmt.Fprintf(&sb, "%s %d %d %v %s\n", e.Name(), info.Size(), info.ModTime().UnixNano(), info.Mode(), owner)
		}
	}
	return sb.String()
}

// checkpointer signs the store's chain with the key in the data directory
// and publishes to the checkpoint stream and the configured file or
// command.
func checkpointer(ctx context.Context, cfg Config, st *store.Store, b *bus.Bus, log *slog.Logger) (*checkpoint.Checkpointer, error) {
	key, err := checkpoint.LoadOrCreateKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	js, created, err := checkpoint.NewJetStream(ctx, b.JS, cfg.NATS.Replicas)
	if err != nil {
		return nil, err
	}
	if published, err := st.Checkpoints(ctx, false); err != nil {
		return nil, err
	} else if created && len(published) > 0 {
		log.Error("the checkpoint stream was missing and is made again: it was deleted, with the checkpoints it held; verify against the off-host copies",
			"stream", checkpoint.Stream, "checkpoints_stored", len(published))
	}
	pubs := []checkpoint.Publisher{js}
	if cfg.CheckpointFile != "" {
		pubs = append(pubs, checkpoint.File{Path: cfg.CheckpointFile})
	}
	if cfg.CheckpointCommand != "" {
		pubs = append(pubs, checkpoint.Command{Cmd: cfg.CheckpointCommand})
	}
	cp := &checkpoint.Checkpointer{Store: st, Key: key, Publishers: pubs, Every: cfg.CheckpointEvery, Log: log}
	st.SetSigner(cp.Sign)
	names := make([]string, len(pubs))
	for i, p := range pubs {
		names[i] = p.Name()
	}
	log.Info("store checkpoints signed", "public_key", checkpoint.PublicKeyString(key.Public().(ed25519.PublicKey)),
		"public_key_file", filepath.Join(cfg.DataDir, checkpoint.PubKeyFile), "published_to", strings.Join(names, ", "))
	return cp, nil
}

func prune(ctx context.Context, st *store.Store, r store.Retention, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		ev, al, err := st.Prune(ctx, time.Now(), r)
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("pruning store", "err", err)
		} else if ev+al > 0 {
			log.Info("pruned store", "events", ev, "alerts", al)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func agentGauge(ctx context.Context, st *store.Store, live *liveness.Tracker, m *metrics.Metrics) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if agents, err := st.Agents(ctx); err == nil {
			counts := map[string]float64{"ok": 0, "silent": 0, "stopped": 0}
			for _, a := range agents {
				if s := live.Status(a.AgentID); s != "" {
					counts[s]++
				}
			}
			for s, n := range counts {
				m.Agents.WithLabelValues(s).Set(n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
