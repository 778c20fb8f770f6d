package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to read the shared store

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testproc"
	"github.com/vigilhq/vigil/rules"
)

// A global threshold by person, as the correlation rules count a person's
// work across hosts and sites.
const scaleoutRule = `
threshold "bulk_exports" {
  scope    = "global"
  severity = "high"
  when     = kind == "file.write"
  by       = [person]
  window   = "1h"
  limit    = 40
  summary  = "${person} wrote ${value} files"
}
`

// scaleoutAgent numbers one agent's events, each for one of several
// persons.
type scaleoutAgent struct {
	*emitter
	host string
}

func (a *scaleoutAgent) write(t *testing.T, person string) *event.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	ev := &event.Event{ID: event.MakeID(a.boot, a.seq), Time: time.Now().UTC(), Kind: event.KindFileWrite,
		Site: a.site, Host: a.host, AgentID: a.id, BootID: a.boot, Seq: a.seq,
		Process: &event.Process{PID: 42, User: person, LoginUser: person, LoginUID: 1013},
		File:    &event.File{Path: fmt.Sprintf("/home/%s/export-%d.csv", person, a.seq), Bytes: 4096}}
	if err := a.pub.Publish(ev); err != nil {
		t.Error(err)
	}
	return ev
}

// Two collectors share one NATS and one PostgreSQL store: both read the
// agents' stream into that store, and the correlation rules' groups are
// split between them by partition. Two agents at two sites write files for six persons, whose
// counts cross the global threshold several times each (and one never),
// while one collector is killed -9 and later restarted under the same id.
// In the shared store every event is stored once, no loss is recorded
// (each collector stores part of each agent's seqs), and each person's
// threshold fires exactly as often as one engine seeing every event fires
// it: none missed while the dead collector's partitions moved, none fired
// twice when they were rebuilt or handed back.
func TestTwoCollectorsShareCorrelation(t *testing.T) {
	natsPort := testproc.FreePort(t)
	startNATSServer(t, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", fmt.Sprint(natsPort))
	url := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	rulesDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(rulesDir, "scaleout.hcl"), []byte(scaleoutRule), 0o644); err != nil {
		t.Fatal(err)
	}
	pg := testdb.StartPostgres(t, testdb.Options{})
	db, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	share := []string{"--nats-url", url, "--rules", rulesDir, "--partitions", "8", "--lease-ttl", "2s", "--store", pg.DSN}
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startCollector(t, dataA, 0, append(share, "--collector-id", "soc-a")...)
	b := startCollector(t, dataB, 0, append(share, "--collector-id", "soc-b")...)

	var agents []*scaleoutAgent
	for i, site := range []string{"leeds", "porto"} {
		cfg := enrolled(t, t.TempDir(), site, url)
		id := cfg.Identity.AgentID
		cfg.Identity = nil // the external NATS here is open
		agents = append(agents, &scaleoutAgent{host: fmt.Sprintf("ws-%s-%d", site, i),
			emitter: &emitter{pub: newPublisher(t, cfg, site, id), boot: "bootscale" + site, site: site, id: id}})
	}
	// What each person writes, in rounds; the totals are whatever they
	// are, and one engine seeing every event says how often each fires.
	writes := map[string]int{"ana": 130, "ben": 275, "cho": 61, "dev": 449, "eli": 24, "fay": 333}
	want := map[string]int{}
	set, diags := rules.LoadDir(rulesDir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	oracle := rules.NewEngine(set, rules.Options{Scope: rules.ScopeGlobal})
	const rounds = 10
	emitRound := func(r int) {
		n := 0
		for person, total := range writes {
			for i := total * r / rounds; i < total*(r+1)/rounds; i++ {
				ev := agents[n%len(agents)].write(t, person)
				n++
				for _, al := range oracle.Process(ev) {
					want[al.Alert.Group["person"]]++
				}
			}
		}
	}
	emitted := func() int {
		n := 0
		for _, ag := range agents {
			n += int(ag.seq)
		}
		return n
	}
	// stored counts the agents' events in the shared store.
	stored := func() (int, error) {
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM events WHERE kind = 'file.write'`).Scan(&n); err != nil {
			return 0, fmt.Errorf("counting the stored events: %w", err)
		}
		return n, nil
	}
	for r := range 4 {
		emitRound(r)
	}
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		n, err := stored()
		if err != nil {
			return err
		}
		if n < emitted()/2 {
			return fmt.Errorf("%d of %d events stored", n, emitted())
		}
		return nil
	})
	emitRound(4)
	a.Stop(syscall.SIGKILL, 0)
	t.Logf("killed collector soc-a with %d events emitted", emitted())
	for r := 5; r < 8; r++ {
		emitRound(r)
	}
	// soc-b alone stores what was left, what soc-a had fetched once its
	// ack wait (60s) ends, and takes soc-a's partitions.
	testproc.CheckFor(t, 120*time.Second, poll, func() error {
		n, err := stored()
		if err != nil {
			return err
		}
		if n < emitted() {
			return fmt.Errorf("%d of %d events stored with soc-a dead", n, emitted())
		}
		return nil
	})
	a = startCollector(t, dataA, 0, append(share, "--collector-id", "soc-a")...)
	for r := 8; r < rounds; r++ {
		emitRound(r)
	}
	total := 0
	for _, n := range want {
		total += n
	}
	alerts := func() (map[string]int, error) {
		byPerson := map[string]int{}
		rows, err := db.QueryContext(context.Background(), `SELECT person FROM alerts WHERE rule = 'bulk_exports'`)
		if err != nil {
			return nil, fmt.Errorf("reading the alerts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var person string
			if err := rows.Scan(&person); err != nil {
				return nil, fmt.Errorf("reading the alerts: %w", err)
			}
			byPerson[person]++
		}
		return byPerson, rows.Err()
	}
	testproc.CheckFor(t, 120*time.Second, poll, func() error {
		n, err := stored()
		if err != nil {
			return err
		}
		if n != emitted() {
			return fmt.Errorf("%d of %d events stored", n, emitted())
		}
		got, err := alerts()
		if err != nil {
			return err
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("alerts by person %v, want %v", got, want)
		}
		return nil
	})
	a.Stop(syscall.SIGTERM, 5*time.Second)
	b.Stop(syscall.SIGTERM, 5*time.Second)

	// Stopped: nothing more arrives. Every event once, every alert once
	// (the alerts table's id is unique), and no loss recorded.
	for _, ag := range agents {
		rows, err := db.QueryContext(context.Background(), `SELECT id FROM events WHERE agent_id = $1`, ag.id)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			seen[id] = true
		}
		rows.Close()
		var missing []string
		for i := uint64(1); i <= ag.seq; i++ {
			if id := event.MakeID(ag.boot, i); !seen[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 || len(seen) != int(ag.seq) {
			t.Errorf("agent %s: %d events stored of %d; missing: %v", ag.site, len(seen), ag.seq, missing[:min(5, len(missing))])
		}
	}
	got, err := alerts()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alerts by person %v, want %v", got, want)
	}
	var losses []string
	rows, err := db.QueryContext(context.Background(), `SELECT agent_id, reason, count, from_seq, to_seq FROM loss`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var agent, reason string
		var count, from, to int64
		if err := rows.Scan(&agent, &reason, &count, &from, &to); err != nil {
			t.Fatal(err)
		}
		losses = append(losses, fmt.Sprintf("%s %s %d (%d-%d)", agent, reason, count, from, to))
	}
	rows.Close()
	if len(losses) > 0 {
		t.Errorf("loss recorded where none happened: %s", strings.Join(losses, "; "))
	}
	t.Logf("%d events, %d alerts across two collectors, one killed -9 and restarted", emitted(), total)
}
