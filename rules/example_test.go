package rules_test

import (
	"fmt"
	"os"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/rules"
)

// The agent's use of the engine: load host rules, number the alerts, feed
// events.
func Example() {
	set, diags := rules.Load(rules.Source{Name: "dump.hcl", Data: []byte(`
rule "db_dump_tool" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
  summary  = "${person} ran pg_dump on ${host}"
}
`)})
	if diags.HasErrors() {
		_ = rules.WriteDiagnostics(os.Stderr, diags, 0, false)
		return
	}
	seq := uint64(100)
	eng := rules.NewEngine(set, rules.Options{
		Scope: rules.ScopeHost,
		NewAlert: func(a *event.Event) {
			seq++
			a.BootID, a.Seq, a.ID = "boot-1", seq, event.MakeID("boot-1", seq)
		},
	})
	alerts := eng.Process(&event.Event{
		ID: "boot-1-7", Time: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), Kind: event.KindProcessExec, Host: "ws-7",
		Process: &event.Process{Comm: "pg_dump", LoginUID: 1000, LoginUser: "alice", User: "alice"},
	})
	for _, a := range alerts {
		fmt.Println(a.ID, a.Alert.Rule, a.Alert.Severity, a.Alert.Summary, a.Alert.Evidence)
	}
	// Output: boot-1-101 db_dump_tool high alice ran pg_dump on ws-7 [boot-1-7]
}
