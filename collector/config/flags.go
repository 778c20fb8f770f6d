package config

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"
)

// Attributes maps each run flag to the collector.hcl attribute it
// overrides; --no-console sets http.console to its opposite.
var Attributes = map[string]string{
	"data": "data_dir", "store": "store", "rules": "rules_dir", "host-rules": "host_rules_dir", "allowed-rule-sets": "allowed_rule_sets",
	"print-alerts": "print_alerts", "verbose": "verbose", "attribution-grace": "attribution_grace",
	"bundle-grace": "bundle_grace",
	"nats-listen":  "nats.listen", "nats-url": "nats.urls", "nats-creds": "nats.creds", "auth": "nats.auth",
	"tls-cert": "nats.tls_cert", "tls-key": "nats.tls_key", "tls-ca": "nats.tls_ca", "tls-verify": "nats.tls_verify",
	"replicas": "nats.replicas", "stream-max-age": "nats.stream_max_age", "dedupe-window": "nats.dedupe_window",
	"http": "http.listen", "http-tls-cert": "http.tls_cert", "http-tls-key": "http.tls_key", "no-console": "http.console",
	"ocsf": "ocsf.file", "ocsf-webhook": "ocsf.webhook", "ocsf-webhook-secret": "ocsf.webhook_secret_file",
	"ocsf-syslog": "ocsf.syslog", "retain-events": "retention.events", "retain-alerts": "retention.alerts",
	"collector-id": "correlation.collector_id", "partitions": "correlation.partitions",
	"lease-ttl": "correlation.lease_ttl", "correlation-replay": "correlation.replay",
	"checkpoint-every": "checkpoint.every", "checkpoint-file": "checkpoint.file", "checkpoint-command": "checkpoint.command",
}

// Flags binds run's flags to c, whose values are their defaults.
func (c *Config) Flags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data `directory`: JetStream store, database, enrolled agents")
	fs.StringVar(&c.Store, "store", c.Store, "alerts and events `store`: postgres://user@host/db, or a SQLite file (default vigil.db in --data)")
	fs.StringVar(&c.NATS.Listen, "nats-listen", c.NATS.Listen, "embedded NATS listen `address` (0.0.0.0:4222 for remote agents)")
	fs.StringSliceVar(&c.NATS.URLs, "nats-url", c.NATS.URLs, "external NATS cluster `URL`s, comma separated (no embedded server)")
	fs.StringVar(&c.NATS.Creds, "nats-creds", c.NATS.Creds, "credentials `file` for the external cluster")
	fs.BoolVar(&c.NATS.Auth, "auth", c.NATS.Auth, "require enrolled agent NKeys (embedded server)")
	fs.StringVar(&c.NATS.TLSCert, "tls-cert", c.NATS.TLSCert, "server certificate `file` for agents' TLS (embedded); client certificate (external)")
	fs.StringVar(&c.NATS.TLSKey, "tls-key", c.NATS.TLSKey, "key `file` for --tls-cert")
	fs.StringVar(&c.NATS.TLSCA, "tls-ca", c.NATS.TLSCA, "CA `file`: verifies agent client certificates (embedded) or the cluster (external)")
	fs.BoolVar(&c.NATS.TLSVerify, "tls-verify", c.NATS.TLSVerify, "require agents' client certificates signed by --tls-ca")
	fs.IntVar(&c.NATS.Replicas, "replicas", c.NATS.Replicas, "stream replicas (3 on a three-node cluster)")
	fs.DurationVar(&c.NATS.MaxAge, "stream-max-age", c.NATS.MaxAge, "how long JetStream keeps messages")
	fs.DurationVar(&c.NATS.Dedupe, "dedupe-window", c.NATS.Dedupe, "JetStream's duplicate window (the store dedupes beyond it)")
	fs.StringVar(&c.HTTP.Listen, "http", c.HTTP.Listen, "console, API and /metrics listen `address` (empty: off)")
	fs.StringVar(&c.HTTP.TLSCert, "http-tls-cert", c.HTTP.TLSCert, "certificate `file`: serve the console and API over HTTPS")
	fs.StringVar(&c.HTTP.TLSKey, "http-tls-key", c.HTTP.TLSKey, "key `file` for --http-tls-cert")
	fs.Var(notValue{&c.HTTP.Console}, "no-console", "serve the API without the web console")
	fs.Lookup("no-console").NoOptDefVal = "true"
	fs.StringVar(&c.RulesDir, "rules", c.RulesDir, "correlation rules `directory` (scope = \"global\" rules run here)")
	fs.StringVar(&c.HostRulesDir, "host-rules", c.HostRulesDir, "host rules `directory` shipped to agents: switching to it raises no alert")
	fs.StringSliceVar(&c.AllowedRuleSets, "allowed-rule-sets", c.AllowedRuleSets, "comma-separated host rule set `hashes` agents may switch to")
	fs.StringVar(&c.OCSF.File, "ocsf", c.OCSF.File, "append alerts as OCSF Detection Findings to `file` (- for stdout)")
	fs.StringVar(&c.OCSF.Webhook, "ocsf-webhook", c.OCSF.Webhook, "post each OCSF finding to this `URL` (signed: X-Vigil-Signature)")
	fs.StringVar(&c.OCSF.WebhookSecretFile, "ocsf-webhook-secret", c.OCSF.WebhookSecretFile, "`file` holding the webhook's HMAC secret (16 bytes or more)")
	fs.StringVar(&c.OCSF.Syslog, "ocsf-syslog", c.OCSF.Syslog, "send each OCSF finding as RFC 5424 syslog to `target` (tcp://, tls:// or udp://host:port)")
	fs.BoolVar(&c.PrintAlerts, "print-alerts", c.PrintAlerts, "print each new alert on standard error")
	fs.DurationVar(&c.Retention.Events, "retain-events", c.Retention.Events, "keep events not cited by an alert this long")
	fs.DurationVar(&c.Retention.Alerts, "retain-alerts", c.Retention.Alerts, "keep alerts, their evidence and loss records this long")
	fs.DurationVar(&c.Checkpoint.Every, "checkpoint-every", c.Checkpoint.Every, "sign the store's hash chain this often while it moves (and at shutdown)")
	fs.StringVar(&c.Checkpoint.File, "checkpoint-file", c.Checkpoint.File, "also append each signed checkpoint as a JSON line to `file` (put it where this host cannot rewrite it)")
	fs.StringVar(&c.Checkpoint.Command, "checkpoint-command", c.Checkpoint.Command, "also run this shell `command` with each checkpoint's JSON line on its standard input")
	fs.DurationVar(&c.AttributionGrace, "attribution-grace", c.AttributionGrace, "how long a statement read at a database server waits for its connection's client end to be reported")
	fs.DurationVar(&c.BundleGrace, "bundle-grace", c.BundleGrace, "how long an agent may run another rule bundle than its site's current one before it is an alert")
	fs.StringVar(&c.Correlation.CollectorID, "collector-id", c.Correlation.CollectorID, "this collector's `name` among several (default: the host name)")
	fs.IntVar(&c.Correlation.Partitions, "partitions", c.Correlation.Partitions, "share the correlation rules' groups among the collectors in this many partitions (0: this collector runs them all; the same number on every collector)")
	fs.DurationVar(&c.Correlation.LeaseTTL, "lease-ttl", c.Correlation.LeaseTTL, "how long a dead collector's partitions wait before moving to the others")
	fs.DurationVar(&c.Correlation.Replay, "correlation-replay", c.Correlation.Replay, "how far back a collector taking a partition rebuilds its windows (the longest window or more)")
	fs.BoolVarP(&c.Verbose, "verbose", "v", c.Verbose, "debug logging")
	for name, attr := range Attributes {
		if f := fs.Lookup(name); f != nil {
			f.Usage += " [collector.hcl: " + attr + "]"
		}
	}
}

// Override sets on c every flag given on the command line fs parsed, so
// that a flag wins over the file even when it repeats the default.
func (c *Config) Override(fs *pflag.FlagSet) error {
	into := pflag.NewFlagSet("override", pflag.ContinueOnError)
	c.Flags(into)
	var err error
	fs.Visit(func(f *pflag.Flag) {
		dst := into.Lookup(f.Name)
		if dst == nil || err != nil {
			return
		}
		if s, ok := f.Value.(pflag.SliceValue); ok {
			err = dst.Value.(pflag.SliceValue).Replace(s.GetSlice())
		} else {
			err = dst.Value.Set(f.Value.String())
		}
		if err != nil {
			err = fmt.Errorf("applying --%s over the config file: %w", f.Name, err)
		}
	})
	return err
}

// notValue is a boolean flag that sets the opposite of *b.
type notValue struct{ b *bool }

func (v notValue) String() string {
	if v.b == nil {
		return "false"
	}
	return fmt.Sprint(!*v.b)
}

func (v notValue) Set(s string) error {
	on, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	*v.b = !on
	return nil
}

func (v notValue) Type() string { return "bool" }
