package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// chain is a read, write, upload sequence whose write and upload steps add
// up their events, the upload per destination, against a twentieth of
// what the read returned.
const chain = `
sequence "chain" {
  severity = "high"
  by       = [person]
  window   = "30m"
  step "read" {
    when = kind == "db.query" && db.rows > 0
  }
  step "write" {
    when  = kind == "file.write"
    sum   = file.bytes
    limit = steps.read.db.bytes / 20
  }
  step "upload" {
    when  = kind == "net.transfer" && !net.loopback
    sum   = net.bytes_sent
    per   = net.dst_ip
    limit = max(steps.read.db.bytes / 20, 1000)
  }
  summary = "${steps.read.db.rows} rows, ${steps.write.sum} bytes written, ${steps.upload.sum} sent to ${net.dst_ip}"
}
`

func read(id string, at time.Duration, bytes uint64) *event.Event {
	ev := dbq(id, "alice", at, 100)
	ev.DB.Bytes = bytes
	return ev
}

func write(id string, at time.Duration, bytes uint64) *event.Event {
	return &event.Event{ID: id, Time: t0.Add(at), Kind: event.KindFileWrite,
		Process: &event.Process{LoginUser: "alice", LoginUID: 1000}, File: &event.File{Path: "/home/alice/x.csv", Bytes: bytes}}
}

func send(id string, at time.Duration, dst string, bytes uint64) *event.Event {
	return &event.Event{ID: id, Time: t0.Add(at), Kind: event.KindNetTransfer,
		Process: &event.Process{LoginUser: "alice", LoginUID: 1000}, Net: &event.Net{Proto: "tcp", DstIP: dst, BytesSent: bytes}}
}

// runEngine feeds events through a fresh engine and returns the alerts.
func runEngine(t *testing.T, src string, evs ...*event.Event) []event.Event {
	t.Helper()
	e := NewEngine(mustLoad(t, src), Options{})
	var out []event.Event
	for _, ev := range evs {
		out = append(out, e.Process(ev)...)
	}
	return out
}

func TestStepSumAddsUpReportsAndPieces(t *testing.T) {
	// 1 MB read; the file written in three reports; the upload in pieces
	// of 20 kB to one destination, a twentieth of the read after three.
	got := runEngine(t, chain,
		read("r", 0, 1_000_000),
		write("w1", time.Second, 30_000), write("w2", 2*time.Second, 30_000), write("w3", 3*time.Second, 30_000),
		send("u1", 4*time.Second, "203.0.113.9", 20_000),
		send("x", 5*time.Second, "198.51.100.1", 40_000), // elsewhere: a sum of its own
		send("u2", 6*time.Second, "203.0.113.9", 20_000),
		send("u3", 7*time.Second, "203.0.113.9", 20_000),
	)
	if len(got) != 1 {
		t.Fatalf("%d alerts, want 1", len(got))
	}
	a := got[0].Alert
	if want := "r,w1,w2,w3,u1,u2,u3"; strings.Join(a.Evidence, ",") != want {
		t.Errorf("evidence %v, want %s", a.Evidence, want)
	}
	if want := "100 rows, 90000 bytes written, 60000 sent to 203.0.113.9"; a.Summary != want {
		t.Errorf("summary %q, want %q", a.Summary, want)
	}
}

func TestStepSumBelowLimit(t *testing.T) {
	got := runEngine(t, chain,
		read("r", 0, 1_000_000),
		write("w1", time.Second, 20_000), write("w2", 2*time.Second, 20_000),
		send("u1", 4*time.Second, "203.0.113.9", 500_000),
	)
	if len(got) != 0 {
		t.Errorf("40000 bytes written completed a write step with a limit of 50000: %v", got[0].Alert.Summary)
	}
}

func TestStepSumRestartsWithANewerPreviousMatch(t *testing.T) {
	got := runEngine(t, chain,
		read("r1", 0, 100_000),
		write("w1", time.Second, 4_000),
		read("r2", 2*time.Second, 100_000), // the writes count again from here
		write("w2", 3*time.Second, 4_000),
		send("u1", 4*time.Second, "203.0.113.9", 9_000),
	)
	if len(got) != 0 {
		t.Errorf("writes before the latest read counted: %v", got[0].Alert.Evidence)
	}
	got = runEngine(t, chain,
		read("r1", 0, 100_000),
		write("w1", time.Second, 6_000),
		send("u1", 2*time.Second, "203.0.113.9", 3_000),
		write("w2", 3*time.Second, 6_000), // the completed write grows; the upload's sum goes on
		send("u2", 4*time.Second, "203.0.113.9", 3_000),
	)
	if len(got) != 1 || strings.Join(got[0].Alert.Evidence, ",") != "r1,w1,w2,u1,u2" {
		t.Errorf("alerts %v, want one citing r1,w1,w2,u1,u2", got)
	}
}

func TestStepSumWithinWindow(t *testing.T) {
	got := runEngine(t, chain,
		read("r", 0, 100_000),
		write("w1", time.Minute, 6_000),
		send("u1", 29*time.Minute, "203.0.113.9", 3_000),
		send("u2", 31*time.Minute, "203.0.113.9", 3_000),
	)
	if len(got) != 0 {
		t.Errorf("a sum across the end of the window alerted: %v", got[0].Alert.Evidence)
	}
}

// moved adds up a file's writes in the first step and reads the total when
// the file is renamed.
const moved = `
sequence "moved" {
  severity = "high"
  by       = [person, file.path]
  window   = "1h"
  step "write" {
    when = kind == "file.write"
    sum  = file.bytes
  }
  step "move" {
    when = kind == "file.rename" && startswith(file.path, "/sync/") && steps.write.sum > 100
    by   = [person, file.old_path]
  }
  summary = "${person} moved ${steps.write.sum} bytes to ${file.path}"
}
`

func rename(id string, at time.Duration, from, to string) *event.Event {
	return &event.Event{ID: id, Time: t0.Add(at), Kind: event.KindFileRename,
		Process: &event.Process{LoginUser: "alice", LoginUID: 1000}, File: &event.File{Path: to, OldPath: from}}
}

func TestStepSumOnTheFirstStep(t *testing.T) {
	got := runEngine(t, moved,
		write("w1", 0, 60), write("w2", time.Second, 60),
		rename("m", 2*time.Second, "/home/alice/x.csv", "/sync/x.csv"),
	)
	if len(got) != 1 || got[0].Alert.Summary != "alice moved 120 bytes to /sync/x.csv" || strings.Join(got[0].Alert.Evidence, ",") != "w1,w2,m" {
		t.Fatalf("alerts %v, want one about 120 bytes citing w1,w2,m", got)
	}
	// The first step's sum spans one window from its first event.
	got = runEngine(t, moved,
		write("w1", 0, 60), write("w2", 61*time.Minute, 60),
		rename("m", 62*time.Minute, "/home/alice/x.csv", "/sync/x.csv"),
	)
	if len(got) != 0 {
		t.Errorf("writes an hour apart added up: %v", got[0].Alert.Summary)
	}
}

func TestStepSumEvidenceKeepsTheFirstStep(t *testing.T) {
	evs := []*event.Event{read("r", 0, 1_000_000)}
	for i := range 30 {
		evs = append(evs, write("w"+string(rune('a'+i)), time.Duration(i+1)*time.Second, 2_000))
	}
	evs = append(evs, send("u", time.Minute, "203.0.113.9", 60_000))
	got := runEngine(t, chain, evs...)
	if len(got) != 1 {
		t.Fatalf("%d alerts", len(got))
	}
	ev := got[0].Alert.Evidence
	if len(ev) != 20 || ev[0] != "r" || ev[len(ev)-1] != "u" {
		t.Errorf("evidence %v: want 20 ids from the read to the upload", ev)
	}
}

func TestStepSumAddsWithoutAllocating(t *testing.T) {
	e := NewEngine(mustLoad(t, chain), Options{})
	e.Process(read("r", 0, 1_000_000_000))
	w := write("w", time.Second, 100)
	e.Process(w)
	if n := testing.AllocsPerRun(200, func() {
		w.Time = w.Time.Add(time.Millisecond)
		if e.Process(w) != nil {
			t.Fatal("unexpected alert")
		}
	}); n != 0 {
		t.Errorf("%.1f allocations per event added to a sum", n)
	}
}

func TestStepSumErrors(t *testing.T) {
	seq := func(step string) string {
		return `
sequence "s" {
  severity = "high"
  by       = [person]
  window   = "1h"
  step "a" {
    when = kind == "db.query"
  }
  step "b" {
` + step + `
  }
}
`
	}
	checkRejects(t, []rejectCase{
		{"limit without sum", seq(`    when  = kind == "file.write"
    limit = 10`), `t.hcl:11:5: error: Needs sum; limit only applies to a step that adds up its events with sum.`},
		{"sum of a string", seq(`    when = kind == "file.write"
    sum  = file.path`), `t.hcl:11:12: error: Invalid sum; sum needs a number, not a string.`},
		{"sum of an earlier step", seq(`    when = kind == "file.write"
    sum  = steps.a.db.rows`), `t.hcl:11:12: error: Invalid sum; sum adds up the step's own events; read earlier steps in limit or when instead.`},
		{"per of an earlier step", seq(`    when = kind == "file.write"
    sum  = file.bytes
    per  = steps.a.db.user`), `t.hcl:12:12: error: Invalid per; per is read from the step's own event, not from earlier steps.`},
		{"the sum of a step without one", `
sequence "s" {
  severity = "high"
  by       = [person]
  window   = "1h"
  step "a" {
    when = kind == "db.query"
  }
  step "b" {
    when = kind == "file.write" && file.bytes > steps.a.sum
  }
}
`, `t.hcl:10:49: error: No sum; Step "a" does not add up its events; give it a sum to read steps.a.sum.`},
	})
}
