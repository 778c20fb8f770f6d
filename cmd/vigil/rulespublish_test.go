package main

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/rules/bundle"
)

const passingRule = `rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}

test "pg_dump" {
  events = [{ kind = "process.exec", process = { comm = "pg_dump" } }]
  expect "dump" { count = 1 }
}
`

// Rules that do not compile or fail their tests are never published;
// those that pass are signed with the data directory's key at a version
// above every earlier one, whichever site it was for.
func TestRulesPublish(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	cfg := filepath.Join(t.TempDir(), "agent.hcl")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "r.hcl", strings.Replace(passingRule, "count = 1", "count = 2", 1))
	code, stdout, _ := runCLI("rules", "publish", "--site", "lisbon", "--data", data, "--agent-config", cfg, dir)
	if code != exitFail || !strings.Contains(stdout, "FAIL  pg_dump") || !strings.Contains(stdout, "rejected: 1 test(s) failed") {
		t.Fatalf("a failing test: %d\n%s", code, stdout)
	}
	writeFile(t, dir, "r.hcl", "rule \"x\" {")
	if code, stdout, _ := runCLI("rules", "publish", "--site", "lisbon", "--data", data, "--agent-config", cfg, dir); code != exitFail || !strings.Contains(stdout, "r.hcl line 1") || !strings.Contains(stdout, "rejected: 1 error(s)") {
		t.Fatalf("a rule that does not parse: %d\n%s", code, stdout)
	}
	if pub, err := bundles.Published(data); err != nil || len(pub) != 0 {
		t.Fatalf("rejected rules were published: %v %v", pub, err)
	}

	writeFile(t, dir, "r.hcl", passingRule)
	var versions []uint64
	for _, site := range []string{"lisbon", "porto", "*", "lisbon"} {
		code, stdout, stderr := runCLI("rules", "publish", "--site", site, "--data", data, "--agent-config", cfg, dir)
		if code != exitOK {
			t.Fatalf("publish for %s: %d\n%s%s", site, code, stdout, stderr)
		}
		pub, err := bundles.Published(data)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, pub[site].Version)
	}
	if versions[0] != 1 || versions[1] != 2 || versions[2] != 3 || versions[3] != 4 {
		t.Fatalf("versions %v, want 1 2 3 4", versions)
	}
	key, err := bundles.SigningKey(data)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := bundles.Published(data)
	b, set, err := bundle.Verify(key.Public().(ed25519.PublicKey), "lisbon", pub["lisbon"].Data)
	if err != nil || b.Version != 4 || set.Names()[0] != "dump" || b.Files[0].Name != "r.hcl" {
		t.Fatalf("the published bundle: %+v %v", b, err)
	}
}
