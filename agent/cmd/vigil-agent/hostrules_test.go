package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/agent/ruleset"
	"github.com/vigilhq/vigil/event"
)

const goodRules = `rule "dump_tool" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}
`

// brokenRules has its error on line 7, column 36.
const brokenRules = goodRules + `rule "quiet" {
  severity = "low"
  when     = kind == "db.query" && db.rowz > 1
}
`

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func writeRules(t *testing.T, dir, src string) string {
	t.Helper()
	path := filepath.Join(dir, "local.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func execOf(comm string) *event.Event {
	return &event.Event{ID: "b-1", Kind: event.KindProcessExec, Process: &event.Process{PID: 7, Comm: comm}}
}

// alertsOf returns the rejection alerts among evs.
func alertsOf(evs []event.Event) []event.Event {
	var out []event.Event
	for _, ev := range evs {
		if ev.Alert != nil && ev.Alert.Rule == RuleRejected {
			out = append(out, ev)
		}
	}
	return out
}

func TestHostRulesRejectedWhileRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, state := t.TempDir(), t.TempDir()
	path := writeRules(t, dir, goodRules)
	h := loadHostRules(ctx, dir, state, []string{"customer_id"}, quietLog())
	good := h.engine.Set().Hash()
	if good == "" || h.state != stateOnDisk {
		t.Fatalf("good rules not loaded: hash %q state %q", good, h.state)
	}
	if _, err := os.Stat(filepath.Join(state, "host-rules.json")); err != nil {
		t.Fatalf("the good set was not kept: %v", err)
	}

	writeRules(t, dir, brokenRules)
	write := &event.Event{ID: "b-2", Kind: event.KindFileWrite, File: &event.File{Path: path},
		Process: &event.Process{PID: 99, Comm: "vi", UID: 0, LoginUID: 1001, LoginUser: "mallory"}}
	out := alertsOf(h.Process(write))
	if len(out) != 1 {
		t.Fatalf("a write that broke the rules raised %d rejection alerts, want 1", len(out))
	}
	al := out[0].Alert
	if !strings.Contains(al.Summary, path+":7:36") || !strings.Contains(al.Summary, good[:12]) {
		t.Errorf("summary %q does not name %s:7:36 and the set in force", al.Summary, path)
	}
	if al.Group["file"] != path || al.Group["line"] != "7" || !strings.Contains(al.Group["changed_by"], "mallory") ||
		!strings.Contains(al.Group["owner"], "uid ") {
		t.Errorf("group %v, want file, line 7, changed_by mallory and the owner", al.Group)
	}
	if len(al.Evidence) != 1 || al.Evidence[0] != "b-2" || al.Severity != event.SeverityHigh || out[0].Kind != event.KindAlert {
		t.Errorf("alert %+v, want a high alert citing the write b-2", al)
	}
	if !strings.Contains(al.Description, "db.rowz") {
		t.Errorf("description lacks the diagnostics: %q", al.Description)
	}
	if h.engine.Set().Hash() != good {
		t.Error("the good set was replaced by nothing")
	}
	if n := len(h.Process(execOf("pg_dump"))); n != 1 {
		t.Errorf("the good rules gave %d alerts for pg_dump, want 1", n)
	}
	// The same broken files alert once.
	h.watcher.Reload()
	if out := alertsOf(h.Process(execOf("ls"))); len(out) != 0 {
		t.Errorf("the same rejection alerted again: %v", out)
	}
	hb := &event.Heartbeat{}
	h.fill(hb)
	if hb.RuleSetState != stateOnDisk {
		t.Errorf("heartbeat state %q while the set loaded at start runs", hb.RuleSetState)
	}
}

func TestHostRulesBrokenAtRestartRunLastGood(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, state := t.TempDir(), t.TempDir()
	writeRules(t, dir, goodRules)
	good := loadHostRules(ctx, dir, state, nil, quietLog()).engine.Set().Hash()

	path := writeRules(t, dir, brokenRules)
	h := loadHostRules(ctx, dir, state, nil, quietLog())
	if h.engine.Set().Hash() != good || h.state != stateLastGood {
		t.Fatalf("restart with broken files runs %q (state %q), want the last good %q", h.engine.Set().Hash(), h.state, good)
	}
	var emitted []*event.Event
	h.start(ctx, func(ev *event.Event) { emitted = append(emitted, ev) })
	if len(emitted) != 1 || !strings.Contains(emitted[0].Alert.Summary, path+":7:36") ||
		!strings.Contains(emitted[0].Alert.Summary, "last good") {
		t.Fatalf("emitted at start %v, want one rejection naming %s:7:36 and the last good set", emitted, path)
	}
	if n := len(h.Process(execOf("pg_dump"))); n != 1 {
		t.Errorf("the last good rules gave %d alerts for pg_dump, want 1", n)
	}
	hb := &event.Heartbeat{}
	h.fill(hb)
	if hb.RuleSetState != stateLastGood {
		t.Errorf("heartbeat state %q, want %q", hb.RuleSetState, stateLastGood)
	}

	// Removing the directory does not switch the rules off either.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	h = loadHostRules(ctx, dir, state, nil, quietLog())
	if h.engine.Set().Hash() != good || h.state != stateLastGood || len(h.pending) != 1 {
		t.Fatalf("with the directory gone: set %q state %q, %d alerts pending", h.engine.Set().Hash(), h.state, len(h.pending))
	}
}

func TestHostRulesBrokenAtFirstStartRunNone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, state := t.TempDir(), t.TempDir()
	writeRules(t, dir, brokenRules)
	h := loadHostRules(ctx, dir, state, nil, quietLog())
	if h.engine.Set() != nil || h.state != stateNone || len(h.pending) != 1 {
		t.Fatalf("set %v state %q, %d alerts pending; want none, %q, 1", h.engine.Set(), h.state, len(h.pending), stateNone)
	}
	if s := h.pending[0].Alert.Summary; !strings.Contains(s, "no host rules") {
		t.Errorf("summary %q does not say no host rules run", s)
	}
	// Fixed, the files run and are kept.
	path := writeRules(t, dir, goodRules)
	h.Process(&event.Event{ID: "b-3", Kind: event.KindFileWrite, File: &event.File{Path: path}})
	if h.engine.Set() == nil || h.state != stateOnDisk {
		t.Fatalf("the fixed files did not load: state %q", h.state)
	}
	if _, saved, err := ruleset.Load(state); err != nil || saved.Hash != h.engine.Set().Hash() {
		t.Errorf("fixed set not kept: %v", err)
	}
}

func TestHostRulesReportMissingIdentifiers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	writeRules(t, dir, `threshold "many" {
  severity = "low"
  when     = kind == "db.query"
  by       = [person]
  distinct = db.identifiers["customer_id"]
  window   = "1h"
  limit    = 10
}
`)
	h := loadHostRules(ctx, dir, t.TempDir(), []string{"customers.id"}, quietLog())
	hb := &event.Heartbeat{}
	h.fill(hb)
	if strings.Join(hb.IdentifiersMissing, ",") != "customer_id" || strings.Join(hb.Identifiers, ",") != "customers.id" {
		t.Errorf("heartbeat identifiers %v missing %v", hb.Identifiers, hb.IdentifiersMissing)
	}
}

// A new write that leaves the files broken alerts again, with its writer;
// checks that find nothing new do not.
func TestHostRulesEveryRejectingWriteAlerts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	path := writeRules(t, dir, goodRules)
	h := loadHostRules(ctx, dir, t.TempDir(), nil, quietLog())
	for i, who := range []string{"mallory", "trudy"} {
		writeRules(t, dir, brokenRules+strings.Repeat("\n", i))
		w := &event.Event{ID: "w-" + who, Kind: event.KindFileWrite, File: &event.File{Path: path},
			Process: &event.Process{PID: 5, Comm: "sh", LoginUser: who}}
		out := alertsOf(h.Process(w))
		if len(out) != 1 || !strings.Contains(out[0].Alert.Group["changed_by"], who) {
			t.Fatalf("write %d by %s: alerts %v", i, who, out)
		}
		h.watcher.Reload()
		h.watcher.Reload()
		if out := alertsOf(h.Process(execOf("ls"))); len(out) != 0 {
			t.Fatalf("reloads of the same files alerted again: %v", out)
		}
	}
}

// A saved set that was tampered with is not run, and the alert says why.
func TestHostRulesTamperedLastGoodIsReported(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, state := t.TempDir(), t.TempDir()
	writeRules(t, dir, goodRules)
	loadHostRules(ctx, dir, state, nil, quietLog())
	saved := filepath.Join(state, ruleset.FileName)
	if err := os.WriteFile(saved, []byte(`{"hash":"x","files":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	writeRules(t, dir, brokenRules)
	h := loadHostRules(ctx, dir, state, nil, quietLog())
	if h.engine.Set() != nil || h.state != stateNone || len(h.pending) != 1 {
		t.Fatalf("set %v state %q pending %d, want none", h.engine.Set(), h.state, len(h.pending))
	}
	if s := h.pending[0].Alert.Summary; !strings.Contains(s, saved) {
		t.Errorf("summary %q does not say the saved set %s could not be used", s, saved)
	}
}
