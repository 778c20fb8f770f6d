package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/collector"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `vigil-collector receives vigil agents' events and alerts, correlates them
across sites and serves the SOC.

Usage:
  vigil-collector run [flags]    run the collector (vigil-collector run -h lists flags)
  vigil-collector token add NAME [--role analyst|metrics|admin] [--data DIR]
                                 make an API token and print it (shown once)
  vigil-collector token list [--data DIR]
  vigil-collector token revoke NAME [--data DIR]
  vigil-collector user add NAME [--role analyst|admin] [--data DIR]
                                 make a console user and print a random
                                 password (shown once)
  vigil-collector user list [--data DIR]
  vigil-collector user remove NAME [--data DIR]
  vigil-collector checkpoint-key [--data DIR]
                                 print the public key of the store's signed
                                 checkpoints (vigil verify --public-key)
  vigil-collector version        print the version

By default run starts an embedded NATS server with JetStream on
127.0.0.1:4222 storing under --data, requires enrolled agent keys
(vigil enrol), and serves the console and the API on 127.0.0.1:8080. --nats-url uses an
external NATS cluster instead. SIGINT and SIGTERM stop it.

Every request but /healthz and the console's login page needs a token
(Authorization: Bearer) or a console session. The first start makes an
admin token in DIR/api-token and the console's first admin, with a random
password, in DIR/console-admin (both mode 0600).
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "token":
		err = token(os.Args[2:], os.Stdout)
	case "user":
		err = user(os.Args[2:], os.Stdout)
	case "checkpoint-key":
		err = checkpointKey(os.Args[2:], os.Stdout)
	case "version", "--version", "-version":
		fmt.Println("vigil-collector", version)
	case "help", "--help", "-h":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "vigil-collector: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigil-collector:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	data := fs.String("data", "/var/lib/vigil-collector", "data `directory`: JetStream store, database, enrolled agents")
	listen := fs.String("nats-listen", "127.0.0.1:4222", "embedded NATS listen `address` (0.0.0.0:4222 for remote agents)")
	natsURL := fs.String("nats-url", "", "external NATS cluster `URL`s, comma separated (no embedded server)")
	natsCreds := fs.String("nats-creds", "", "credentials `file` for the external cluster")
	auth := fs.Bool("auth", true, "require enrolled agent NKeys (embedded server)")
	tlsCert := fs.String("tls-cert", "", "server certificate `file` for agents' TLS (embedded); client certificate (external)")
	tlsKey := fs.String("tls-key", "", "key `file` for --tls-cert")
	tlsCA := fs.String("tls-ca", "", "CA `file`: verifies agent client certificates (embedded) or the cluster (external)")
	tlsVerify := fs.Bool("tls-verify", false, "require agents' client certificates signed by --tls-ca")
	replicas := fs.Int("replicas", 1, "stream replicas (3 on a three-node cluster)")
	maxAge := fs.Duration("stream-max-age", 7*24*time.Hour, "how long JetStream keeps messages")
	dedupe := fs.Duration("dedupe-window", 10*time.Minute, "JetStream's duplicate window (the store dedupes beyond it)")
	httpAddr := fs.String("http", "127.0.0.1:8080", "console, API and /metrics listen `address` (empty: off)")
	httpCert := fs.String("http-tls-cert", "", "certificate `file`: serve the console and API over HTTPS")
	httpKey := fs.String("http-tls-key", "", "key `file` for --http-tls-cert")
	noConsole := fs.Bool("no-console", false, "serve the API without the web console")
	rulesDir := fs.String("rules", "/etc/vigil/rules", "correlation rules `directory` (scope = \"global\" rules run here)")
	hostRules := fs.String("host-rules", "", "host rules `directory` shipped to agents: switching to it raises no alert")
	allowed := fs.String("allowed-rule-sets", "", "comma-separated host rule set `hashes` agents may switch to")
	ocsfOut := fs.String("ocsf", "", "append alerts as OCSF Detection Findings to `file` (- for stdout)")
	ocsfWebhook := fs.String("ocsf-webhook", "", "post each OCSF finding to this `URL` (signed: X-Vigil-Signature)")
	ocsfSecret := fs.String("ocsf-webhook-secret", "", "`file` holding the webhook's HMAC secret (16 bytes or more)")
	ocsfSyslog := fs.String("ocsf-syslog", "", "send each OCSF finding as RFC 5424 syslog to `target` (tcp://, tls:// or udp://host:port)")
	printAlerts := fs.Bool("print-alerts", false, "print each new alert on standard error")
	keepEvents := fs.Duration("retain-events", 30*24*time.Hour, "keep events not cited by an alert this long")
	keepAlerts := fs.Duration("retain-alerts", 365*24*time.Hour, "keep alerts, their evidence and loss records this long")
	cpEvery := fs.Duration("checkpoint-every", time.Minute, "sign the store's hash chain this often while it moves (and at shutdown)")
	cpFile := fs.String("checkpoint-file", "", "also append each signed checkpoint as a JSON line to `file` (put it where this host cannot rewrite it)")
	cpCommand := fs.String("checkpoint-command", "", "also run this shell `command` with each checkpoint's JSON line on its standard input")
	grace := fs.Duration("attribution-grace", 20*time.Second, "how long a statement read at a database server waits for its connection's client end to be reported")
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return err
	}
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
		Retention:       store.Retention{Events: *keepEvents, Alerts: *keepAlerts},
		CheckpointEvery: *cpEvery, CheckpointFile: *cpFile, CheckpointCommand: *cpCommand,
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
