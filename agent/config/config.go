package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/vigilhq/vigil/agent/sensor/file"
)

// Config is agent.hcl.
type Config struct {
	// Site names the support site (a vendor's office) the host belongs to.
	Site string `hcl:"site,optional"`
	// Host defaults to the host name.
	Host string `hcl:"host,optional"`
	// AgentID defaults to an id generated once and kept in StateDir.
	AgentID  string            `hcl:"agent_id,optional"`
	Labels   map[string]string `hcl:"labels,optional"`
	StateDir string            `hcl:"state_dir,optional"`
	RulesDir string            `hcl:"rules_dir,optional"`
	// RulesMode is where host rules come from: RulesBundle or RulesLocal;
	// empty picks bundle when the enrolled credentials pin a rules key.
	RulesMode string `hcl:"rules_mode,optional"`
	// RingBufferMiB sizes the kernel-to-agent ring buffer.
	RingBufferMiB uint32 `hcl:"ring_buffer_mib,optional"`
	// KeepUprobeAttach keeps CAP_SYS_ADMIN in the agent after start, which
	// then probes TLS libraries loaded later itself instead of through its
	// attacher process. Off by default: it is most of root, in a process
	// that parses untrusted traffic.
	KeepUprobeAttach bool `hcl:"keep_uprobe_attach,optional"`

	Sensors *Sensors `hcl:"sensors,block"`
	File    *File    `hcl:"file,block"`
	Net     *Net     `hcl:"net,block"`
	DB      *DB      `hcl:"db,block"`

	// Rest holds blocks other parts of the agent read (collector, db).
	Rest hcl.Body `hcl:",remain"`
}

// Sensors turns sensors on and off.
type Sensors struct {
	Process *bool `hcl:"process,optional"`
	File    *bool `hcl:"file,optional"`
	Net     *bool `hcl:"net,optional"`
	DB      *bool `hcl:"db,optional"`
}

// File configures the file sensor.
type File struct {
	SkipPrefixes []string `hcl:"skip_prefixes,optional"`
	Interim      string   `hcl:"interim,optional"`
}

// Net configures the network sensor.
type Net struct {
	IncludeLoopback bool   `hcl:"include_loopback,optional"`
	Interim         string `hcl:"interim,optional"`
	UDPInterval     string `hcl:"udp_interval,optional"`
}

// DB configures database capture and what may be kept of statements.
type DB struct {
	// Ports are database server ports (default 5432 and 3306).
	Ports []int `hcl:"ports,optional"`
	// SocketPaths are database server Unix socket paths, a trailing "*"
	// for a port number (default: Debian's and RHEL's, db.DefaultSocketPaths).
	// Connections over other sockets are recognised by their first bytes.
	SocketPaths []string `hcl:"socket_paths,optional"`
	// CaptureBytes of each send or receive (default and most 16384).
	CaptureBytes int `hcl:"capture_bytes,optional"`
	// MaxStatement bytes kept of a redacted statement (default 4096).
	MaxStatement int `hcl:"max_statement,optional"`
	// Redact replaces literal values in statements by "?" (default true).
	Redact *bool `hcl:"redact,optional"`
	// IdentifierColumns are "table.column" or "column" names whose compared
	// values are reported as keyed hashes, e.g. ["customers.id", "email"].
	IdentifierColumns []string `hcl:"identifier_columns,optional"`
	// Identifiers maps an identifier name (its key in db.identifiers, which
	// rules count) to the columns hashed under it; DefaultIdentifiers when
	// left out, none when set to {}.
	Identifiers map[string][]string `hcl:"identifiers,optional"`
	// KeyFile holds the deployment's secret key for those hashes. All agents
	// of a deployment need the same key for hashes to match across hosts.
	KeyFile string `hcl:"key_file,optional"`
	// Views maps a view or synonym to the base tables it reads, so that a
	// read of it reports them in db.tables too, e.g.
	// { customer_directory = ["customers"] }. The database's catalog is
	// not read: only the views named here are known.
	Views map[string][]string `hcl:"views,optional"`
	// FoldWindow: repeats of one statement on one connection within it are
	// reported as one event with db.executions (default "1s"; "0s" reports
	// every run).
	FoldWindow string `hcl:"fold_window,optional"`
}

// DefaultFoldWindow is db.fold_window when the file leaves it out.
const DefaultFoldWindow = time.Second

// MaxFoldWindow bounds db.fold_window: folded runs wait at most this long.
const MaxFoldWindow = time.Minute

// Defaults used when the file leaves a setting out.
const (
	DefaultSite     = "default"
	DefaultStateDir = "/var/lib/vigil"
	DefaultRulesDir = "/etc/vigil/rules"
)

// Rules modes.
const (
	// RulesLocal runs the rule files of rules_dir, as packages install them.
	RulesLocal = "local"
	// RulesBundle runs the signed bundles the collector publishes.
	RulesBundle = "bundle"
)

// ResolveRulesMode is the rules mode the agent runs: the one set, else
// bundle when enrolment pinned a rules key, else local. Bundle mode
// without a key is an error: nothing could be verified.
func (c *Config) ResolveRulesMode(pinnedKey string) (string, error) {
	switch c.RulesMode {
	case "":
		if pinnedKey != "" {
			return RulesBundle, nil
		}
		return RulesLocal, nil
	case RulesBundle:
		if pinnedKey == "" {
			return "", fmt.Errorf("rules_mode = %q needs the rules_key that vigil enrol writes into the credentials; enrol the agent again, or set rules_mode = %q", RulesBundle, RulesLocal)
		}
	}
	return c.RulesMode, nil
}

// Default returns the configuration of an agent with no file.
func Default() *Config {
	c := &Config{}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.Site == "" {
		c.Site = DefaultSite
	}
	if c.Host == "" {
		c.Host, _ = os.Hostname()
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.RulesDir == "" {
		c.RulesDir = DefaultRulesDir
	}
	if c.RingBufferMiB == 0 {
		c.RingBufferMiB = 8
	}
	if c.Sensors == nil {
		c.Sensors = &Sensors{}
	}
	if c.File == nil {
		c.File = &File{}
	}
	if c.File.SkipPrefixes == nil {
		c.File.SkipPrefixes = file.DefaultSkipPrefixes
	}
	if c.Net == nil {
		c.Net = &Net{}
	}
	if c.DB == nil {
		c.DB = &DB{}
	}
	if len(c.DB.Ports) == 0 {
		c.DB.Ports = []int{5432, 3306}
	}
	if c.DB.Identifiers == nil {
		c.DB.Identifiers = DefaultIdentifiers()
	}
}

// On says whether a sensor is enabled; sensors are on unless turned off.
func On(b *bool) bool { return b == nil || *b }

// Load parses and checks an agent.hcl. Errors name file:line:col.
func Load(path string) (*Config, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "reading agent config", Detail: err.Error()}}
	}
	return Parse(path, src)
}

// Parse parses agent.hcl source; filename is used in diagnostics.
func Parse(filename string, src []byte) (*Config, hcl.Diagnostics) {
	f, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, diags
	}
	var c Config
	diags = append(diags, gohcl.DecodeBody(f.Body, nil, &c)...)
	if diags.HasErrors() {
		return nil, diags
	}
	c.setDefaults()
	for _, d := range []struct {
		name, v string
	}{{"file.interim", c.File.Interim}, {"net.interim", c.Net.Interim}, {"net.udp_interval", c.Net.UDPInterval},
		{"db.fold_window", c.DB.FoldWindow}} {
		if d.v == "" {
			continue
		}
		if _, err := time.ParseDuration(d.v); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "invalid duration",
				Detail: fmt.Sprintf("%s = %q: %v (write e.g. \"5s\")", d.name, d.v, err)})
		}
	}
	if d, err := time.ParseDuration(c.DB.FoldWindow); err == nil && (d < 0 || d > MaxFoldWindow) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "invalid fold window",
			Detail: fmt.Sprintf("db.fold_window = %q; it takes \"0s\" (off) to %v", c.DB.FoldWindow, MaxFoldWindow)})
	}
	for _, p := range c.DB.Ports {
		if p <= 0 || p > 65535 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "invalid port",
				Detail: fmt.Sprintf("db.ports has %d; ports are 1 to 65535", p)})
		}
	}
	for _, p := range c.DB.SocketPaths {
		if i := strings.IndexByte(p, '*'); p == "" || len(p) >= 108 || (i >= 0 && i != len(p)-1) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "invalid socket path",
				Detail: fmt.Sprintf("db.socket_paths has %q; a path is shorter than 108 bytes, with at most a trailing * for a port number", p)})
		}
	}
	for view, bases := range c.DB.Views {
		if strings.TrimSpace(view) == "" || len(bases) == 0 || slices.ContainsFunc(bases, func(b string) bool { return strings.TrimSpace(b) == "" }) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "invalid view",
				Detail: fmt.Sprintf("db.views has %q = %q; name each view or synonym with the base tables it reads, e.g. customer_directory = [\"customers\"]", view, bases)})
		}
	}
	if c.RulesMode != "" && c.RulesMode != RulesLocal && c.RulesMode != RulesBundle {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "invalid rules mode",
			Detail: fmt.Sprintf("rules_mode = %q; write %q (signed bundles from the collector) or %q (the files of rules_dir)", c.RulesMode, RulesBundle, RulesLocal)})
	}
	if c.DB.CaptureBytes < 0 || c.DB.CaptureBytes > 16384 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "invalid capture size",
			Detail: fmt.Sprintf("db.capture_bytes = %d; it takes 1 to 16384", c.DB.CaptureBytes)})
	}
	if len(c.File.SkipPrefixes) > 8 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "too many skip prefixes",
			Detail: fmt.Sprintf("file.skip_prefixes has %d entries; the kernel filter takes at most 8", len(c.File.SkipPrefixes))})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return &c, diags
}

// Duration parses a checked duration setting, def when empty.
func Duration(s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return def
	}
	return d
}
