package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigilhq/vigil/collector/correlate"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func ev(site, agent string, seq uint64, kind event.Kind) *event.Event {
	e := &event.Event{ID: event.MakeID("b-"+agent, seq), Time: t0.Add(time.Duration(seq) * time.Second), Kind: kind,
		Site: site, Host: "h-" + agent, AgentID: agent, BootID: "b-" + agent, Seq: seq,
		Process: &event.Process{PID: 10, User: "mona", LoginUser: "mona", LoginUID: 1013}}
	switch kind {
	case event.KindDBQuery:
		e.DB = &event.DB{Engine: "postgresql", User: "app", Statement: "SELECT * FROM customers", Rows: 1}
	case event.KindFileWrite:
		e.File = &event.File{Path: "/tmp/x.csv", Bytes: 100}
	}
	return e
}

func msg(e *event.Event) Msg {
	b, _ := json.Marshal(e)
	return Msg{Subject: event.Subject(e.Site, e.AgentID, event.ClassOf(e.Kind)), Data: b}
}

func newIngest(t *testing.T, corr Correlator) (*Ingest, *store.Store, *metrics.Metrics, *[]*event.Event) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := metrics.New(nil)
	var alerts []*event.Event
	in := New(Options{Store: st, Correlation: corr, Metrics: m, Now: func() time.Time { return t0 },
		Liveness: liveness.New(liveness.Options{}),
		OnAlert:  func(al *event.Event) { alerts = append(alerts, al) }})
	return in, st, m, &alerts
}

func count(m *metrics.Metrics, result string) int {
	return int(testutil.ToFloat64(m.Messages.WithLabelValues(result)))
}

func TestBadMessagesAreCountedAndSkipped(t *testing.T) {
	in, st, m, alerts := newIngest(t, nil)
	ctx := context.Background()
	good := ev("leeds", "ag-1", 1, event.KindFileWrite)
	spoof := ev("leeds", "ag-2", 2, event.KindFileWrite)
	spoofMsg := msg(spoof)
	spoofMsg.Subject = event.Subject("leeds", "ag-1", event.ClassEvents) // ag-1 claims to be ag-2
	wrongClass := msg(ev("leeds", "ag-1", 3, event.KindFileWrite))
	wrongClass.Subject = event.Subject("leeds", "ag-1", event.ClassAlerts)
	noPayload := ev("leeds", "ag-1", 4, event.KindDBQuery)
	noPayload.DB = nil
	big := ev("leeds", "ag-1", 5, event.KindFileWrite)
	big.File.Path = strings.Repeat("a", event.MaxWireSize)
	bigMsg, _ := json.Marshal(big)
	err := in.Handle(ctx, []Msg{
		msg(good),
		{Subject: "vigil.leeds.ag-1.events", Data: []byte(`{"id":`)},
		{Subject: "vigil.leeds.ag-1.events", Data: []byte("\xff\xfe")},
		{Subject: "vigil.leeds.ag-1.bogus", Data: msg(good).Data},
		{Subject: "vigil.leeds.ag-1.events", Data: bigMsg},
		spoofMsg, wrongClass, msg(noPayload),
		msg(good), // duplicate
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := st.CountEvents(ctx); n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
	for res, want := range map[string]int{"stored": 1, "duplicate": 1, "malformed": 5, "oversized": 1, "rejected": 1} {
		if got := count(m, res); got != want {
			t.Errorf("%s: %d, want %d", res, got, want)
		}
	}
	if len(*alerts) != 1 || (*alerts)[0].Alert.Rule != liveness.RuleIdentity || (*alerts)[0].AgentID != "ag-1" {
		t.Fatalf("alerts %v, want one identity mismatch blaming ag-1", *alerts)
	}
}

func TestDedupeBeyondJetStreamAndGaps(t *testing.T) {
	in, st, m, _ := newIngest(t, nil)
	ctx := context.Background()
	var batch []Msg
	for _, s := range []uint64{1, 2, 3, 7, 8} {
		batch = append(batch, msg(ev("leeds", "ag-1", s, event.KindFileWrite)))
	}
	if err := in.Handle(ctx, batch); err != nil {
		t.Fatal(err)
	}
	losses, _ := st.Losses(ctx, "ag-1", 0)
	if len(losses) != 1 || losses[0].FromSeq != 4 || losses[0].ToSeq != 6 || losses[0].Count != 3 {
		t.Fatalf("loss %+v, want seq 4-6 (3 events)", losses)
	}
	// Later, one of the missing events arrives; the whole batch replays too.
	batch = append(batch, msg(ev("leeds", "ag-1", 5, event.KindFileWrite)))
	if err := in.Handle(ctx, batch); err != nil {
		t.Fatal(err)
	}
	losses, _ = st.Losses(ctx, "ag-1", 0)
	got := fmt.Sprint(losses[0].FromSeq, losses[0].ToSeq, losses[1].FromSeq, losses[1].ToSeq)
	if len(losses) != 2 || (got != "6 6 4 4" && got != "4 4 6 6") {
		t.Fatalf("after seq 5 arrived, losses %+v, want 4-4 and 6-6", losses)
	}
	ids, _ := st.EventIDs(ctx, "ag-1")
	if len(ids) != 6 || count(m, "duplicate") != 5 {
		t.Fatalf("%d ids stored, %d duplicates; want 6 and 5", len(ids), count(m, "duplicate"))
	}
}

// An agent's spool drops leave a gap in its seqs and are reported in a
// loss record naming their range: each missing seq is stored once, under
// spool_full where the report explains it, seq_gap where nothing does.
func TestSpoolLossExplainsGapsOnce(t *testing.T) {
	in, st, m, _ := newIngest(t, nil)
	ctx := context.Background()
	loss := func(seq uint64, boot string, from, to uint64) Msg {
		e := ev("leeds", "ag-1", seq, event.KindAgentLoss)
		e.Process = nil
		e.Loss = &event.Loss{Sensor: "spool", Reason: "spool_full", Count: to - from + 1, BootID: boot, FromSeq: from, ToSeq: to}
		return msg(e)
	}
	var batch []Msg
	for _, s := range []uint64{1, 2, 3, 10, 11, 12} {
		batch = append(batch, msg(ev("leeds", "ag-1", s, event.KindFileWrite)))
	}
	// 3 was delivered before the drop; 9 is missing for no reason given.
	// An earlier boot's drop: nothing of it was seen, so 1-4 are a gap.
	batch = append(batch, loss(13, "b-ag-1", 3, 8), loss(14, "b-old", 5, 7))
	if err := in.Handle(ctx, batch); err != nil {
		t.Fatal(err)
	}
	want := "b-ag-1 seq_gap 9-9, b-ag-1 spool_full 4-8, b-old seq_gap 1-4, b-old spool_full 5-7"
	if got := lossRows(t, st); got != want {
		t.Fatalf("loss rows %s, want %s", got, want)
	}
	// A dropped event that was delivered after all, late.
	late := ev("leeds", "ag-1", 6, event.KindFileWrite)
	late.ID, late.BootID = event.MakeID("b-old", 6), "b-old"
	if err := in.Handle(ctx, []Msg{msg(late)}); err != nil {
		t.Fatal(err)
	}
	want = "b-ag-1 seq_gap 9-9, b-ag-1 spool_full 4-8, b-old seq_gap 1-4, b-old spool_full 5-5, b-old spool_full 7-7"
	if got := lossRows(t, st); got != want {
		t.Fatalf("after the late event, loss rows %s, want %s", got, want)
	}
	// The metric counts what the reports explained at once, and a gap
	// nothing explains once it has stayed open past the grace.
	lost := func(reason string) float64 { return testutil.ToFloat64(m.Lost.WithLabelValues(reason)) }
	if lost("seq_gap") != 0 || lost("spool_full") != 5+3 {
		t.Errorf("before the grace: lost seq_gap %v spool_full %v, want 0 and 8", lost("seq_gap"), lost("spool_full"))
	}
	in.o.Now = func() time.Time { return t0.Add(in.o.GapGrace + time.Second) }
	if err := in.ConfirmGaps(ctx); err != nil {
		t.Fatal(err)
	}
	if lost("seq_gap") != 1+4 || lost("spool_full") != 5+3 {
		t.Errorf("after the grace: lost seq_gap %v spool_full %v, want 5 and 8", lost("seq_gap"), lost("spool_full"))
	}
}

// Events that are only late, overtaken by an alert published ahead of
// them or resent out of order, are never counted or reported as lost.
func TestLateEventsAreNotLoss(t *testing.T) {
	in, st, m, _ := newIngest(t, nil)
	ctx := context.Background()
	var batch []Msg
	for seq := uint64(1); seq <= 1000; seq++ {
		e := ev("leeds", "ag-1", seq, event.KindFileWrite)
		if seq%10 == 0 {
			e = ev("leeds", "ag-1", seq, event.KindAlert)
			e.Alert = &event.Alert{Rule: "r", Severity: "high", Summary: "s", Scope: "host"}
		}
		batch = append(batch, msg(e))
	}
	// Every alert goes ahead of the nine events before it, as the
	// agent's fast lane sends it, in batches of a hundred.
	for start := 0; start < len(batch); start += 100 {
		chunk := append([]Msg(nil), batch[start:start+100]...)
		for i := 9; i < len(chunk); i += 10 {
			al := chunk[i]
			copy(chunk[i-8:i+1], chunk[i-9:i])
			chunk[i-9] = al
		}
		if err := in.Handle(ctx, chunk); err != nil {
			t.Fatal(err)
		}
	}
	in.o.Now = func() time.Time { return t0.Add(time.Hour) }
	if err := in.ConfirmGaps(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.Lost.WithLabelValues("seq_gap")); got != 0 {
		t.Errorf("lost{seq_gap} = %v for events that were only late", got)
	}
	if rows := lossRows(t, st); rows != "" {
		t.Errorf("loss rows %s for events that were only late", rows)
	}
}

// lossRows lists the stored loss records of ag-1 as "boot reason from-to",
// sorted, checking each count matches its range.
func lossRows(t *testing.T, st *store.Store) string {
	t.Helper()
	losses, err := st.Losses(context.Background(), "ag-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range losses {
		if l.Count != l.ToSeq-l.FromSeq+1 {
			t.Errorf("loss %+v: count is not its range's", l)
		}
		rows = append(rows, fmt.Sprintf("%s %s %d-%d", l.BootID, l.Reason, l.FromSeq, l.ToSeq))
	}
	slices.Sort(rows)
	return strings.Join(rows, ", ")
}

func TestHostAlertStoredWithEvidence(t *testing.T) {
	in, st, _, alerts := newIngest(t, nil)
	ctx := context.Background()
	q := ev("leeds", "ag-1", 1, event.KindDBQuery)
	al := ev("leeds", "ag-1", 2, event.KindAlert)
	al.Alert = &event.Alert{Rule: "table_dump", Severity: "high", Summary: "dump", Evidence: []string{q.ID, "b-ag-1-99"}, Scope: "host"}
	if err := in.Handle(ctx, []Msg{msg(q), msg(al)}); err != nil {
		t.Fatal(err)
	}
	if len(*alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(*alerts))
	}
	d, err := st.AlertByID(ctx, al.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Evidence) != 1 || d.Evidence[0].ID != q.ID || len(d.Missing) != 1 || d.Person != "mona" {
		t.Fatalf("evidence %v missing %v person %q", d.Evidence, d.Missing, d.Person)
	}
	list, err := st.Alerts(ctx, store.AlertFilter{MinSeverity: "high", Site: "leeds", Person: "mona"})
	if err != nil || len(list) != 1 {
		t.Fatalf("filtered list %v %v", list, err)
	}
	list, _ = st.Alerts(ctx, store.AlertFilter{MinSeverity: "critical"})
	if len(list) != 0 {
		t.Fatalf("critical filter returned %d alerts", len(list))
	}
}

func TestCorrelationAcrossSites(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "corr.hcl"), `
threshold "person_at_two_sites" {
  scope    = "global"
  severity = "high"
  when     = kind == "db.query" && person != ""
  by       = [person]
  distinct = site
  window   = "1h"
  limit    = 1
  summary  = "${person} at ${value} sites"
}
`)
	corr, err := correlate.Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, st, _, alerts := newIngest(t, corr)
	ctx := context.Background()
	a := ev("leeds", "ag-1", 1, event.KindDBQuery)
	b := ev("manila", "ag-2", 1, event.KindDBQuery)
	if err := in.Handle(ctx, []Msg{msg(a), msg(b), msg(a), msg(b)}); err != nil {
		t.Fatal(err)
	}
	if len(*alerts) != 1 || (*alerts)[0].Alert.Rule != "person_at_two_sites" {
		t.Fatalf("alerts %v, want one person_at_two_sites", *alerts)
	}
	d, err := st.AlertByID(ctx, (*alerts)[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Evidence) != 2 {
		t.Fatalf("evidence %v, want both sites' queries", d.Evidence)
	}
}

func TestLivenessAlerts(t *testing.T) {
	in, _, _, alerts := newIngest(t, nil)
	ctx := context.Background()
	now := t0
	in.o.Now = func() time.Time { return now }
	hb := func(boot string, n int, sensors []string, hash string, drops uint64, interval uint32) Msg {
		e := &event.Event{ID: fmt.Sprintf("%s-hb-%d", boot, n), Time: now, Kind: event.KindHeartbeat, Site: "leeds", Host: "ws",
			AgentID: "ag-1", BootID: boot, Heartbeat: &event.Heartbeat{IntervalS: interval, Sensors: sensors,
				RuleSetHash: hash, SpoolDropped: drops}}
		return msg(e)
	}
	rules := func() []string {
		var out []string
		for _, a := range *alerts {
			out = append(out, a.Alert.Rule)
		}
		*alerts = nil
		return out
	}
	in.Handle(ctx, []Msg{hb("b1", 1, []string{"file", "process"}, "h1", 0, 10)})
	now = now.Add(10 * time.Second)
	in.Handle(ctx, []Msg{hb("b1", 2, []string{"file", "process"}, "h1", 0, 10)})
	if r := rules(); len(r) != 0 {
		t.Fatalf("steady heartbeats raised %v", r)
	}
	now = now.Add(10 * time.Second)
	in.Handle(ctx, []Msg{hb("b1", 3, []string{"process"}, "h2", 5, 10)})
	if r := fmt.Sprint(rules()); r != "[vigil_sensor_detached vigil_rule_set_changed vigil_agent_loss]" {
		t.Fatalf("got %s", r)
	}
	// 30 s of silence is three intervals: not yet; 31 s is.
	now = now.Add(30 * time.Second)
	in.CheckLiveness(ctx)
	if r := rules(); len(r) != 0 {
		t.Fatalf("silence at exactly 3 intervals raised %v", r)
	}
	now = now.Add(time.Second)
	in.CheckLiveness(ctx)
	in.CheckLiveness(ctx)
	if r := fmt.Sprint(rules()); r != "[vigil_agent_silent]" {
		t.Fatalf("got %s, want one silent alert", r)
	}
	// It comes back under a new boot after the silence: no restart alert
	// (the silence was reported); then a clean stop.
	in.Handle(ctx, []Msg{hb("b2", 1, []string{"process"}, "h2", 0, 10)})
	in.Handle(ctx, []Msg{hb("b2", 2, []string{"process"}, "h2", 0, 0)})
	if r := fmt.Sprint(rules()); r != "[vigil_agent_stopped]" {
		t.Fatalf("got %s", r)
	}
	// Stopped while its host runs: raised again while it lasts.
	now = now.Add(time.Hour)
	in.CheckLiveness(ctx)
	if r := fmt.Sprint(rules()); r != "[vigil_agent_stopped]" {
		t.Fatalf("an agent still stopped an hour later raised %s", r)
	}
	// Restart without a clean stop (kill -9 then start).
	in.Handle(ctx, []Msg{hb("b3", 1, []string{"process"}, "h2", 0, 10)})
	in.Handle(ctx, []Msg{hb("b4", 1, []string{"process"}, "h2", 0, 10)})
	if r := fmt.Sprint(rules()); r != "[vigil_agent_restarted]" {
		t.Fatalf("got %s", r)
	}
}

// A message on an events subject may carry several events, one per line:
// each is checked, counted and stored on its own, in order, and a bad line
// costs only itself. Alerts are one per message: a line break there makes
// the message malformed.
func TestBatchMessages(t *testing.T) {
	in, st, m, alerts := newIngest(t, nil)
	ctx := context.Background()
	var lines [][]byte
	for _, s := range []uint64{1, 2, 3} {
		lines = append(lines, msg(ev("leeds", "ag-1", s, event.KindFileWrite)).Data)
	}
	spoof := msg(ev("leeds", "ag-2", 4, event.KindFileWrite)).Data
	batch := Msg{Subject: event.Subject("leeds", "ag-1", event.ClassEvents),
		Data: bytes.Join([][]byte{lines[0], []byte(`{"id":`), lines[1], spoof, {}, lines[2]}, []byte{'\n'})}
	host := ev("leeds", "ag-1", 5, event.KindAlert)
	host.Process = nil
	host.Alert = &event.Alert{Rule: "r", Severity: event.SeverityHigh, Summary: "s", Evidence: []string{event.MakeID("b-ag-1", 1)}}
	alertPair := msg(host)
	alertPair.Data = bytes.Join([][]byte{alertPair.Data, alertPair.Data}, []byte{'\n'})
	if err := in.Handle(ctx, []Msg{batch, alertPair}); err != nil {
		t.Fatal(err)
	}
	ids, err := st.EventIDs(ctx, "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 {
		t.Fatalf("stored %v, want seq 1-3 of ag-1", ids)
	}
	for res, want := range map[string]int{"stored": 3, "malformed": 3, "rejected": 1} {
		if got := count(m, res); got != want {
			t.Errorf("%s: %d, want %d", res, got, want)
		}
	}
	if losses, _ := st.Losses(ctx, "ag-1", 0); len(losses) != 0 {
		t.Errorf("losses %+v: the events of one message are in seq order, no gap", losses)
	}
	if len(*alerts) != 1 || (*alerts)[0].Alert.Rule != liveness.RuleIdentity {
		t.Errorf("alerts %v, want only the identity mismatch of the spoofed line", *alerts)
	}
	// Replayed whole (a resend), every event is a duplicate.
	if err := in.Handle(ctx, []Msg{batch}); err != nil {
		t.Fatal(err)
	}
	if got := count(m, "duplicate"); got != 3 {
		t.Errorf("duplicates after replay: %d, want 3", got)
	}
}
