package event

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func wireEvent() *Event {
	return &Event{ID: MakeID("b1", 1), Time: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), Kind: KindFileWrite,
		Site: "leeds", Host: "ws-a", AgentID: "ag-1", BootID: "b1", Seq: 1, File: &File{Path: "/tmp/a", Bytes: 3}}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	b, err := Encode(wireEvent())
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "b1-1" || ev.File.Path != "/tmp/a" {
		t.Fatalf("round trip gave %+v", ev)
	}
	loss := wireEvent()
	loss.Kind, loss.File = KindAgentLoss, nil
	loss.Loss = &Loss{Sensor: "spool", Count: 7, Reason: "spool_full", BootID: "b0", FromSeq: 10, ToSeq: 16}
	if b, err = Encode(loss); err != nil {
		t.Fatal(err)
	}
	if ev, err = Decode(b); err != nil {
		t.Fatal(err)
	}
	if *ev.Loss != *loss.Loss {
		t.Fatalf("loss round trip gave %+v", ev.Loss)
	}
}

func TestDecodeRefuses(t *testing.T) {
	mut := func(f func(*Event)) string {
		e := wireEvent()
		f(e)
		b, _ := Encode(e)
		return string(b)
	}
	for name, data := range map[string]string{
		"not json":       `{"id":`,
		"trailing":       mut(func(*Event) {}) + `{}`,
		"no id":          mut(func(e *Event) { e.ID = "" }),
		"site wildcard":  mut(func(e *Event) { e.Site = "a.*" }),
		"agent wildcard": mut(func(e *Event) { e.AgentID = ">" }),
		"no time":        mut(func(e *Event) { e.Time = time.Time{} }),
		"no seq":         mut(func(e *Event) { e.Seq = 0 }),
		"no payload":     mut(func(e *Event) { e.File = nil }),
		"unknown kind":   mut(func(e *Event) { e.Kind = "x.y" }),
		"bad severity":   mut(func(e *Event) { e.Kind = KindAlert; e.Alert = &Alert{Rule: "r", Severity: "urgent"} }),
		"loss range without boot": mut(func(e *Event) {
			e.Kind, e.File, e.Loss = KindAgentLoss, nil, &Loss{Sensor: "spool", Count: 1, Reason: "spool_full", FromSeq: 1, ToSeq: 2}
		}),
		"loss range reversed": mut(func(e *Event) {
			e.Kind, e.File, e.Loss = KindAgentLoss, nil, &Loss{Sensor: "spool", Count: 1, Reason: "spool_full", BootID: "b0", FromSeq: 3, ToSeq: 2}
		}),
		"loss range from 0": mut(func(e *Event) {
			e.Kind, e.File, e.Loss = KindAgentLoss, nil, &Loss{Sensor: "spool", Count: 1, Reason: "spool_full", BootID: "b0", ToSeq: 2}
		}),
		"oversized": `{"id":"` + strings.Repeat("a", MaxWireSize) + `"}`,
		"not utf8":  "\xff\xfe",
	} {
		if _, err := Decode([]byte(data)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}

func TestSubjects(t *testing.T) {
	s := Subject("leeds", "ag-1", ClassOf(KindAlert))
	site, agent, class, err := ParseSubject(s)
	if err != nil || site != "leeds" || agent != "ag-1" || class != ClassAlerts {
		t.Fatalf("%s parsed to %q %q %q %v", s, site, agent, class, err)
	}
	for _, bad := range []string{"vigil.leeds.ag-1", "other.leeds.ag-1.events", "vigil.leeds.ag-1.x", "vigil.a.b.c.events"} {
		if _, _, _, err := ParseSubject(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

// Every kind, with its payload, passes the collector's check: a kind added
// to the schema and not to Decode would be dropped as malformed.
func TestDecodeAcceptsEveryKind(t *testing.T) {
	payloads := map[Kind]func(*Event){
		KindProcessExec: func(e *Event) { e.Process = &Process{PID: 1} },
		KindProcessExit: func(e *Event) { e.Process, e.Exit = &Process{PID: 1}, &Exit{} },
		KindFileWrite:   func(e *Event) { e.File = &File{Path: "/a"} },
		KindFileRename:  func(e *Event) { e.File = &File{Path: "/b", OldPath: "/a"} },
		KindNetTransfer: func(e *Event) { e.Net = &Net{Proto: "tcp"} },
		KindDNSQuery:    func(e *Event) { e.DNS = &DNS{Name: "a.example.com", Type: "TXT", Domain: "example.com"} },
		KindDBQuery:     func(e *Event) { e.DB = &DB{Engine: "postgresql"} },
		KindDBSession:   func(e *Event) { e.DB = &DB{Engine: "postgresql"} },
		KindAgentLoss:   func(e *Event) { e.Loss = &Loss{Sensor: "net", Count: 1, Reason: "ringbuf_full"} },
		KindHeartbeat:   func(e *Event) { e.Heartbeat = &Heartbeat{} },
		KindAlert:       func(e *Event) { e.Alert = &Alert{Rule: "r", Severity: "high"} },
	}
	for _, k := range Kinds {
		set, ok := payloads[k]
		if !ok {
			t.Errorf("%s: no payload in this test", k)
			continue
		}
		e := wireEvent()
		e.Kind, e.File = k, nil
		set(e)
		b, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

// SplitID undoes MakeID, boot ids with dashes included, and refuses what
// MakeID cannot have made, so a crafted id is never taken for a seq.
func TestSplitID(t *testing.T) {
	for _, c := range []struct {
		boot string
		seq  uint64
	}{{"b1", 1}, {"2f1c-9a0e-77", 18446744073709551615}, {"x", 0}} {
		if boot, seq := SplitID(MakeID(c.boot, c.seq)); boot != c.boot || seq != c.seq {
			t.Errorf("SplitID(MakeID(%q, %d)) = %q, %d", c.boot, c.seq, boot, seq)
		}
	}
	for _, id := range []string{"", "-5", "boot-", "boot-x", "boot-loss3", "boot-18446744073709551616", "noseq"} {
		if boot, seq := SplitID(id); boot != "" || seq != 0 {
			t.Errorf("SplitID(%q) = %q, %d, want nothing", id, boot, seq)
		}
	}
}
