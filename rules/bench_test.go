package rules

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// eventMix builds a day's worth of ordinary support-desk activity: mostly
// small customer lookups, file saves, intranet traffic and shell commands.
// Nothing in it should alert with the default pack's limits except by the
// slow accumulation a real shift would also show.
func eventMix(n int, distinctCustomers int) []event.Event {
	r := rand.New(rand.NewPCG(1, 2))
	people := make([]string, 20)
	for i := range people {
		people[i] = fmt.Sprintf("agent%02d", i)
	}
	customers := make([]string, distinctCustomers)
	for i := range customers {
		customers[i] = fmt.Sprintf("%016x", r.Uint64())
	}
	statements := []string{
		"SELECT id, name, phone FROM customers WHERE id = ?",
		"SELECT o.id, o.total FROM orders o WHERE o.customer_id = ? ORDER BY o.created_at DESC LIMIT ?",
		"SELECT sku, title FROM products WHERE sku IN (?)",
		"UPDATE tickets SET status = ? WHERE id = ?",
	}
	tables := [][]string{{"customers"}, {"orders"}, {"products"}, {"tickets"}}
	execs := []string{"bash", "ls", "psql", "grep", "less", "vim"}
	paths := []string{"/home/%s/notes.txt", "/home/%s/.cache/app/state", "/tmp/%s-report.txt", "/home/%s/Documents/ticket.md"}
	dsts := [][2]string{{"10.0.4.10", "crm.corp.example.com"}, {"10.0.4.11", "mail.corp.example.com"}, {"192.168.1.20", ""}}
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	out := make([]event.Event, n)
	for i := range out {
		p := people[r.IntN(len(people))]
		ev := event.Event{
			ID: fmt.Sprintf("b-%d", i), Time: start.Add(time.Duration(i) * 250 * time.Millisecond),
			Site: "leeds", Host: "ws-" + p, AgentID: "a", BootID: "b", Seq: uint64(i + 1),
			Process: &event.Process{PID: 4242, Comm: "psql", User: p, LoginUID: 1000, LoginUser: p, Session: 3},
		}
		switch x := r.IntN(100); {
		case x < 45:
			q := r.IntN(len(statements))
			ev.Kind = event.KindDBQuery
			ev.DB = &event.DB{Engine: "postgresql", Side: "client", Server: "10.0.0.5:5432", User: p, Database: "shop",
				Statement: statements[q], Tables: tables[q], Command: "SELECT", Rows: uint64(1 + r.IntN(3)), Bytes: 300}
			if q == 0 {
				ev.DB.Identifiers = map[string][]string{"customer_id": {customers[r.IntN(len(customers))]}}
			}
			if q == 3 {
				ev.DB.Command, ev.DB.Rows = "UPDATE", 0
			}
		case x < 75:
			ev.Kind = event.KindFileWrite
			ev.Process.Comm = "vim"
			ev.File = &event.File{Path: fmt.Sprintf(paths[r.IntN(len(paths))], p), Bytes: uint64(r.IntN(8192)), Writes: 2, Mount: "/", FSType: "ext4"}
		case x < 92:
			d := dsts[r.IntN(len(dsts))]
			ev.Kind = event.KindNetTransfer
			ev.Process.Comm = "firefox"
			ev.Net = &event.Net{Proto: "tcp", DstIP: d[0], DstName: d[1], DstPort: 443, BytesSent: uint64(r.IntN(20000)), BytesReceived: 50000}
		default:
			ev.Kind = event.KindProcessExec
			ev.Process.Comm = execs[r.IntN(len(execs))]
			ev.Process.Exe = "/usr/bin/" + ev.Process.Comm
			ev.Process.Cmdline = ev.Process.Comm + " -l"
		}
		out[i] = ev
	}
	return out
}

func loadPack(tb testing.TB) *Set {
	set, diags := LoadDir("packs")
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return set
}

// BenchmarkPack reports ns and allocations per event for the default pack
// over the event mix, in the agent (host) and the collector (global).
func BenchmarkPack(b *testing.B) {
	set := loadPack(b)
	evs := eventMix(1<<14, 2000)
	for _, scope := range []string{ScopeHost, ScopeGlobal} {
		b.Run(scope, func(b *testing.B) {
			e := NewEngine(set, Options{Scope: scope})
			alerts := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ev := &evs[i%len(evs)]
				if i >= len(evs) {
					// Keep time moving forward on later passes.
					ev.Time = ev.Time.Add(time.Duration(len(evs)) * 250 * time.Millisecond)
				}
				alerts += len(e.Process(ev))
			}
			b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
		})
	}
}

// BenchmarkNonMatching measures events that meet no rule's condition.
func BenchmarkNonMatching(b *testing.B) {
	set := loadPack(b)
	evs := nonMatching()
	e := NewEngine(set, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Process(&evs[i%len(evs)])
	}
}

func nonMatching() []event.Event {
	var out []event.Event
	for _, ev := range eventMix(4096, 1000) {
		// Drop what the pack counts (customer reads, off-shift queries).
		if ev.Kind == event.KindDBQuery && (ev.DB.Tables[0] == "customers" || ev.DB.Tables[0] == "orders") {
			continue
		}
		out = append(out, ev)
	}
	return out
}

// TestNoAllocationsPerEvent holds the engine to zero allocations for events
// that match no rule, and for events that only add to an existing group.
func TestNoAllocationsPerEvent(t *testing.T) {
	set := loadPack(t)
	e := NewEngine(set, Options{})
	evs := nonMatching()
	for i := range evs {
		e.Process(&evs[i])
	}
	i := 0
	if n := testing.AllocsPerRun(2000, func() {
		if e.Process(&evs[i%len(evs)]) != nil {
			t.Fatal("unexpected alert")
		}
		i++
	}); n != 0 {
		t.Errorf("%.2f allocations per non-matching event", n)
	}

	// Customer reads by known people of known customers: they update
	// existing groups and values but raise nothing.
	reads := eventMix(4096, 50)
	e2 := NewEngine(set, Options{})
	for i := range reads {
		e2.Process(&reads[i])
	}
	var counted []event.Event
	for _, ev := range reads {
		if ev.Kind == event.KindDBQuery && ev.DB.Tables[0] == "customers" {
			counted = append(counted, ev)
		}
	}
	j := 0
	if n := testing.AllocsPerRun(500, func() {
		ev := &counted[j%len(counted)]
		ev.Time = ev.Time.Add(time.Second) // stays inside every window
		e2.Process(ev)
		j++
	}); n != 0 {
		t.Errorf("%.2f allocations per event that updates existing groups", n)
	}
}
