package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilhq/vigil/collector"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(cli.Execute(rootCommand(), os.Args[1:], os.Stdout, os.Stderr))
}

// rootCommand is the whole command tree of vigil-collector.
func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil-collector",
		Short: "vigil-collector receives vigil agents' events and alerts, correlates them across sites and serves the SOC",
		Long: `vigil-collector receives vigil agents' events and alerts, correlates them
across sites and serves the SOC.

Exit status: 0 done, 1 failed, 2 the command line was wrong.`,
		Version: version,
	}
	root.SetVersionTemplate("vigil-collector {{.Version}}\n")
	o := runOptions{}
	runCmd := &cobra.Command{
		Use:   "run [flags]",
		Short: "Run the collector",
		Long: `Run the collector.

By default run starts an embedded NATS server with JetStream on
127.0.0.1:4222 storing under --data, requires enrolled agent keys
(vigil enrol), and serves the console and the API on 127.0.0.1:8080.
--nats-url uses an external NATS cluster instead. SIGINT and SIGTERM stop it.

Every request but /healthz and the console's login page needs a token
(Authorization: Bearer) or a console session. The first start makes an
admin token in DIR/api-token and the console's first admin, with a random
password, in DIR/console-admin (both mode 0600).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return run(o) },
	}
	o.flags(runCmd.Flags())
	root.AddCommand(runCmd, tokenCommand(), userCommand(), &cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) { fmt.Fprintln(c.OutOrStdout(), "vigil-collector", version) }})
	cli.Setup(root)
	return root
}

// runOptions are run's flags.
type runOptions struct {
	data, listen, natsURL, natsCreds                 string
	auth, tlsVerify, noConsole, printAlerts, verbose bool
	tlsCert, tlsKey, tlsCA                           string
	replicas                                         int
	maxAge, dedupe, keepEvents, keepAlerts, grace    time.Duration
	httpAddr, httpCert, httpKey                      string
	rulesDir, hostRules, allowed                     string
	ocsfOut, ocsfWebhook, ocsfSecret, ocsfSyslog     string
}

func (o *runOptions) flags(fs *pflag.FlagSet) {
	fs.StringVar(&o.data, "data", "/var/lib/vigil-collector", "data `directory`: JetStream store, database, enrolled agents")
	fs.StringVar(&o.listen, "nats-listen", "127.0.0.1:4222", "embedded NATS listen `address` (0.0.0.0:4222 for remote agents)")
	fs.StringVar(&o.natsURL, "nats-url", "", "external NATS cluster `URL`s, comma separated (no embedded server)")
	fs.StringVar(&o.natsCreds, "nats-creds", "", "credentials `file` for the external cluster")
	fs.BoolVar(&o.auth, "auth", true, "require enrolled agent NKeys (embedded server)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "server certificate `file` for agents' TLS (embedded); client certificate (external)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "key `file` for --tls-cert")
	fs.StringVar(&o.tlsCA, "tls-ca", "", "CA `file`: verifies agent client certificates (embedded) or the cluster (external)")
	fs.BoolVar(&o.tlsVerify, "tls-verify", false, "require agents' client certificates signed by --tls-ca")
	fs.IntVar(&o.replicas, "replicas", 1, "stream replicas (3 on a three-node cluster)")
	fs.DurationVar(&o.maxAge, "stream-max-age", 7*24*time.Hour, "how long JetStream keeps messages")
	fs.DurationVar(&o.dedupe, "dedupe-window", 10*time.Minute, "JetStream's duplicate window (the store dedupes beyond it)")
	fs.StringVar(&o.httpAddr, "http", "127.0.0.1:8080", "console, API and /metrics listen `address` (empty: off)")
	fs.StringVar(&o.httpCert, "http-tls-cert", "", "certificate `file`: serve the console and API over HTTPS")
	fs.StringVar(&o.httpKey, "http-tls-key", "", "key `file` for --http-tls-cert")
	fs.BoolVar(&o.noConsole, "no-console", false, "serve the API without the web console")
	fs.StringVar(&o.rulesDir, "rules", "/etc/vigil/rules", "correlation rules `directory` (scope = \"global\" rules run here)")
	fs.StringVar(&o.hostRules, "host-rules", "", "host rules `directory` shipped to agents: switching to it raises no alert")
	fs.StringVar(&o.allowed, "allowed-rule-sets", "", "comma-separated host rule set `hashes` agents may switch to")
	fs.StringVar(&o.ocsfOut, "ocsf", "", "append alerts as OCSF Detection Findings to `file` (- for stdout)")
	fs.StringVar(&o.ocsfWebhook, "ocsf-webhook", "", "post each OCSF finding to this `URL` (signed: X-Vigil-Signature)")
	fs.StringVar(&o.ocsfSecret, "ocsf-webhook-secret", "", "`file` holding the webhook's HMAC secret (16 bytes or more)")
	fs.StringVar(&o.ocsfSyslog, "ocsf-syslog", "", "send each OCSF finding as RFC 5424 syslog to `target` (tcp://, tls:// or udp://host:port)")
	fs.BoolVar(&o.printAlerts, "print-alerts", false, "print each new alert on standard error")
	fs.DurationVar(&o.keepEvents, "retain-events", 30*24*time.Hour, "keep events not cited by an alert this long")
	fs.DurationVar(&o.keepAlerts, "retain-alerts", 365*24*time.Hour, "keep alerts, their evidence and loss records this long")
	fs.DurationVar(&o.grace, "attribution-grace", 20*time.Second, "how long a statement read at a database server waits for its connection's client end to be reported")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "debug logging")
}

func run(o runOptions) error {
	data, listen, natsURL, natsCreds, auth := &o.data, &o.listen, &o.natsURL, &o.natsCreds, &o.auth
	tlsCert, tlsKey, tlsCA, tlsVerify, replicas := &o.tlsCert, &o.tlsKey, &o.tlsCA, &o.tlsVerify, &o.replicas
	maxAge, dedupe, httpAddr, httpCert, httpKey := &o.maxAge, &o.dedupe, &o.httpAddr, &o.httpCert, &o.httpKey
	noConsole, rulesDir, hostRules, allowed := &o.noConsole, &o.rulesDir, &o.hostRules, &o.allowed
	ocsfOut, ocsfWebhook, ocsfSecret, ocsfSyslog := &o.ocsfOut, &o.ocsfWebhook, &o.ocsfSecret, &o.ocsfSyslog
	printAlerts, keepEvents, keepAlerts, grace, verbose := &o.printAlerts, &o.keepEvents, &o.keepAlerts, &o.grace, &o.verbose
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *rulesDir != "" {
		if _, err := os.Stat(*rulesDir); err != nil {
			log.Warn("no correlation rules", "dir", *rulesDir, "err", err)
			*rulesDir = ""
		}
	}
	cfg := collector.Config{
		Version: version,
		DataDir: *data,
		NATS: bus.Config{URL: *natsURL, Creds: *natsCreds, Listen: *listen, Auth: *auth,
			AgentsDir: filepath.Join(*data, "agents"), TLSCert: *tlsCert, TLSKey: *tlsKey, TLSCA: *tlsCA, TLSVerify: *tlsVerify,
			Replicas: *replicas, MaxAge: *maxAge, Duplicates: *dedupe},
		HTTP: *httpAddr, HTTPCert: *httpCert, HTTPKey: *httpKey, NoConsole: *noConsole, RulesDir: *rulesDir, HostRulesDir: *hostRules,
		OCSF: *ocsfOut, OCSFWebhook: *ocsfWebhook, OCSFSyslog: *ocsfSyslog,
		Retention:        store.Retention{Events: *keepEvents, Alerts: *keepAlerts},
		AttributionGrace: *grace,
		Logger:           log,
	}
	if *ocsfWebhook != "" {
		if *ocsfSecret == "" {
			return fmt.Errorf("--ocsf-webhook needs --ocsf-webhook-secret: receivers check the signature")
		}
		b, err := os.ReadFile(*ocsfSecret)
		if err != nil {
			return fmt.Errorf("reading the webhook secret: %w", err)
		}
		cfg.OCSFWebhookSecret = bytes.TrimSpace(b)
	}
	if *allowed != "" {
		cfg.AllowedRuleSets = strings.Split(*allowed, ",")
	}
	if *printAlerts {
		cfg.AlertsOut = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("vigil-collector starting", "version", version, "data", *data)
	return collector.Run(ctx, cfg)
}
