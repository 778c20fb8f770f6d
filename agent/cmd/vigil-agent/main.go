package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/agent/caps"
	"github.com/vigilhq/vigil/agent/config"
	"github.com/vigilhq/vigil/agent/dbconn"
	"github.com/vigilhq/vigil/agent/publish"
	"github.com/vigilhq/vigil/agent/redact"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/file"
	netsensor "github.com/vigilhq/vigil/agent/sensor/net"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// Re-executed by the db sensor as its uprobe attacher: nothing else.
	if db.IsAttacher() {
		os.Exit(db.RunAttacher(caps.DropForAttacher))
	}
	os.Exit(cli.Execute(rootCommand(), os.Args[1:], os.Stdout, os.Stderr))
}

// rootCommand is the whole command tree of vigil-agent.
func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil-agent",
		Short: "vigil-agent watches this host for insider data theft",
		Long: `vigil-agent watches this host for insider data theft: eBPF sensors see
processes, files, network transfers and database statements; host rules
raise alerts; events and alerts go to the collector.

Exit status: 0 done, 1 failed, 2 the command line was wrong.`,
		Version: version,
	}
	root.SetVersionTemplate("vigil-agent {{.Version}}\n")
	var ro runOptions
	runCmd := &cobra.Command{
		Use:   "run [--config FILE] [--stdout]",
		Short: "Run the agent",
		Long: `Run the agent. It reads FILE (default ` + defaultConfig + `; built-in defaults when it is
absent), loads the eBPF sensors, and publishes events and alerts to the
collector of its collector block, or prints them as JSON lines on standard
output with --stdout. SIGINT and SIGTERM detach every probe and exit.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return run(ro) },
	}
	runCmd.Flags().StringVar(&ro.config, "config", "", "agent config `file` (default "+defaultConfig+")")
	runCmd.Flags().BoolVar(&ro.stdout, "stdout", false, "print events and alerts as JSON lines on standard output")
	runCmd.Flags().StringVar(&ro.pprof, "pprof", "", "serve Go profiles on this `address` (e.g. 127.0.0.1:6060) for diagnosis")
	runCmd.Flags().StringVar(&ro.rules, "rules", "", "host rules `directory` (default rules_dir of the config, "+config.DefaultRulesDir+")")
	_ = runCmd.MarkFlagFilename("config", "hcl")
	_ = runCmd.MarkFlagDirname("rules")
	po := preflightOptions{}
	preflightCmd := &cobra.Command{
		Use:   "preflight [--config FILE] [--json]",
		Short: "Check the set-up run would use, with fixes",
		Long: `Check the set-up run would use (configuration, credentials and their mode, the
collector with its key, spool disk, host rules, kernel, each sensor), one
line each with the fix. Exit status 1 when any check fails.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return preflight(po, c.OutOrStdout()) },
	}
	preflightCmd.Flags().BoolVar(&po.asJSON, "json", false, "print the report as JSON")
	preflightCmd.Flags().StringVar(&po.config, "config", "", "agent config `file` (default "+defaultConfig+")")
	preflightCmd.Flags().DurationVar(&po.timeout, "timeout", 5*time.Second, "how long to wait for the collector")
	_ = preflightCmd.MarkFlagFilename("config", "hcl")
	root.AddCommand(runCmd, preflightCmd, &cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) { fmt.Fprintln(c.OutOrStdout(), "vigil-agent", version) }})
	cli.Setup(root)
	return root
}

const defaultConfig = "/etc/vigil/agent.hcl"

// loadConfig reads path; the default path may be absent, a named one not.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		if _, err := os.Stat(defaultConfig); errors.Is(err, os.ErrNotExist) {
			return config.Default(), nil
		}
		path = defaultConfig
	}
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		var buf []byte
		w := hcl.NewDiagnosticTextWriter(writerFunc(func(p []byte) (int, error) { buf = append(buf, p...); return len(p), nil }), nil, 100, false)
		w.WriteDiagnostics(diags)
		return nil, fmt.Errorf("config %s:\n%s", path, buf)
	}
	return cfg, nil
}

// heartbeatSource adds the host rules' state to the agent's heartbeats.
type heartbeatSource struct {
	*agent.Agent
	host *hostRules
}

func (s heartbeatSource) Heartbeat(interval time.Duration) *event.Heartbeat {
	hb := s.Agent.Heartbeat(interval)
	s.host.fill(hb)
	return hb
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func dbPorts(cfg *config.Config) []uint16 {
	var ports []uint16
	for _, p := range cfg.DB.Ports {
		ports = append(ports, uint16(p))
	}
	return ports
}

// sensorsFor builds the sensors the config turns on.
func sensorsFor(cfg *config.Config, log *slog.Logger) []sensor.Sensor {
	var out []sensor.Sensor
	if config.On(cfg.Sensors.Process) {
		out = append(out, process.New())
	}
	if config.On(cfg.Sensors.File) {
		out = append(out, file.New(file.Config{
			SkipPrefixes: cfg.File.SkipPrefixes,
			SkipFSMagics: file.DefaultSkipFSMagics,
			Interim:      config.Duration(cfg.File.Interim, 5*time.Second),
		}))
	}
	if config.On(cfg.Sensors.Net) {
		out = append(out, netsensor.New(netsensor.Config{
			IncludeLoopback: cfg.Net.IncludeLoopback,
			InterimEvery:    config.Duration(cfg.Net.Interim, 10*time.Second),
			UDPEvery:        config.Duration(cfg.Net.UDPInterval, 10*time.Second),
		}))
	}
	if config.On(cfg.Sensors.DB) {
		out = append(out, db.New(db.Config{Ports: dbPorts(cfg), CaptureBytes: uint32(cfg.DB.CaptureBytes),
			SocketPaths: cfg.DB.SocketPaths, Logger: log}))
	}
	return out
}

// redactor builds the statement redactor from the db block. The key of
// identifier hashes is db.key_file's, else the deployment key that came
// with the enrolled credentials, else one of this host alone.
func redactor(cfg *config.Config, enrolledKey string, log *slog.Logger) (*redact.Redactor, error) {
	var key []byte
	if cfg.DB.KeyFile == "" && enrolledKey != "" {
		if len(enrolledKey) < 16 {
			return nil, fmt.Errorf("the credentials' deployment_key is %d bytes; it needs at least 16: run vigil enrol again", len(enrolledKey))
		}
		key = []byte(enrolledKey)
	} else {
		k, shared, err := agent.LoadDeploymentKey(cfg.DB.KeyFile, cfg.StateDir)
		if err != nil {
			return nil, err
		}
		if !shared {
			log.Warn("no deployment key (neither db.key_file nor enrolled credentials that carry one): identifier hashes use a key of this host alone and will not match other hosts'")
		}
		key = k
	}
	red, err := redact.New(redact.Config{Key: key, IdentifierColumns: cfg.DB.IdentifierColumns,
		Identifiers: cfg.DB.Identifiers, MaxStatement: cfg.DB.MaxStatement, Disabled: !config.On(cfg.DB.Redact), Views: cfg.DB.Views})
	if err != nil {
		return nil, fmt.Errorf("setting up redaction: %w", err)
	}
	if red.Disabled() {
		log.Warn("redaction is off (db.redact = false): statements and command lines leave this host verbatim")
	}
	return red, nil
}

// The agent's heap is small and short-lived (one event at a time), so the
// default GOGC collects very often under a busy database; the soft limit
// bounds the heap, and so RSS (docs/benchmarks.md, "Why the defaults are what they are"). GOGC and GOMEMLIMIT in the
// environment override both.
const (
	gcPercent   = 400
	memoryLimit = 24 << 20
)

// procs is how many threads run the agent's Go code at once. Its work is
// one reader feeding one sender, and at a workstation's rates its time
// goes to waking up, which a second thread makes dearer by handing
// goroutines between threads (docs/benchmarks.md, "Why the defaults are
// what they are"). It also keeps the agent to one of the user's cores.
// GOMAXPROCS in the environment overrides it.
const procs = 1

func tuneRuntime() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(procs)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// runOptions are run's flags.
type runOptions struct {
	config, pprof, rules string
	stdout               bool
}

func run(o runOptions) error {
	tuneRuntime()
	cfgPath, stdout, pprofAddr, rulesDir := &o.config, &o.stdout, &o.pprof, &o.rules
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	// A collector block publishes to the collector (unless --stdout); the
	// enrolled credentials fix the site and agent id it may publish as.
	pcfg, err := publish.FromConfig(cfg.Rest, cfg.StateDir)
	if err != nil {
		return err
	}
	// Without a collector, events would only reach the journal, where
	// nobody watches them and every user who reads it sees them.
	if pcfg == nil && !*stdout {
		return fmt.Errorf("%s has no collector block: add one with url and creds (docs/deploy.md), or run with --stdout to print events", configName(*cfgPath))
	}
	// A seed others can read lets them publish as this agent.
	if pcfg != nil && pcfg.Creds != "" {
		if c := credsCheck(pcfg.Creds); !c.OK {
			return fmt.Errorf("credentials: %s (fix: %s)", c.Detail, c.Fix)
		}
	}
	if pcfg != nil && pcfg.Identity != nil {
		if err := pcfg.Identity.Bind(cfg.Site, cfg.AgentID); err != nil {
			return err
		}
		cfg.Site, cfg.AgentID = pcfg.Identity.Site, pcfg.Identity.AgentID
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	id := cfg.AgentID
	if id == "" {
		if id, err = agent.LoadAgentID(cfg.StateDir); err != nil {
			return err
		}
	}
	enrolledKey := ""
	if pcfg != nil && pcfg.Identity != nil {
		enrolledKey = pcfg.Identity.DeploymentKey
	}
	red, err := redactor(cfg, enrolledKey, log)
	if err != nil {
		return err
	}
	sensors := sensorsFor(cfg, log)
	var libssl func(uint32)
	var mute func(db.Conn) error
	var dbSensor *db.Sensor
	for _, sn := range sensors {
		if d, ok := sn.(*db.Sensor); ok {
			libssl, mute, dbSensor = d.CheckProcess, d.Mute, d
		}
	}
	var sink agent.Sink
	var pub *publish.Publisher
	var natsServer *agent.NATSServer
	if pcfg != nil && !*stdout {
		natsServer = agent.NewNATSServer(log)
		if pub, err = publish.New(pcfg, publish.Options{Site: cfg.Site, Host: cfg.Host, AgentID: id, Logger: log,
			Connected: natsServer.Connected}); err != nil {
			return err
		}
		defer pub.Close()
		sink = pub
	} else {
		js := agent.NewJSONSink(os.Stdout)
		defer js.Close()
		sink = js
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *rulesDir != "" {
		cfg.RulesDir = *rulesDir
	}
	if *pprofAddr != "" {
		go func() { log.Error("pprof server", "err", http.ListenAndServe(*pprofAddr, nil)) }()
	}
	pinned := ""
	if pcfg != nil && pcfg.Identity != nil {
		pinned = pcfg.Identity.RulesKey
	}
	mode, err := cfg.ResolveRulesMode(pinned)
	if err != nil {
		return err
	}
	host := loadHostRules(ctx, cfg.RulesDir, cfg.StateDir, config.IdentifierNames(cfg), log)
	if mode == config.RulesBundle {
		if err := followBundles(ctx, cfg, pcfg, *stdout, pinned, host, log); err != nil {
			return err
		}
	}
	opts := agent.Options{
		Identity: agent.Identity{Site: cfg.Site, Host: cfg.Host, AgentID: id, Labels: cfg.Labels},
		Version:  version,
		Sensors:  sensors,
		Sink:     sink,
		DB: dbconn.Options{Ports: dbPorts(cfg), Redactor: red, LibSSLCheck: libssl, Mute: mute,
			FoldWindow: config.Duration(cfg.DB.FoldWindow, config.DefaultFoldWindow), Logger: log},
		RingBytes: cfg.RingBufferMiB << 20,
		Logger:    log,
		// Once the probes are attached the agent keeps only what reading
		// /proc takes, and refuses to run on if it cannot drop the rest.
		Started: func(st []sensor.Status) {
			startAttacher(log, dbSensor, st, cfg.KeepUprobeAttach)
			caps.DropOrExit(log, cfg.KeepUprobeAttach)
		},
		NATSServer:   natsServer,
		SelfCheckDir: filepath.Join(cfg.StateDir, "selfcheck"),
	}
	opts.Rules = host
	opts.RuleSetHash = func() string { return host.engine.Set().Hash() }
	a := agent.New(opts)
	host.start(ctx, a.Emit)
	if pub != nil {
		pub.Start(heartbeatSource{a, host})
	}
	log.Info("vigil-agent starting", "version", version, "site", cfg.Site, "host", cfg.Host, "agent_id", id, "boot_id", a.BootID())
	if err := a.Run(ctx); err != nil {
		return err
	}
	st := a.Stats()
	log.Info("vigil-agent stopped, probes detached", "events", st.Events, "kernel_drops", st.KernelDrops)
	return nil
}

// startAttacher hands uprobe attaching to a process of its own before the
// agent drops CAP_SYS_ADMIN, so TLS libraries loaded later are still
// probed. keep_uprobe_attach keeps the capability in the agent instead.
func startAttacher(log *slog.Logger, d *db.Sensor, st []sensor.Status, keep bool) {
	if d == nil || keep || !running(st, d.Name()) {
		return
	}
	pid, err := d.StartAttacher()
	if err != nil {
		log.Error("TLS libraries loaded from now on will not be probed: starting the uprobe attacher", "err", err)
		return
	}
	log.Info("uprobe attacher started", "pid", pid, "keeps", caps.Names(capMask(caps.Attacher)))
}

func running(st []sensor.Status, name string) bool {
	for _, s := range st {
		if s.Name == name {
			return s.Running
		}
	}
	return false
}

func capMask(needs []caps.Need) uint64 {
	var m uint64
	for _, v := range caps.Values(needs) {
		m |= 1 << uint(v)
	}
	return m
}
