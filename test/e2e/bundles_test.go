package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/rulesync"
	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

const bundleMarkerRule = `rule "bundle_e2e_marker" {
  severity    = "low"
  description = "A program the test runs to show the published bundle in force."
  when        = kind == "process.exec" && process.comm == "vigil-bn-mark"
}

test "the marker" {
  events = [{ kind = "process.exec", process = { comm = "vigil-bn-mark" } }]
  expect "bundle_e2e_marker" { count = 1 }
}
`

// A bundle published with vigil rules publish reaches an agent enrolled
// with vigil enrol and packaged defaults (no rules_mode set): its
// heartbeat says it runs the bundle, and the bundle's rule fires on the
// host. Restarted while the collector is down, the agent runs the kept
// bundle: the rule's alert of a run during the outage arrives once the
// collector is back. Before, agents ran only /etc/vigil/rules.
func TestPublishedBundleRunsOnTheAgent(t *testing.T) {
	testkernel.RequireRoot(t)
	data := t.TempDir()
	port := testproc.FreePort(t)
	c := startCollector(t, data, port)
	localDir := t.TempDir() // the package's rules: none of the bundle's
	creds, id := enrolCLI(t, data, "leeds", "ws-bundle-01")
	cfg := packagedAgent(t, t.TempDir(), "leeds", "ws-bundle-01", id, localDir, c.NATS, creds)
	a := startAgentProcess(t, cfg, 4)
	c.heartbeatOf(t, id, "", func(hb *event.Heartbeat) error {
		if hb.RulesMode != "bundle" || hb.BundleVersion != 0 {
			return fmt.Errorf("heartbeat rules mode %q bundle %d, want bundle mode and none yet", hb.RulesMode, hb.BundleVersion)
		}
		return nil
	})

	bundleDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(bundleDir, "marker.hcl"), []byte(bundleMarkerRule), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(vigilCLI(t), "rules", "publish", "--site", "leeds", "--data", data, "--agent-config", cfg, bundleDir).CombinedOutput()
	if err != nil {
		t.Fatalf("vigil rules publish: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`published bundle (\d+) for site leeds: 1 files, hash (\w+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("vigil rules publish said:\n%s", out)
	}
	c.heartbeatOf(t, id, "", func(hb *event.Heartbeat) error {
		if fmt.Sprint(hb.BundleVersion) != m[1] || !strings.HasPrefix(hb.RuleSetHash, m[2]) || hb.BundleRefused != "" {
			return fmt.Errorf("heartbeat bundle %d rule set %q refused %q, want bundle %s with hash %s", hb.BundleVersion, hb.RuleSetHash, hb.BundleRefused, m[1], m[2])
		}
		return nil
	})
	marker := filepath.Join(t.TempDir(), "vigil-bn-mark")
	if out, err := exec.Command("cp", "/bin/true", marker).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	mark := func(boot string) {
		t.Helper()
		if out, err := exec.Command(marker).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		c.agentAlert(t, "bundle_e2e_marker", id, boot, func(*event.Alert) error { return nil })
	}
	mark(bootOf(t, a))

	c.Stop(syscall.SIGTERM, 10*time.Second)
	a.Stop(syscall.SIGTERM, 30*time.Second)
	a = startAgentProcess(t, cfg, 4)
	boot := bootOf(t, a)
	if !strings.Contains(a.Log(), "host rules from bundle") {
		t.Fatalf("the agent restarted without the collector does not run the kept bundle:\n%s", testproc.Tail(a.Log(), 3000))
	}
	if out, err := exec.Command(marker).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	c = startCollector(t, data, port)
	c.agentAlert(t, "bundle_e2e_marker", id, boot, func(*event.Alert) error { return nil })
	// Following bundles needs nothing the agent's key is refused.
	for _, al := range c.alertsFor(t, "vigil_nats_permission_violation", "") {
		if al.Event.AgentID == id {
			t.Errorf("the agent's key was refused something: %s", al.Event.Alert.Summary)
		}
	}
}

// An agent running a bundle that carries the current version but not the
// content the collector published under it (signed with the site's key,
// as a leaked key or a second publisher would: the agent's check of the
// signature passes) raises the not-current alert at once, naming both
// hashes. Before, the collector took the agent's version at its word.
func TestBundleWithPublishedVersionButOtherContentAlerts(t *testing.T) {
	testkernel.RequireRoot(t)
	data := t.TempDir()
	port := testproc.FreePort(t)
	c := startCollector(t, data, port)
	creds, id := enrolCLI(t, data, "leeds", "ws-bundle-02")
	agentDir := t.TempDir()
	cfg := packagedAgent(t, agentDir, "leeds", "ws-bundle-02", id, t.TempDir(), c.NATS, creds)
	a := startAgentProcess(t, cfg, 4)

	bundleDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(bundleDir, "marker.hcl"), []byte(bundleMarkerRule), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(vigilCLI(t), "rules", "publish", "--site", "leeds", "--data", data, "--agent-config", cfg, bundleDir).CombinedOutput()
	if err != nil {
		t.Fatalf("vigil rules publish: %v\n%s", err, out)
	}
	var published *event.Heartbeat
	c.heartbeatOf(t, id, "", func(hb *event.Heartbeat) error {
		if hb.BundleVersion == 0 || hb.BundleHash == "" {
			return fmt.Errorf("heartbeat bundle %d hash %q, waiting for the published bundle", hb.BundleVersion, hb.BundleHash)
		}
		published = hb
		return nil
	})
	a.Stop(syscall.SIGTERM, 30*time.Second)

	// The same version, other rules, signed with the collector's key, left
	// where the agent keeps its last good bundle.
	set, diags := rules.Load(rules.Source{Name: "other.hcl", Data: []byte(strings.ReplaceAll(bundleMarkerRule, "vigil-bn-mark", "vigil-bn-other"))})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	key, err := bundles.SigningKey(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.New("leeds", published.BundleVersion, set, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forged, err := bundle.Sign(key, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(agentDir, "state", rulesync.FileName), forged, 0o600); err != nil {
		t.Fatal(err)
	}
	startAgentProcess(t, cfg, 4)
	restarted := time.Now()
	got := c.agentAlert(t, "vigil_rule_bundle_not_current", id, "", func(al *event.Alert) error {
		if !strings.Contains(al.Summary, bundle.Digest(forged)[:12]) || !strings.Contains(al.Summary, published.BundleHash[:12]) {
			return fmt.Errorf("alert %q names not both hashes", al.Summary)
		}
		return nil
	})
	if got.Alert.Severity != event.SeverityHigh {
		t.Fatalf("alert %q at %s, want high", got.Alert.Summary, got.Alert.Severity)
	}
	t.Logf("alert %v after the agent's sensors ran: %s", time.Since(restarted).Round(time.Millisecond), got.Alert.Summary)
}
