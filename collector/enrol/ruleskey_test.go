package enrol

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/bundles"
)

// Every agent enrolled from one data directory pins the same rules key,
// the public half of the key vigil rules publish signs with, in its
// record and in the credentials it is handed.
func TestEnrolPinsTheRulesKey(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "agents")
	a, creds, err := Enrol(dir, "leeds", "ws-1", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Enrol(dir, "york", "ws-2", "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := bundles.PublicKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if a.RulesKey != want || b.RulesKey != want {
		t.Fatalf("records pin %q and %q, want the signing key's %q", a.RulesKey, b.RulesKey, want)
	}
	if line := fmt.Sprintf("rules_key = %q\n", want); !strings.Contains(string(creds), line) {
		t.Fatalf("credentials lack %q:\n%s", line, creds)
	}
	agents, errs := Load(dir)
	if len(errs) != 0 || len(agents) != 2 || agents[0].RulesKey != want {
		t.Fatalf("loaded %+v %v", agents, errs)
	}
}
