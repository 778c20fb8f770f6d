package event

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

// goldenEvents are one event of each kind with every field of its payloads
// set, then one of each kind with only what Validate requires, so a change to
// the bytes of any field of any kind shows in testdata/golden/events.jsonl.
func goldenEvents() []*Event {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)
	t1 := time.Date(2026, 3, 4, 5, 6, 1, 0, time.FixedZone("", 2*3600))
	head := func(seq uint64, k Kind) *Event {
		return &Event{ID: MakeID("b7", seq), Time: t0, Kind: k, Site: "lyon", Host: "ws-017 <a&b>", AgentID: "ws-017-a1",
			BootID: "b7", Seq: seq, Labels: map[string]string{"team": "payments", "desk": "tier \"1\""}}
	}
	proc := &Process{PID: 4242, PPID: 1, Exe: "/usr/bin/psql", Comm: "psql", Cmdline: "psql -h db1 -c 'SELECT 1'\u2028",
		UID: 1001, User: "alice", LoginUID: 1000, LoginUser: "ālice", Session: 3, TTY: "pts/1", StartTime: t1}
	full := []*Event{head(1, KindProcessExec), head(2, KindProcessExit), head(3, KindFileWrite), head(4, KindFileRename),
		head(5, KindNetTransfer), head(6, KindDBQuery), head(7, KindDBSession), head(8, KindAgentLoss),
		head(0, KindHeartbeat), head(9, KindAlert)}
	for _, ev := range full[:8] {
		ev.Process = proc
	}
	full[1].Exit = &Exit{Code: -1, Signal: 9, Reason: "killed"}
	file := File{Path: "/media/usb/export.csv", OldPath: "/tmp/x.tmp", Bytes: 1 << 40, Writes: 12,
		Flags: []string{"O_WRONLY", "O_CREAT", "O_TRUNC"}, Mount: "/media/usb", FSType: "vfat", Removable: true,
		Network: true, Created: true, Reason: "close", DurationMS: 1500}
	full[2].File, full[3].File = &file, &file
	full[4].Net = &Net{Proto: "tcp", Family: "ipv6", Direction: "outbound", SrcIP: "fe80::1", SrcPort: 51234,
		DstIP: "2001:db8::7", DstPort: 443, DstName: "upload.example.com", BytesSent: 18446744073709551615,
		BytesReceived: 42, Packets: 7, DurationMS: 60000, Loopback: true, Reason: "interim"}
	db := DB{Engine: "postgresql", Side: "client", Server: "10.0.0.5:5432", Client: "10.0.0.17:51234", User: "support",
		Database: "crm", Statement: "SELECT email FROM customers WHERE id = ? AND note <> '\\'", Fingerprint: "c0ffee12",
		Tables: []string{"customers", "orders"}, Columns: []string{"email"}, Command: "SELECT", Rows: 12, Partial: true,
		Bytes: 312, DurationMS: 0.000000412, Executions: 3, FirstTime: t1, Error: "relation does not exist",
		ErrorCode: "42P01", Identifiers: map[string][]string{"customers.id": {"h1", "h2"}, "email": {}}, TLS: true,
		Encrypted: true}
	full[5].DB, full[6].DB = &db, &db
	full[7].Loss = &Loss{Sensor: "spool", Count: 7, Reason: "spool_full", BootID: "b6", FromSeq: 10, ToSeq: 16}
	full[8].Heartbeat = &Heartbeat{IntervalS: 10, Events: 1234, KernelDrops: map[string]uint64{"file": 2, "db": 0},
		SpoolDepth: 5, SpoolDropped: 1, Sensors: []string{"file", "net", "db"}, RuleSetHash: "ab12", CPUPercent: 1.25,
		RSSBytes: 52428800, Version: "1.2.3", KernelVersion: "6.18.0"}
	full[9].Alert = &Alert{Rule: "bulk_read", Severity: SeverityHigh, Summary: "alice read 5000 rows of customers",
		Description: "more than <1000> rows", Tags: []string{"exfiltration"}, Evidence: []string{"b7-6", "b7-7"},
		Group: map[string]string{"person": "alice", "table": "customers"}, Value: 3e21, Scope: "host"}

	minimal := []*Event{
		{Kind: KindProcessExec, Process: &Process{}},
		{Kind: KindProcessExit, Process: &Process{}, Exit: &Exit{}},
		{Kind: KindFileWrite, File: &File{}},
		{Kind: KindFileRename, File: &File{}},
		{Kind: KindNetTransfer, Net: &Net{}},
		{Kind: KindDBQuery, DB: &DB{}},
		{Kind: KindDBSession, DB: &DB{}},
		{Kind: KindAgentLoss, Loss: &Loss{}},
		{Kind: KindHeartbeat, Heartbeat: &Heartbeat{}},
		{Kind: KindAlert, Alert: &Alert{Rule: "r", Severity: SeverityInfo}},
	}
	for i, ev := range minimal {
		ev.ID, ev.Time, ev.Site, ev.AgentID, ev.BootID, ev.Seq = MakeID("b8", uint64(i+1)), t1, "s", "a", "b8", uint64(i+1)
	}
	return append(full, minimal...)
}

// TestGoldenEncoding holds AppendJSON to the bytes in
// testdata/golden/events.jsonl, and Decode to reading them back to events
// that encode to the same bytes. Run with -update to rewrite the file.
func TestGoldenEncoding(t *testing.T) {
	const path = "testdata/golden/events.jsonl"
	var got []byte
	for _, ev := range goldenEvents() {
		if err := ev.Validate(); err != nil {
			t.Fatalf("golden %s event: %v", ev.Kind, err)
		}
		line, err := AppendJSON(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := json.Marshal(ev); !bytes.Equal(line, m) {
			t.Fatalf("golden %s event: AppendJSON and json.Marshal differ:\n%s\n%s", ev.Kind, line, m)
		}
		got = append(append(got, line...), '\n')
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenEncoding -update)", err)
	}
	gotLines, wantLines := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	if len(gotLines) != len(wantLines) {
		t.Fatalf("%d events encoded, %s has %d", len(gotLines)-1, path, len(wantLines)-1)
	}
	for i, line := range wantLines {
		if !bytes.Equal(gotLines[i], line) {
			t.Errorf("event %d encodes as\n%s\nnot as in %s\n%s", i, gotLines[i], path, line)
		}
		if len(line) == 0 {
			continue
		}
		ev, err := Decode(line)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if again, err := AppendJSON(nil, ev); err != nil || !bytes.Equal(again, line) {
			t.Errorf("event %d decodes to an event that encodes as\n%s (%v), not\n%s", i, again, err, line)
		}
		var fast Event
		if !decodeFast(line, &fast) {
			t.Errorf("event %d: the fast path refused it", i)
		}
	}
}
