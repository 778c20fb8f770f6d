package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/enrol"
)

// nats-config names every enrolled agent, with its key, the collector's
// key and one key per site's leaf node in the core nodes' block; a leaf
// node's file names its site's agents only and carries the leaf's seed; a
// record it cannot read stops it with the record's name rather than
// shutting that agent out unnoticed.
func TestNATSConfigNamesTheEnrolledAgents(t *testing.T) {
	data := t.TempDir()
	agents := filepath.Join(data, "agents")
	leeds, _, err := enrol.Enrol(agents, "leeds", "ws-1", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	manila, _, err := enrol.Enrol(agents, "manila", "ws-2", "ag-2")
	if err != nil {
		t.Fatal(err)
	}
	var all, one bytes.Buffer
	if err := natsConfig(data, "", &all); err != nil {
		t.Fatal(err)
	}
	if err := natsConfig(data, "leeds", &one); err != nil {
		t.Fatal(err)
	}
	leedsLeaf, err := bus.LeafKey(data, "leeds")
	if err != nil {
		t.Fatal(err)
	}
	leedsLeafPub, _ := leedsLeaf.PublicKey()
	leedsLeafSeed, _ := leedsLeaf.Seed()
	if !strings.Contains(all.String(), leeds.PublicKey) || !strings.Contains(all.String(), manila.PublicKey) ||
		!strings.Contains(all.String(), `"vigil.manila.ag-2.>"`) || !strings.Contains(all.String(), leedsLeafPub) ||
		strings.Contains(all.String(), string(leedsLeafSeed)) {
		t.Errorf("configuration of the core nodes:\n%s", all.String())
	}
	if !strings.Contains(one.String(), leeds.PublicKey) || strings.Contains(one.String(), manila.PublicKey) ||
		!strings.Contains(one.String(), string(leedsLeafSeed)) {
		t.Errorf("configuration of the leeds leaf node:\n%s", one.String())
	}
	// A leaf node of a site without agents would be open to anyone.
	if err := natsConfig(data, "paris", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "paris") {
		t.Errorf("a leaf node of a site without agents: %v, want an error naming it", err)
	}
	// A revoked agent's key leaves the configuration printed next: its
	// holder cannot go on publishing through the cluster once reloaded.
	if err := enrol.Revoke(agents, "ag-2"); err != nil {
		t.Fatal(err)
	}
	var revoked bytes.Buffer
	if err := natsConfig(data, "", &revoked); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(revoked.String(), manila.PublicKey) || !strings.Contains(revoked.String(), leeds.PublicKey) ||
		strings.Contains(revoked.String(), "site manila") {
		t.Errorf("configuration after revoking ag-2:\n%s", revoked.String())
	}
	if _, err := os.Stat(filepath.Join(data, "collector.nk")); err != nil {
		t.Errorf("the collector's key was not made: %v", err)
	}
	if err := os.WriteFile(filepath.Join(agents, "broken.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := natsConfig(data, "", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("a broken record: %v, want an error naming it", err)
	}
}

// --out replaces the file whole, readable by its owner only (a leaf
// node's file holds its seed), and leaves no temporary file beside it.
func TestNATSConfigOutReplacesTheFile(t *testing.T) {
	data := t.TempDir()
	if _, _, err := enrol.Enrol(filepath.Join(data, "agents"), "leeds", "ws-1", "ag-1"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "vigil-leaf.conf")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := natsConfigCommand()
	cmd.SetArgs([]string{"--data", data, "--leaf-site", "leeds", "--out", out})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), bus.LeafNKeyVariable) {
		t.Fatalf("%s after --out: %v\n%s", out, err, b)
	}
	if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, %v; want mode 0600", out, info, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%s holds %d files after --out, want the one", dir, len(ents))
	}
}
