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

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilhq/vigil/collector"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/config"
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
	flags := config.Default()
	var cfgPath string
	var check bool
	runCmd := &cobra.Command{
		Use:   "run [flags]",
		Short: "Run the collector",
		Long: `Run the collector, set by the file --config names (collector.hcl; see
/etc/vigil/collector.hcl) and the flags, which win over the file. Without
--config only the flags and the defaults apply.

By default run starts an embedded NATS server with JetStream on
127.0.0.1:4222 storing under --data, requires enrolled agent keys
(vigil enrol), and serves the console and the API on 127.0.0.1:8080.
--nats-url uses an external NATS cluster instead. SIGINT and SIGTERM stop it.

Every request but /healthz and the console's login page needs a token
(Authorization: Bearer) or a console session. The first start makes an
admin token in DIR/api-token and the console's first admin, with a random
password, in DIR/console-admin (both mode 0600).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := settings(cfgPath, flags, c.Flags())
			if err != nil {
				return err
			}
			if check {
				fmt.Fprintf(c.OutOrStdout(), "ok: %s with the flags given\n", orFlagsOnly(cfgPath))
				return nil
			}
			return run(cfg)
		},
	}
	runCmd.Flags().StringVar(&cfgPath, "config", "", "collector.hcl `file` (flags given as well win over it)")
	runCmd.Flags().BoolVar(&check, "check", false, "check the file and flags, then exit without starting")
	_ = runCmd.MarkFlagFilename("config", "hcl")
	flags.Flags(runCmd.Flags())
	root.AddCommand(runCmd, tokenCommand(), userCommand(), checkpointKeyCommand(), natsConfigCommand(), &cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) { fmt.Fprintln(c.OutOrStdout(), "vigil-collector", version) }})
	cli.Setup(root)
	return root
}

// settings is what run is set to: the file at path (if any) with the
// flags given on the command line fs parsed over it, or the flags alone.
func settings(path string, flags *config.Config, fs *pflag.FlagSet) (*config.Config, error) {
	if path == "" {
		return flags, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.Override(fs); err != nil {
		return nil, err
	}
	return cfg, nil
}

func orFlagsOnly(path string) string {
	if path == "" {
		return "no config file"
	}
	return path
}

func run(c *config.Config) error {
	level := slog.LevelInfo
	if c.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	rulesDir := c.RulesDir
	if rulesDir != "" {
		if _, err := os.Stat(rulesDir); err != nil {
			log.Warn("no correlation rules", "dir", rulesDir, "err", err)
			rulesDir = ""
		}
	}
	n := c.NATS
	cfg := collector.Config{
		Version: version,
		DataDir: c.DataDir,
		Store:   c.Store,
		NATS: bus.Config{URL: strings.Join(n.URLs, ","), Creds: n.Creds, Listen: n.Listen, Auth: n.Auth,
			AgentsDir: filepath.Join(c.DataDir, "agents"), TLSCert: n.TLSCert, TLSKey: n.TLSKey, TLSCA: n.TLSCA, TLSVerify: n.TLSVerify,
			Replicas: n.Replicas, MaxAge: n.MaxAge, Duplicates: n.Dedupe},
		HTTP: c.HTTP.Listen, HTTPCert: c.HTTP.TLSCert, HTTPKey: c.HTTP.TLSKey, NoConsole: !c.HTTP.Console,
		RulesDir: rulesDir, HostRulesDir: c.HostRulesDir, AllowedRuleSets: c.AllowedRuleSets,
		OCSF: c.OCSF.File, OCSFWebhook: c.OCSF.Webhook, OCSFSyslog: c.OCSF.Syslog,
		Retention:       store.Retention{Events: c.Retention.Events, Alerts: c.Retention.Alerts},
		CheckpointEvery: c.Checkpoint.Every, CheckpointFile: c.Checkpoint.File, CheckpointCommand: c.Checkpoint.Command,
		AttributionGrace: c.AttributionGrace,
		BundleGrace:      c.BundleGrace,
		Partitions:       c.Correlation.Partitions, CollectorID: c.Correlation.CollectorID,
		LeaseTTL: c.Correlation.LeaseTTL, CorrelationReplay: c.Correlation.Replay,
		Logger: log,
	}
	if c.OCSF.Webhook != "" {
		if c.OCSF.WebhookSecretFile == "" {
			return fmt.Errorf("--ocsf-webhook (ocsf.webhook) needs --ocsf-webhook-secret (ocsf.webhook_secret_file): receivers check the signature")
		}
		b, err := os.ReadFile(c.OCSF.WebhookSecretFile)
		if err != nil {
			return fmt.Errorf("reading the webhook secret: %w", err)
		}
		cfg.OCSFWebhookSecret = bytes.TrimSpace(b)
	}
	if c.PrintAlerts {
		cfg.AlertsOut = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("vigil-collector starting", "version", version, "data", c.DataDir)
	return collector.Run(ctx, cfg)
}
