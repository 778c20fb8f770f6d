package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/enrol"
)

// nats-config names every enrolled agent of the sites asked for, with its
// key, and the collector's; a record it cannot read stops it with the
// record's name rather than shutting that agent out unnoticed.
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
	if err := natsConfig(data, nil, &all); err != nil {
		t.Fatal(err)
	}
	if err := natsConfig(data, []string{"leeds"}, &one); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(all.String(), leeds.PublicKey) || !strings.Contains(all.String(), manila.PublicKey) ||
		!strings.Contains(all.String(), `"vigil.manila.ag-2.>"`) {
		t.Errorf("configuration for every site:\n%s", all.String())
	}
	if !strings.Contains(one.String(), leeds.PublicKey) || strings.Contains(one.String(), manila.PublicKey) {
		t.Errorf("configuration for leeds:\n%s", one.String())
	}
	// A revoked agent's key leaves the configuration printed next: its
	// holder cannot go on publishing through the cluster once reloaded.
	if err := enrol.Revoke(agents, "ag-2"); err != nil {
		t.Fatal(err)
	}
	var revoked bytes.Buffer
	if err := natsConfig(data, nil, &revoked); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(revoked.String(), manila.PublicKey) || !strings.Contains(revoked.String(), leeds.PublicKey) {
		t.Errorf("configuration after revoking ag-2:\n%s", revoked.String())
	}
	if _, err := os.Stat(filepath.Join(data, "collector.nk")); err != nil {
		t.Errorf("the collector's key was not made: %v", err)
	}
	if err := os.WriteFile(filepath.Join(agents, "broken.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := natsConfig(data, nil, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("a broken record: %v, want an error naming it", err)
	}
}
