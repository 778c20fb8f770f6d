package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// fuzzEvents are fixed events pushed through every rule set the fuzzer
// manages to compile.
func fuzzEvents() []event.Event {
	evs := eventMix(64, 8)
	evs = append(evs, event.Event{Kind: event.KindAlert, Alert: &event.Alert{Rule: "x", Group: map[string]string{"person": "a"}}},
		event.Event{Kind: "unknown.kind"}, event.Event{})
	return evs
}

// FuzzLoad feeds arbitrary bytes to the loader. Whatever the input, Load
// must not panic or hang, and a set it accepts must run.
func FuzzLoad(f *testing.F) {
	for _, glob := range []string{"packs/*.hcl", "testdata/broken/*.hcl"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	evs := fuzzEvents()
	f.Fuzz(func(t *testing.T, data []byte) {
		set, diags := Load(Source{Name: "fuzz.hcl", Data: data})
		if set == nil {
			if !diags.HasErrors() {
				t.Fatal("no set and no error")
			}
			return
		}
		if diags.HasErrors() {
			t.Fatal("a set with errors")
		}
		for _, scope := range []string{ScopeHost, ScopeGlobal} {
			e := NewEngine(set, Options{Scope: scope, Now: func() time.Time { return t0 }})
			for i := range evs {
				e.Process(&evs[i])
			}
		}
		set.RunTests()
	})
}

// FuzzEval compiles an expression as a match rule, a threshold and a
// sequence step, and evaluates them over an arbitrary event.
func FuzzEval(f *testing.F) {
	for _, s := range []struct{ expr, ev string }{
		{`kind == "db.query" && db.rows > 1000 && contains(db.tables, "customers")`, `{"kind":"db.query","db":{"rows":5000,"tables":["customers"]}}`},
		{`glob(file.path, ["**/Dropbox/**", "/media/*/**"]) || file.removable`, `{"kind":"file.write","file":{"path":"/home/a/Dropbox/x","bytes":1}}`},
		{`!cidrmatch(net.dst_ip, ["10.0.0.0/8", "fd00::/8"]) && net.bytes_sent > 1e6`, `{"kind":"net.transfer","net":{"dst_ip":"203.0.113.1","bytes_sent":2000000}}`},
		{`regex(db.statement, "(?i)copy .* to") && icontains(db.statement, "COPY")`, `{"kind":"db.query","db":{"statement":"copy t to stdout"}}`},
		{`!within_hours(time, "08:00", "18:00", "Europe/London") || weekday(time, "UTC") == "Sat"`, `{"kind":"db.query","time":"2026-01-10T03:00:00Z"}`},
		{`db.identifiers["customer_id"][0] == "h" && len(db.identifiers) > 0`, `{"kind":"db.query","db":{"identifiers":{"customer_id":["h"]}}}`},
		{`person == lower(process.user) && labels.team != "" ? true : hour(time, "UTC") > 12.5`, `{"kind":"process.exec","labels":{"team":"x"},"process":{"user":"Bob","loginuid":4294967295}}`},
		{`alert.rule == "x" && alert.group["person"] == "a" && alert.value >= 0`, `{"kind":"alert","alert":{"rule":"x","group":{"person":"a"}}}`},
		{`abs(db.rows - db.bytes) / max(db.rows, 1) < 0.5 && startswith(db.user, ["svc_", "app_"])`, `{"kind":"db.query","db":{"user":"svc_x","rows":10,"bytes":12}}`},
	} {
		f.Add(s.expr, []byte(s.ev))
	}
	f.Fuzz(func(t *testing.T, expr string, evJSON []byte) {
		src := "rule \"m\" {\n  severity = \"low\"\n  when = " + expr + "\n  summary = \"${person} ${kind}\"\n}\n" +
			"threshold \"t\" {\n  severity = \"low\"\n  when = " + expr + "\n  by = [person, host]\n  distinct = site\n  window = \"1m\"\n  limit = 0\n}\n" +
			"sequence \"s\" {\n  severity = \"low\"\n  by = [host]\n  window = \"1m\"\n  step \"a\" {\n    when = " + expr + "\n  }\n  step \"b\" {\n    when = " + expr + "\n  }\n}\n"
		// The expression as a key, a distinct value and in a summary: any type.
		src2 := "threshold \"k\" {\n  severity = \"low\"\n  when = kind != \"\"\n  by = [" + expr + "]\n  distinct = " + expr +
			"\n  window = \"1m\"\n  limit = 0\n  summary = \"${" + expr + "} ${value}\"\n}\n"
		set, _ := Load(Source{Name: "fuzz.hcl", Data: []byte(src)})
		set2, _ := Load(Source{Name: "fuzz2.hcl", Data: []byte(src2)})
		if set == nil && set2 == nil {
			return
		}
		var ev event.Event
		if json.Unmarshal(evJSON, &ev) != nil {
			return
		}
		for _, s := range []*Set{set, set2} {
			if s == nil {
				continue
			}
			e := NewEngine(s, Options{Now: func() time.Time { return t0 }})
			for i := 0; i < 3; i++ {
				cp := ev
				e.Process(&cp)
			}
		}
	})
}
