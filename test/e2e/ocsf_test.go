package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/ocsf"
	"github.com/vigilhq/vigil/collector/ocsf/ocsfschema"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// ocsfValidates checks, after the scenarios, what a SIEM would receive
// from this run against the published OCSF 1.3.0 schema: every finding the
// collector serves on /api/ocsf, and every stored event of every kind
// rendered as its OCSF class.
func (r *incidentRig) ocsfValidates(t *testing.T) {
	s, err := ocsfschema.V130()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.c.Get(t.Context(), "/api/ocsf")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	findings := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var f map[string]any
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("finding %d is not JSON: %v", findings, err)
		}
		findings++
		for _, p := range s.Validate(f) {
			t.Errorf("finding %v (%v): %s", f["finding_info"].(map[string]any)["uid"], f["message"], p)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if findings == 0 {
		t.Fatal("no findings served after the incidents")
	}

	st, err := store.Open(filepath.Join(r.data, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	byKind := map[event.Kind]int{}
	err = st.RecentEvents(context.Background(), time.Time{}, 1<<20, func(ev *event.Event, _ time.Time) {
		o := ocsf.Evidence(ev)
		if o == nil {
			return
		}
		byKind[ev.Kind]++
		if byKind[ev.Kind] > 2000 {
			return // enough of one kind
		}
		for _, p := range s.Validate(o) {
			t.Errorf("%s %s as class %d: %s", ev.ID, ev.Kind, o.ClassUID, p)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []event.Kind{event.KindDBQuery, event.KindFileWrite, event.KindNetTransfer, event.KindProcessExec, event.KindProcessExit} {
		if byKind[k] == 0 {
			t.Errorf("no %s event rendered: the run should have stored some", k)
		}
	}
	t.Logf("%d findings and events by kind %v validate against OCSF %s", findings, byKind, s.Version)
}
