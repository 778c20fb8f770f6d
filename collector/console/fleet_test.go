package console

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// The agents view shows each agent's rules mode, bundle and refusal beside
// its site's current bundle, and marks those not on it: at leeds (bundle
// 5) an agent on 4, one on local rule files and one that refused a bundle
// are marked, the one on 5 is not; at paris, which has no bundle, an agent
// on local files is not.
func TestAgentsBundleState(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	hbs := map[string]struct {
		site string
		hb   event.Heartbeat
	}{
		"ag-current": {"leeds", event.Heartbeat{RulesMode: "bundle", BundleVersion: 5}},
		"ag-old":     {"leeds", event.Heartbeat{RulesMode: "bundle", BundleVersion: 4}},
		"ag-local":   {"leeds", event.Heartbeat{RulesMode: "local"}},
		"ag-refused": {"leeds", event.Heartbeat{RulesMode: "bundle", BundleVersion: 5, BundleRefused: "bad signature"}},
		"ag-paris":   {"paris", event.Heartbeat{RulesMode: "local"}},
	}
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id, a := range hbs {
		hb := a.hb
		hb.IntervalS = 10
		if err := tx.SeenAgent(&event.Event{ID: id + "-hb", Kind: event.KindHeartbeat, Site: a.site, Host: id, AgentID: id, BootID: "b1",
			Heartbeat: &hb}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	current := map[string]uint64{"leeds": 5}
	h, err := (&Server{Store: st, CurrentBundle: func(site string) uint64 { return current[site] }}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	page := do(h, "GET", "/agents", nil).Body.String()
	for id, want := range map[string]struct {
		marked bool
		cells  []string
	}{
		"ag-current": {false, []string{`<td class="rules-mode">bundle</td>`, `<td class="bundle">5</td>`, `<td class="site-bundle">5</td>`}},
		"ag-old":     {true, []string{`<td class="bundle stale">4 <span class="behind"`, `<td class="site-bundle">5</td>`}},
		"ag-local":   {true, []string{`<td class="rules-mode">local</td>`, `<td class="bundle stale"> <span class="behind"`}},
		"ag-refused": {true, []string{`refused: bad signature`}},
		"ag-paris":   {false, []string{`<td class="rules-mode">local</td>`, `<td class="site-bundle">none</td>`}},
	} {
		m := regexp.MustCompile(`(?s)<tr data-agent="` + id + `"([^>]*)>(.*?)</tr>`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("no row for %s:\n%s", id, page)
			continue
		}
		if marked := strings.Contains(m[1], "bundle-behind"); marked != want.marked {
			t.Errorf("%s marked %v, want %v: %s", id, marked, want.marked, m[0])
		}
		for _, c := range want.cells {
			if !strings.Contains(m[2], c) {
				t.Errorf("%s's row lacks %s:\n%s", id, c, m[2])
			}
		}
	}
}
