package main

import (
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fleetAPI serves a real collector API over a store where two agents have
// reported, one with heartbeats and one silent since, and two losses;
// leeds is served rule bundle 7, which ag-4 runs (having refused a bad 8)
// and ag-1, on 6, does not.
func fleetAPI(t *testing.T, at time.Time) (string, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	live := liveness.New(liveness.Options{})
	hb := &event.Event{ID: "hb-1", Time: at.Add(-8 * time.Second), Kind: event.KindHeartbeat, Site: "leeds", Host: "ws-0142",
		AgentID: "ag-1", BootID: "boot-a", Heartbeat: &event.Heartbeat{IntervalS: 10, Events: 48210, SpoolDepth: 3,
			SpoolDropped: 0, KernelDrops: map[string]uint64{"file": 12}, Sensors: []string{"process", "file", "net", "db"},
			RuleSetHash: "9f2c4e1d7a3b5c6d8e9f0a1b", CPUPercent: 0.4, RSSBytes: 48 << 20, Version: "1.4.0", KernelVersion: "6.18.44",
			RulesMode: "bundle", BundleVersion: 6}}
	current := &event.Event{ID: "hb-4", Time: at.Add(-5 * time.Second), Kind: event.KindHeartbeat, Site: "leeds", Host: "ws-0150",
		AgentID: "ag-4", BootID: "boot-c", Heartbeat: &event.Heartbeat{IntervalS: 10, Events: 900, Sensors: []string{"process", "file", "net", "db"},
			RuleSetHash: "77aa0c3e51d2b4f6a8c9e0d1", Version: "1.4.0", RulesMode: "bundle", BundleVersion: 7,
			BundleRefused: "bundle 8 is not signed by this collector's key"}}
	quiet := &event.Event{ID: "ev-9", Time: at.Add(-3 * time.Hour), Kind: event.KindFileWrite, Site: "york", Host: "ws-0007",
		AgentID: "ag-2", BootID: "boot-b"}
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []*event.Event{quiet, hb, current} {
		if err := tx.SeenAgent(ev, ev.Time); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []store.Loss{
		{Time: at.Add(-2 * time.Hour), Site: "leeds", Host: "ws-0142", AgentID: "ag-1", BootID: "boot-a", Reason: "kernel_drop", Sensor: "file", Count: 12},
		{Time: at.Add(-time.Minute), Site: "york", Host: "ws-0007", AgentID: "ag-2", BootID: "boot-b", Reason: store.ReasonSeqGap, Count: 40, FromSeq: 1001, ToSeq: 1040},
	} {
		if err := tx.AddLoss(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	live.Known("ag-2", "york", "ws-0007", "boot-b", nil, quiet.Time)
	live.Heartbeat(hb, hb.Time)
	live.Heartbeat(current, current.Time)
	live.Check(at)
	tokens, err := auth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer((&api.Server{Auth: tokens, Store: st, Hub: api.NewHub(), Liveness: live,
		CurrentBundle: func(site string) uint64 { return map[string]uint64{"leeds": 7}[site] },
		Enrolment: func() []string {
			return []string{"reading enrolled agent: open /var/lib/vigil-collector/agents/ag-3.json: permission denied"}
		}}).Handler())
	t.Cleanup(hs.Close)
	return hs.URL, filepath.Join(dir, auth.AdminFile)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

// The fleet's tables, as an operator reads them: dates with times, columns
// aligned, ages against now, and a silent agent and one on an old rule
// bundle plain to see.
func TestFleetTables(t *testing.T) {
	at := time.Date(2026, 12, 5, 17, 30, 0, 0, time.UTC)
	now = func() time.Time { return at }
	t.Cleanup(func() { now = time.Now })
	url, tok := fleetAPI(t, at)
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"agents-list", []string{"agents", "list"}},
		{"agents-show", []string{"agents", "show", "ag-1"}},
		{"loss", []string{"loss"}},
		{"loss-agent", []string{"loss", "--agent", "ag-2"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			code, out, errOut := runCLI(append(c.args, "--api", url, "--token-file", tok)...)
			if code != exitOK {
				t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
			}
			golden(t, c.golden, out)
		})
	}
	// $VIGIL_API stands in for --api.
	t.Setenv("VIGIL_API", url)
	if code, out, errOut := runCLI("loss", "--token-file", tok); code != exitOK || !strings.Contains(out, "seq_gap") {
		t.Errorf("loss with $VIGIL_API: exit %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI("agents", "show", "ag-404", "--api", url, "--token-file", tok); code != exitFail || errOut == "" {
		t.Errorf("an unknown agent: exit %d %q", code, errOut)
	}
	if code, _, _ := runCLI("agents", "list", "--api", url, "--token-file", "/dev/null"); code != exitFail {
		t.Errorf("without a token: exit %d", code)
	}
}
