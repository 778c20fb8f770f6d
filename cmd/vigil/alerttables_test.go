package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// An export as the store holds it: a COPY, the file it made and its upload,
// and the alert citing them with one piece of evidence not yet arrived.
func exportAPI(t *testing.T, at time.Time) (string, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	proc := &event.Process{PID: 4242, PPID: 4200, Exe: "/usr/bin/psql", User: "mona", LoginUser: "mona", Session: 7, TTY: "pts/1"}
	base := event.Event{Site: "leeds", Host: "ws-0142", AgentID: "ag-1", BootID: "b1", Process: proc}
	evs := []*event.Event{
		{Kind: event.KindDBQuery, DB: &event.DB{Engine: "postgresql", Command: "COPY", Statement: "COPY customers TO STDOUT",
			Rows: 250000, Bytes: 48 << 20, DurationMS: 900, Tables: []string{"customers"}}},
		{Kind: event.KindFileWrite, File: &event.File{Path: "/home/mona/customers.csv", Bytes: 48 << 20, FSType: "ext4", Mount: "/home"}},
		{Kind: event.KindNetTransfer, Net: &event.Net{Direction: "outbound", Proto: "tcp", DstIP: "203.0.113.9",
			DstName: "files.example.net", DstPort: 443, BytesSent: 50 << 20}},
	}
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, ev := range evs {
		kind, db, file, net := ev.Kind, ev.DB, ev.File, ev.Net
		*ev = base
		ev.Kind, ev.DB, ev.File, ev.Net = kind, db, file, net
		ev.Seq = uint64(i + 1)
		ev.ID = event.MakeID("b1", ev.Seq)
		ev.Time = at.Add(time.Duration(i-3) * time.Minute)
		body, _ := json.Marshal(ev)
		if _, err := tx.PutEvent(ev, body, at); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	for i, al := range []*event.Event{
		{ID: "al-1", Time: at, Kind: event.KindAlert, Site: "leeds", Host: "ws-0142", AgentID: "ag-1", Process: proc,
			Alert: &event.Alert{Rule: "db_copy_out", Severity: event.SeverityHigh, Summary: "mona copied 250000 rows of customers out of postgresql",
				Description: "A bulk COPY TO of a customer table.", Tags: []string{"attack.exfiltration", "attack.t1005"}, Scope: "host",
				Evidence: append(ids, "b1-99")}},
		{ID: "al-2", Time: at.Add(-2 * time.Hour), Kind: event.KindAlert, Site: "york", Host: "ws-0007", AgentID: "ag-2",
			Process: &event.Process{LoginUser: "ali"}, Alert: &event.Alert{Rule: "usb_write_after_read", Severity: event.SeverityMedium,
				Summary: "ali wrote 2.0 GiB to removable media after a bulk read"}},
	} {
		if _, err := tx.PutAlert(al, at.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer((&api.Server{Auth: tokens, Store: st, Hub: api.NewHub()}).Handler())
	t.Cleanup(hs.Close)
	return hs.URL, filepath.Join(dir, auth.AdminFile)
}

// alerts list is a dated, aligned table; alerts show reads as a timeline of
// what the person did, one line per event with the process behind it.
func TestAlertTables(t *testing.T) {
	at := time.Date(2026, 12, 5, 17, 35, 21, 0, time.UTC)
	url, tok := exportAPI(t, at)
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"alerts-list", []string{"alerts", "list"}},
		{"alerts-show", []string{"alerts", "show", "al-1"}},
		{"alerts-list-high", []string{"alerts", "list", "--severity", "high"}},
		{"alerts-list-none", []string{"alerts", "list", "--site", "nowhere"}},
		{"alerts-close", []string{"alerts", "close", "al-2", "--reason", "benign", "--note", "approved USB backup"}},
		{"alerts-list-closed", []string{"alerts", "list", "--status", "closed"}},
		{"alerts-show-closed", []string{"alerts", "show", "al-2"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			code, out, errOut := runCLI(append(c.args, "--api", url, "--token-file", tok)...)
			if code != exitOK {
				t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
			}
			golden(t, c.golden, out)
		})
	}
}
