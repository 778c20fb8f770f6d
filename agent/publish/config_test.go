package publish

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/agent/config"
	"github.com/vigilhq/vigil/collector/enrol"
)

func TestParseConfigFromAgentHCL(t *testing.T) {
	dir := t.TempDir()
	a, creds, err := enrol.Enrol(filepath.Join(dir, "agents"), "leeds", "ws-a", "")
	if err != nil {
		t.Fatal(err)
	}
	credsPath := filepath.Join(dir, "agent.creds")
	os.WriteFile(credsPath, creds, 0o600)
	src := `
site = "leeds"
agent_id = "` + a.AgentID + `"
collector {
  url       = "nats://127.0.0.1:4222"
  creds     = "` + credsPath + `"
  heartbeat = "5s"
}
`
	cfg, diags := config.Parse("agent.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c, err := FromConfig(cfg.Rest, "/var/lib/vigil")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Identity.Bind(cfg.Site, cfg.AgentID); err != nil {
		t.Fatal(err)
	}
	if c.URL != "nats://127.0.0.1:4222" || c.SpoolDir != "/var/lib/vigil/spool" || c.HeartbeatEvery != 5*time.Second ||
		c.Identity == nil || c.Identity.AgentID != a.AgentID || c.Identity.Site != "leeds" {
		t.Fatalf("config %+v identity %+v", c, c.Identity)
	}
	if _, err := c.Identity.KeyPair(); err != nil {
		t.Fatal(err)
	}

	// Linger: the default when unset, "0s" for none.
	for src, want := range map[string]time.Duration{"": DefaultLinger, "0s": 0, "10ms": 10 * time.Millisecond} {
		got, err := lingerOf(src)
		if err != nil || got != want {
			t.Errorf("linger %q: %s, %v; want %s", src, got, err, want)
		}
	}
	cfg, _ = config.Parse("agent.hcl", []byte("collector {\n url = \"nats://x\"\n linger = \"0s\"\n}"))
	if c, err := FromConfig(cfg.Rest, "/x"); err != nil || c.Linger != "0s" {
		t.Fatalf("linger = \"0s\": %v %v", c, err)
	}

	// No collector block: nil, no error.
	cfg, _ = config.Parse("agent.hcl", []byte(`site = "leeds"`))
	if c, err := FromConfig(cfg.Rest, "/x"); c != nil || err != nil {
		t.Fatalf("no block gave %v %v", c, err)
	}
	// Mistakes are reported with their place.
	for _, bad := range []string{
		`collector { }`,
		"collector {\n url = \"nats://x\"\n heartbeat = \"often\"\n}",
		"collector {\n url = \"nats://x\"\n creds = \"/nonexistent.creds\"\n}",
		"collector {\n url = \"nats://x\"\n linger = \"1s\"\n}",
		"collector {\n url = \"nats://x\"\n linger = \"soon\"\n}",
	} {
		cfg, diags := config.Parse("agent.hcl", []byte(bad))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if _, err := FromConfig(cfg.Rest, "/x"); err == nil || !strings.Contains(err.Error(), "collector block") {
			t.Errorf("%s: err %v", bad, err)
		}
	}
}

// The seed file vigil enrol writes names no agent: agent.hcl must, and an
// agent.hcl that does not is refused with what to add. The HCL credentials
// older versions wrote still load, with the identity they name.
func TestCredsFormats(t *testing.T) {
	dir := t.TempDir()
	_, nk, err := enrol.Enrol(filepath.Join(dir, "agents"), "leeds", "ws-a", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "agent.nk")
	os.WriteFile(path, nk, 0o600)
	c, diags := LoadCreds(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	key, err := os.ReadFile(filepath.Join(dir, enrol.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if c.DeploymentKey == "" || c.DeploymentKey != strings.TrimSpace(string(key)) {
		t.Errorf("seed file gave deployment key %q, want the collector's %q", c.DeploymentKey, key)
	}
	if err := c.Bind("", ""); err == nil || !strings.Contains(err.Error(), "agent_id") {
		t.Errorf("a seed file without agent.hcl's ids: %v", err)
	}
	if err := c.Bind("leeds", "ag-1"); err != nil || c.Site != "leeds" || c.AgentID != "ag-1" {
		t.Errorf("Bind: %v %+v", err, c)
	}

	seed := c.Seed
	legacy := filepath.Join(dir, "agent.creds")
	os.WriteFile(legacy, []byte("site = \"york\"\nhost = \"ws-b\"\nagent_id = \"ag-9\"\nseed = \""+seed+"\"\n"), 0o600)
	c, diags = LoadCreds(legacy)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := c.Bind("leeds", "ag-1"); err != nil || c.Site != "york" || c.AgentID != "ag-9" || c.Seed != seed {
		t.Errorf("legacy credentials: %v %+v", err, c)
	}

	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("not a key\n"), 0o600)
	if _, diags := LoadCreds(junk); !diags.HasErrors() || !strings.Contains(diags.Error(), junk) {
		t.Errorf("a file without a seed: %v", diags)
	}
}

// The rules key vigil enrol writes after the deployment key is read from
// the seed file, where NATS tools ignore it.
func TestCredsRulesKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.nk")
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	src := fmt.Sprintf("-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\ndeployment_key = \"0123456789abcdef0123\"\n\n# comment\nrules_key = \"ed25519:AAAA\"\n", seed)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, diags := LoadCreds(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if c.RulesKey != "ed25519:AAAA" || c.DeploymentKey != "0123456789abcdef0123" {
		t.Fatalf("rules key %q deployment key %q", c.RulesKey, c.DeploymentKey)
	}
}
