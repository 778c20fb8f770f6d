package publish

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/event"
)

// Config is agent.hcl's collector block:
//
//	collector {
//	  url       = "tls://collector.soc.example:4222"
//	  creds     = "/etc/vigil/agent.creds"
//	  spool_dir = "/var/lib/vigil/spool"
//	  linger    = "100ms"
//	}
type Config struct {
	// URL of the NATS server (the collector's embedded one or a leaf node);
	// several may be given separated by commas.
	URL string `hcl:"url"`
	// Creds is the file vigil enrol wrote: site, agent id and NKey seed.
	Creds string `hcl:"creds,optional"`
	// SpoolDir defaults to <state_dir>/spool.
	SpoolDir    string `hcl:"spool_dir,optional"`
	SpoolMaxMiB int64  `hcl:"spool_max_mib,optional"`
	MaxInFlight int    `hcl:"max_in_flight,optional"`
	Heartbeat   string `hcl:"heartbeat,optional"`
	// Linger is how long the sender may hold events back to send them
	// together, in one message, one ack and one wakeup, when it is keeping
	// up:
	// DefaultLinger when empty, "0s" for none, at most MaxLinger. Alerts
	// never wait.
	Linger string `hcl:"linger,optional"`
	// TLSCA verifies the server for tls:// URLs (system roots when empty);
	// TLSCert and TLSKey present a client certificate when the server asks.
	TLSCA   string `hcl:"tls_ca,optional"`
	TLSCert string `hcl:"tls_cert,optional"`
	TLSKey  string `hcl:"tls_key,optional"`

	// Identity is read from Creds.
	Identity *Creds
	// HeartbeatEvery is Heartbeat parsed.
	HeartbeatEvery time.Duration
}

// Defaults.
const (
	DefaultSpoolMaxMiB = 512
	DefaultMaxInFlight = 256
	DefaultHeartbeat   = 10 * time.Second
	// The linger is a ceiling: the sender goes as soon as batchBytes of
	// events is pending, so a fast stream sends sooner whatever the linger
	// and only a trickle waits all of it, in fewer sends and acks, each a
	// wakeup (docs/benchmarks.md, "Why the defaults are what they are"). Alerts never wait, so only events are later.
	DefaultLinger = 100 * time.Millisecond
	MaxLinger     = 100 * time.Millisecond
)

// lingerOf parses Config.Linger.
func lingerOf(s string) (time.Duration, error) {
	if s == "" {
		return DefaultLinger, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > MaxLinger {
		return 0, fmt.Errorf("collector.linger = %q: write a duration from \"0s\" (no linger) to %s, e.g. \"5ms\"", s, MaxLinger)
	}
	return d, nil
}

// Creds is the credentials file vigil enrol writes for one agent.
type Creds struct {
	Site    string `hcl:"site"`
	Host    string `hcl:"host,optional"`
	AgentID string `hcl:"agent_id"`
	Seed    string `hcl:"seed"`
	// DeploymentKey keys identifier hashes; every agent enrolled by one
	// collector gets the same, so hashes match across hosts and sites.
	DeploymentKey string `hcl:"deployment_key,optional"`
	// RulesKey is the collector's rule signing key pinned at enrolment.
	RulesKey string `hcl:"rules_key,optional"`
}

// KeyPair returns the NKey of the credentials.
func (c *Creds) KeyPair() (nkeys.KeyPair, error) {
	kp, err := nkeys.FromSeed([]byte(c.Seed))
	if err != nil {
		return nil, fmt.Errorf("agent credentials: bad seed: %w", err)
	}
	return kp, nil
}

// The summaries of LoadCreds's diagnostics about the file itself, for
// callers that name the credentials apart from the rest of the block.
const (
	CredsUnreadable = "Cannot read agent credentials"
	CredsInvalid    = "Invalid agent credentials"
)

// LoadCreds reads a credentials file: an NKey seed file as NATS tools read
// it (what vigil enrol writes; the site and agent id are then agent.hcl's,
// see Bind), or the HCL file older versions wrote, which names them itself.
func LoadCreds(path string) (*Creds, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: CredsUnreadable, Detail: err.Error()}}
	}
	if !legacyCreds.Match(src) {
		kp, err := nkeys.ParseDecoratedUserNKey(src)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: CredsInvalid,
				Detail: fmt.Sprintf("%s holds no NKey user seed (%v); run vigil enrol again.", path, err)}}
		}
		seed, _ := kp.Seed()
		c := &Creds{Seed: string(seed)}
		if m := deploymentKeyLine.FindSubmatch(src); m != nil {
			c.DeploymentKey = string(m[1])
		}
		if m := rulesKeyLine.FindSubmatch(src); m != nil {
			c.RulesKey = string(m[1])
		}
		return c, nil
	}
	f, diags := hclparse.NewParser().ParseHCL(src, path)
	if diags.HasErrors() {
		return nil, diags
	}
	var c Creds
	if diags = gohcl.DecodeBody(f.Body, nil, &c); diags.HasErrors() {
		return nil, diags
	}
	rng := f.Body.MissingItemRange()
	if !event.ValidToken(c.Site) || !event.ValidToken(c.AgentID) {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: CredsInvalid,
			Detail: "site and agent_id must be letters, digits, '-' or '_'.", Subject: &rng}}
	}
	kp, err := nkeys.FromSeed([]byte(c.Seed))
	if err == nil {
		_, err = kp.PublicKey()
	}
	if err != nil || !bytes.HasPrefix([]byte(c.Seed), []byte("SU")) {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: CredsInvalid,
			Detail: "seed is not an NKey user seed; run vigil enrol again.", Subject: &rng}}
	}
	return &c, nil
}

// deploymentKeyLine is the deployment key vigil enrol writes after the
// seed, where NATS tools, which read the first seed line, ignore it.
var deploymentKeyLine = regexp.MustCompile(`(?m)^deployment_key\s*=\s*"([^"\n]*)"\s*$`)

// rulesKeyLine is the rule signing key vigil enrol writes after it.
var rulesKeyLine = regexp.MustCompile(`(?m)^rules_key\s*=\s*"([^"\n]*)"\s*$`)

// legacyCreds recognises the HCL credentials file by its seed attribute.
var legacyCreds = regexp.MustCompile(`(?m)^\s*seed\s*=`)

// Bind names the identity of a seed file with agent.hcl's site and agent
// id, which must then be set; an HCL credentials file names its own and
// overrides them.
func (c *Creds) Bind(site, agentID string) error {
	if c.AgentID != "" {
		return nil
	}
	if !event.ValidToken(site) || !event.ValidToken(agentID) {
		return fmt.Errorf("agent.hcl must set site and agent_id to those vigil enrol printed for this key (site %q, agent_id %q)", site, agentID)
	}
	c.Site, c.AgentID = site, agentID
	return nil
}

// ParseConfig decodes the collector block from the rest of agent.hcl. It
// returns nil and no diagnostics when there is no collector block.
func ParseConfig(rest hcl.Body, stateDir string) (*Config, hcl.Diagnostics) {
	if rest == nil {
		return nil, nil
	}
	var outer struct {
		Collector *Config  `hcl:"collector,block"`
		Remain    hcl.Body `hcl:",remain"`
	}
	diags := gohcl.DecodeBody(rest, nil, &outer)
	if diags.HasErrors() || outer.Collector == nil {
		return nil, diags
	}
	c := outer.Collector
	if c.SpoolDir == "" {
		c.SpoolDir = filepath.Join(stateDir, "spool")
	}
	if c.SpoolMaxMiB <= 0 {
		c.SpoolMaxMiB = DefaultSpoolMaxMiB
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	c.HeartbeatEvery = DefaultHeartbeat
	if c.Heartbeat != "" {
		d, err := time.ParseDuration(c.Heartbeat)
		if err != nil || d < 100*time.Millisecond {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid heartbeat interval",
				Detail: fmt.Sprintf("collector.heartbeat = %q: write a duration of at least 100ms, e.g. \"10s\".", c.Heartbeat)})
		}
		c.HeartbeatEvery = d
	}
	if _, err := lingerOf(c.Linger); err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid linger", Detail: err.Error() + "."})
	}
	if c.Creds != "" {
		creds, d := LoadCreds(c.Creds)
		diags = append(diags, d...)
		c.Identity = creds
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return c, diags
}

// FromConfig is ParseConfig with diagnostics rendered into an error.
func FromConfig(rest hcl.Body, stateDir string) (*Config, error) {
	c, diags := ParseConfig(rest, stateDir)
	if diags.HasErrors() {
		var buf bytes.Buffer
		hcl.NewDiagnosticTextWriter(&buf, nil, 100, false).WriteDiagnostics(diags)
		return nil, fmt.Errorf("collector block:\n%s", buf.String())
	}
	return c, nil
}
