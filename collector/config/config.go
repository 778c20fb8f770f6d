package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Config is what vigil-collector run is set to, from collector.hcl and
// flags.
type Config struct {
	DataDir string
	// Store is where the collector keeps alerts and events: a
	// postgres:// URL, or a SQLite file; empty is vigil.db in DataDir.
	Store            string
	RulesDir         string
	HostRulesDir     string
	AllowedRuleSets  []string
	PrintAlerts      bool
	Verbose          bool
	AttributionGrace time.Duration
	BundleGrace      time.Duration

	NATS        NATS
	HTTP        HTTP
	OCSF        OCSF
	Retention   Retention
	Checkpoint  Checkpoint
	Correlation Correlation
}

// Correlation is the correlation block: several collectors sharing the
// correlation rules' groups (docs/deploy.md, Several collectors).
type Correlation struct {
	// CollectorID names this collector among the others (default: the
	// host name).
	CollectorID string
	// Partitions splits the rules' groups among the collectors; 0 runs
	// every group in this collector, as one collector alone does.
	Partitions int
	LeaseTTL   time.Duration
	Replay     time.Duration
}

// NATS is the nats block: the embedded server, or an external cluster.
type NATS struct {
	Listen    string
	URLs      []string
	Creds     string
	Auth      bool
	TLSCert   string
	TLSKey    string
	TLSCA     string
	TLSVerify bool
	Replicas  int
	MaxAge    time.Duration
	Dedupe    time.Duration
}

// HTTP is the http block: the console, API and /metrics.
type HTTP struct {
	Listen  string
	TLSCert string
	TLSKey  string
	Console bool
}

// OCSF is the ocsf block: where alerts go as OCSF Detection Findings.
type OCSF struct {
	File              string
	Webhook           string
	WebhookSecretFile string
	Syslog            string
}

// Retention is the retention block.
type Retention struct {
	Events time.Duration
	Alerts time.Duration
}

// Checkpoint is the checkpoint block: how often the store's hash chain is
// signed, and where the signed checkpoints go besides the store and NATS.
type Checkpoint struct {
	Every   time.Duration
	File    string
	Command string
}

// Default is the configuration with no file and no flags.
func Default() *Config {
	return &Config{
		DataDir:          "/var/lib/vigil-collector",
		RulesDir:         "/etc/vigil/rules",
		AttributionGrace: 20 * time.Second,
		BundleGrace:      2 * time.Minute,
		NATS: NATS{Listen: "127.0.0.1:4222", Auth: true, Replicas: 1,
			MaxAge: 7 * 24 * time.Hour, Dedupe: 10 * time.Minute},
		HTTP:        HTTP{Listen: "127.0.0.1:8080", Console: true},
		Retention:   Retention{Events: 30 * 24 * time.Hour, Alerts: 365 * 24 * time.Hour},
		Checkpoint:  Checkpoint{Every: time.Minute},
		Correlation: Correlation{LeaseTTL: 10 * time.Second, Replay: 24 * time.Hour},
	}
}

// file is collector.hcl as written; a nil field was left out and keeps
// the default.
type file struct {
	DataDir          *string   `hcl:"data_dir,optional"`
	Store            *string   `hcl:"store,optional"`
	RulesDir         *string   `hcl:"rules_dir,optional"`
	HostRulesDir     *string   `hcl:"host_rules_dir,optional"`
	AllowedRuleSets  *[]string `hcl:"allowed_rule_sets,optional"`
	PrintAlerts      *bool     `hcl:"print_alerts,optional"`
	Verbose          *bool     `hcl:"verbose,optional"`
	AttributionGrace *string   `hcl:"attribution_grace,optional"`
	BundleGrace      *string   `hcl:"bundle_grace,optional"`

	NATS *struct {
		Listen    *string   `hcl:"listen,optional"`
		URLs      *[]string `hcl:"urls,optional"`
		Creds     *string   `hcl:"creds,optional"`
		Auth      *bool     `hcl:"auth,optional"`
		TLSCert   *string   `hcl:"tls_cert,optional"`
		TLSKey    *string   `hcl:"tls_key,optional"`
		TLSCA     *string   `hcl:"tls_ca,optional"`
		TLSVerify *bool     `hcl:"tls_verify,optional"`
		Replicas  *int      `hcl:"replicas,optional"`
		MaxAge    *string   `hcl:"stream_max_age,optional"`
		Dedupe    *string   `hcl:"dedupe_window,optional"`
	} `hcl:"nats,block"`
	HTTP *struct {
		Listen  *string `hcl:"listen,optional"`
		TLSCert *string `hcl:"tls_cert,optional"`
		TLSKey  *string `hcl:"tls_key,optional"`
		Console *bool   `hcl:"console,optional"`
	} `hcl:"http,block"`
	OCSF *struct {
		File              *string `hcl:"file,optional"`
		Webhook           *string `hcl:"webhook,optional"`
		WebhookSecretFile *string `hcl:"webhook_secret_file,optional"`
		Syslog            *string `hcl:"syslog,optional"`
	} `hcl:"ocsf,block"`
	Retention *struct {
		Events *string `hcl:"events,optional"`
		Alerts *string `hcl:"alerts,optional"`
	} `hcl:"retention,block"`
	Checkpoint *struct {
		Every   *string `hcl:"every,optional"`
		File    *string `hcl:"file,optional"`
		Command *string `hcl:"command,optional"`
	} `hcl:"checkpoint,block"`
	Correlation *struct {
		CollectorID *string `hcl:"collector_id,optional"`
		Partitions  *int    `hcl:"partitions,optional"`
		LeaseTTL    *string `hcl:"lease_ttl,optional"`
		Replay      *string `hcl:"replay,optional"`
	} `hcl:"correlation,block"`
}

// Load reads collector.hcl at path over the defaults. Its error names
// file:line:column and what is wrong there.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the collector config: %w", err)
	}
	return Parse(path, src)
}

// Parse reads collector.hcl source over the defaults; filename is named
// in errors.
func Parse(filename string, src []byte) (*Config, error) {
	parsed, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	var f file
	if diags := gohcl.DecodeBody(parsed.Body, nil, &f); diags.HasErrors() {
		return nil, diagError(diags)
	}
	body := parsed.Body.(*hclsyntax.Body)
	c := Default()
	var errs hcl.Diagnostics
	str := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	boolean := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	// duration parses the attribute at block.name, pointing at it when it
	// is not a duration of at least min.
	duration := func(dst *time.Duration, v *string, block, name string, min time.Duration) {
		if v == nil {
			return
		}
		d, err := time.ParseDuration(*v)
		if err == nil && d < min {
			err = fmt.Errorf("it is at least %v", min)
		}
		if err != nil {
			errs = append(errs, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid duration",
				Detail:  fmt.Sprintf("%s = %q: %v (write e.g. \"720h\" or \"10m\")", qualified(block, name), *v, err),
				Subject: attrRange(body, block, name)})
			return
		}
		*dst = d
	}
	str(&c.DataDir, f.DataDir)
	str(&c.Store, f.Store)
	if err := checkStore(c.Store); err != nil {
		errs = append(errs, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid store", Detail: err.Error(), Subject: attrRange(body, "", "store")})
	}
	str(&c.RulesDir, f.RulesDir)
	str(&c.HostRulesDir, f.HostRulesDir)
	if f.AllowedRuleSets != nil {
		c.AllowedRuleSets = *f.AllowedRuleSets
	}
	boolean(&c.PrintAlerts, f.PrintAlerts)
	boolean(&c.Verbose, f.Verbose)
	duration(&c.AttributionGrace, f.AttributionGrace, "", "attribution_grace", 0)
	duration(&c.BundleGrace, f.BundleGrace, "", "bundle_grace", 0)
	if n := f.NATS; n != nil {
		str(&c.NATS.Listen, n.Listen)
		if n.URLs != nil {
			c.NATS.URLs = *n.URLs
		}
		str(&c.NATS.Creds, n.Creds)
		boolean(&c.NATS.Auth, n.Auth)
		str(&c.NATS.TLSCert, n.TLSCert)
		str(&c.NATS.TLSKey, n.TLSKey)
		str(&c.NATS.TLSCA, n.TLSCA)
		boolean(&c.NATS.TLSVerify, n.TLSVerify)
		if n.Replicas != nil {
			if *n.Replicas < 1 || *n.Replicas > 5 {
				errs = append(errs, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid replicas",
					Detail: fmt.Sprintf("nats.replicas = %d; JetStream takes 1 to 5", *n.Replicas), Subject: attrRange(body, "nats", "replicas")})
			}
			c.NATS.Replicas = *n.Replicas
		}
		duration(&c.NATS.MaxAge, n.MaxAge, "nats", "stream_max_age", time.Minute)
		duration(&c.NATS.Dedupe, n.Dedupe, "nats", "dedupe_window", time.Second)
	}
	if h := f.HTTP; h != nil {
		str(&c.HTTP.Listen, h.Listen)
		str(&c.HTTP.TLSCert, h.TLSCert)
		str(&c.HTTP.TLSKey, h.TLSKey)
		boolean(&c.HTTP.Console, h.Console)
	}
	if o := f.OCSF; o != nil {
		str(&c.OCSF.File, o.File)
		str(&c.OCSF.Webhook, o.Webhook)
		str(&c.OCSF.WebhookSecretFile, o.WebhookSecretFile)
		str(&c.OCSF.Syslog, o.Syslog)
	}
	if r := f.Retention; r != nil {
		duration(&c.Retention.Events, r.Events, "retention", "events", time.Hour)
		duration(&c.Retention.Alerts, r.Alerts, "retention", "alerts", time.Hour)
	}
	if cp := f.Checkpoint; cp != nil {
		duration(&c.Checkpoint.Every, cp.Every, "checkpoint", "every", time.Second)
		str(&c.Checkpoint.File, cp.File)
		str(&c.Checkpoint.Command, cp.Command)
	}
	if cr := f.Correlation; cr != nil {
		str(&c.Correlation.CollectorID, cr.CollectorID)
		if cr.Partitions != nil {
			if *cr.Partitions < 0 || *cr.Partitions > MaxPartitions {
				errs = append(errs, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid partitions",
					Detail:  fmt.Sprintf("correlation.partitions = %d; use 0 (one collector runs every group) to %d", *cr.Partitions, MaxPartitions),
					Subject: attrRange(body, "correlation", "partitions")})
			}
			c.Correlation.Partitions = *cr.Partitions
		}
		duration(&c.Correlation.LeaseTTL, cr.LeaseTTL, "correlation", "lease_ttl", time.Second)
		duration(&c.Correlation.Replay, cr.Replay, "correlation", "replay", time.Minute)
	}
	if errs.HasErrors() {
		return nil, diagError(errs)
	}
	return c, nil
}

// MaxPartitions bounds correlation.partitions: each owned partition runs
// its own engines over every input.
const MaxPartitions = 256

// checkStore says what is wrong with a store setting, if anything.
func checkStore(s string) error {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return nil // a file
	}
	if scheme != "postgres" && scheme != "postgresql" {
		return fmt.Errorf("store = %q: a store is a postgres:// URL or a SQLite file path, not %s://", redactedURL(s), scheme)
	}
	if _, err := url.Parse(s); err != nil {
		return fmt.Errorf("store = %q is not a URL: write postgres://user@host:5432/database?sslmode=verify-full", redactedURL(s))
	}
	return nil
}

// redactedURL is u without its password, for messages.
func redactedURL(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	if at := strings.LastIndex(u, "@"); at >= 0 {
		return "…" + u[at:]
	}
	return u
}

func qualified(block, name string) string {
	if block == "" {
		return name
	}
	return block + "." + name
}

// attrRange is where block.name (name at the top when block is empty) is
// written.
func attrRange(body *hclsyntax.Body, block, name string) *hcl.Range {
	if block != "" {
		for _, b := range body.Blocks {
			if b.Type == block {
				body = b.Body
			}
		}
	}
	if a, ok := body.Attributes[name]; ok {
		r := a.SrcRange
		return &r
	}
	return nil
}

// diagError is diags as one error, a line each, each starting with
// file:line:column.
func diagError(diags hcl.Diagnostics) error {
	var errs []error
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}
