package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/collector"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/checkpoint"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testproc"
)

// collectedStore runs the collector (embedded NATS, no auth), publishes an
// agent's events and a host alert citing two of them as an agent does,
// waits until they are stored and stops the collector. It returns the
// data directory and the file the collector appended its checkpoints to.
func collectedStore(t *testing.T) (data, published string) {
	t.Helper()
	return collectedStoreIn(t, "")
}

// collectedStoreIn is collectedStore with the collector's store at target
// ("" for the file in its data directory, which it then stores to).
func collectedStoreIn(t *testing.T, target string) (data, published string) {
	t.Helper()
	data = t.TempDir()
	if target == "" {
		target = filepath.Join(data, "vigil.db")
	}
	published = filepath.Join(t.TempDir(), "checkpoints.jsonl")
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- collector.Run(ctx, collector.Config{DataDir: data, Store: target, NATS: bus.Config{Listen: "127.0.0.1:-1"},
			CheckpointFile: published, CheckpointEvery: 50 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Ready:  func(natsURL, _ string) { ready <- natsURL }})
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatalf("collector stopped: %v", err)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var evs []*event.Event
	for seq := uint64(1); seq <= 5; seq++ {
		evs = append(evs, &event.Event{ID: event.MakeID("b1", seq), Time: t0.Add(time.Duration(seq) * time.Second),
			Kind: event.KindFileWrite, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1", Seq: seq,
			Process: &event.Process{PID: 10, User: "mona", LoginUser: "mona", LoginUID: 1013},
			File:    &event.File{Path: fmt.Sprintf("/tmp/export-%d.csv", seq), Bytes: 100}})
	}
	al := &event.Event{ID: event.MakeID("b1", 6), Time: t0.Add(6 * time.Second), Kind: event.KindAlert, Site: "leeds",
		Host: "ws1", AgentID: "ag-1", BootID: "b1", Seq: 6, Process: &event.Process{PID: 10, User: "mona"},
		Alert: &event.Alert{Rule: "csv_export", Severity: event.SeverityHigh, Summary: "customer list exported", Scope: "host",
			Evidence: []string{evs[1].ID, evs[2].ID}}}
	for _, e := range append(evs, al) {
		b, _ := json.Marshal(e)
		if _, err := js.Publish(ctx, event.Subject(e.Site, e.AgentID, event.ClassOf(e.Kind)), b, jetstream.WithMsgID(e.ID)); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	testproc.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		n, err := st.CountEvents(ctx)
		if err != nil {
			return err
		}
		a, err := st.Alerts(ctx, store.AlertFilter{})
		if err != nil {
			return err
		}
		if n < 5 || len(a) != 1 {
			return fmt.Errorf("%d events and %d alerts stored, want 5 and 1", n, len(a))
		}
		return nil
	})
	st.Close()
	cancel()
	if err := <-done; err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	return data, published
}

func sqlite3CLI(t *testing.T, path, sql string) {
	t.Helper()
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		testenv.Skip(t, "sqlite3 is not installed (apt install sqlite3)")
	}
	cmd := exec.Command(bin, "-bail", path)
	cmd.Stdin = strings.NewReader(sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v: %s", err, out)
	}
}

// A store the collector wrote verifies against the checkpoints it
// published and its public key; each change made with the sqlite3 tool
// afterwards fails verify, which names it.
func TestVerifyCollectedStore(t *testing.T) {
	data, published := collectedStore(t)
	db := filepath.Join(data, "vigil.db")
	pub := filepath.Join(data, checkpoint.PubKeyFile)
	code, stdout, stderr := runCLI("verify", db, "--checkpoints", published, "--public-key", pub)
	if code != exitOK || !strings.HasPrefix(stdout, "ok: ") {
		t.Fatalf("untouched store: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI("verify", db, "--json", "--checkpoints", published, "--public-key", pub)
	var rep struct {
		OK          bool            `json:"ok"`
		Checkpoints int             `json:"checkpoints"`
		Findings    []store.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK || !rep.OK || rep.Findings == nil || rep.Checkpoints == 0 {
		t.Fatalf("--json: exit %d, %+v (%v)\n%s", code, rep, err, stdout)
	}
	cps, err := checkpoint.ReadFile(published)
	if err != nil || len(cps) == 0 || cps[len(cps)-1].Kind != store.CheckpointShutdown {
		t.Fatalf("published checkpoints %+v (%v): want the last taken at shutdown", cps, err)
	}

	for _, c := range []struct{ name, sql, want string }{
		{"edit the alert", `UPDATE alerts SET severity = 'low', sev = 1`, "edited: alerts row 1"},
		{"edit evidence", `UPDATE events SET body = replace(body, 'export-2', 'notes') WHERE n = 2`, "edited: events row 2"},
		{"raise evidence's uploaded bytes", `UPDATE events SET upload_bytes = upload_bytes + 1 WHERE n = 2`, "edited: events row 2"},
		{"delete evidence", `DELETE FROM events WHERE n = 3`, "deleted: events row 3"},
		{"insert an event", `INSERT INTO events (id, time, received, kind, site, host, agent_id, boot_id, seq, person, body)
			SELECT 'forged', time, received, kind, site, host, agent_id, boot_id, 99, person, body FROM events WHERE n = 1`, "inserted: events row"},
		{"swap two events", `UPDATE events SET n = -1 WHERE n = 4; UPDATE events SET n = 4 WHERE n = 5; UPDATE events SET n = 5 WHERE n = -1`, "reordered: events row"},
		{"cut the tail", `DELETE FROM alert_evidence; DELETE FROM alerts; DELETE FROM checkpoints;
			DELETE FROM chain WHERE seq > (SELECT min(seq) FROM chain WHERE tbl = 'alerts') - 1`, "truncated:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyStore(t, db, filepath.Join(dir, "vigil.db"))
			path := filepath.Join(dir, "vigil.db")
			sqlite3CLI(t, path, c.sql)
			code, stdout, stderr := runCLI("verify", path, "--checkpoints", published, "--public-key", pub)
			if code != exitFail || !strings.Contains(stdout, "first: "+c.want) {
				t.Fatalf("exit %d, want %d naming %q\n%s%s", code, exitFail, c.want, stdout, stderr)
			}
		})
	}
}

// The checkpoints the collector published to its JetStream stream are
// read from a NATS server holding it (here the collector's own, started
// again on its data directory) and checked like a file's.
func TestVerifyAgainstTheStream(t *testing.T) {
	data, _ := collectedStore(t)
	b, err := bus.Start(t.Context(), bus.Config{DataDir: data, Listen: "127.0.0.1:-1"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	db := filepath.Join(data, "vigil.db")
	code, stdout, stderr := runCLI("verify", db, "--checkpoints", b.ClientURL(), "--public-key", filepath.Join(data, checkpoint.PubKeyFile), "--json")
	var rep struct {
		OK          bool `json:"ok"`
		Checkpoints int  `json:"checkpoints"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK || !rep.OK {
		t.Fatalf("exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	stored, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	inStore, err := stored.Checkpoints(t.Context(), false)
	stored.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Each checkpoint counted once from the store and once from the stream.
	if rep.Checkpoints != 2*len(inStore) {
		t.Fatalf("%d checkpoints checked, want the store's %d twice", rep.Checkpoints, len(inStore))
	}
}

// copyStore copies a closed store with the sqlite3 tool's backup, so each
// case starts from the same file.
func copyStore(t *testing.T, from, to string) {
	t.Helper()
	sqlite3CLI(t, from, ".backup '"+to+"'")
}

// Bad arguments are told, with exit 2; a store that is not there, or a
// bad key, fails with what was wrong.
func TestVerifyArguments(t *testing.T) {
	if code, _, _ := runCLI("verify"); code != exitUsage {
		t.Errorf("no store: exit %d, want %d", code, exitUsage)
	}
	if code, _, stderr := runCLI("verify", filepath.Join(t.TempDir(), "none.db")); code != exitFail || !strings.Contains(stderr, "none.db") {
		t.Errorf("missing store: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI("verify", "x.db", "--public-key", "zz"); code != exitFail || !strings.Contains(stderr, "public key") {
		t.Errorf("bad key: exit %d, %q", code, stderr)
	}
}
