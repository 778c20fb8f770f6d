package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// chainedStore builds a store through the write path the collector uses:
// events (one updated after storing, a seq gap recorded as loss and
// confirmed), an alert citing two of them, a triage action and a read of
// its evidence. It returns the closed store's path.
func chainedStore(t *testing.T) string {
	t.Helper()
	path := storeTarget(t)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var evs []*event.Event
	for _, seq := range []uint64{1, 2, 3, 5, 6, 7} {
		evs = append(evs, newEvent(seq))
	}
	// Rows 5 and 6 fill measure columns: an export and a statement.
	evs[4].File.Removable = true
	evs[5].Kind, evs[5].File, evs[5].DB = event.KindDBQuery, nil, &event.DB{Rows: 40, Identifiers: map[string][]string{"customers.id": {"h1"}}}
	write(t, st, func(tx *Tx) error {
		for _, ev := range evs {
			body, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if _, err := tx.PutEvent(ev, body, t0); err != nil {
				return err
			}
			if _, err := tx.TrackSeq(ev, t0); err != nil {
				return err
			}
		}
		return nil
	})
	write(t, st, func(tx *Tx) error {
		evs[1].Process.LoginUser = "ana"
		return tx.UpdateEvent(evs[1])
	})
	putAlerts(t, st, t0, newAlert("al-1", "csv_export", "high", evs[1].ID, evs[2].ID))
	if _, err := st.ConfirmGaps(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Triage(ctx, "al-1", "ana", TriageAction{Action: ActClose, Reason: "true_positive"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.Audit(ctx, AuditEntry{At: t0, Actor: "bob", Action: "view_evidence", Target: "al-1"}); err != nil {
		t.Fatal(err)
	}
	return path
}

func verify(t *testing.T, path string, cps []Checkpoint, pub ed25519.PublicKey) *VerifyReport {
	t.Helper()
	r, err := Verify(context.Background(), path, cps, pub)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A store written through the write path verifies, with every chained row
// counted.
func TestUntouchedStoreVerifies(t *testing.T) {
	path := chainedStore(t)
	r := verify(t, path, nil, nil)
	if !r.OK() {
		t.Fatalf("untouched store: %v", r.Findings)
	}
	// 6 events, 1 loss, 1 alert, 2 evidence links, 1 triage, 2 audit rows.
	if r.Rows != 13 || r.Entries < r.Rows {
		t.Errorf("verified %d rows in %d entries, want 13 rows", r.Rows, r.Entries)
	}
}

// Each change made to the file behind the collector's back is named:
// kind, table and row.
func TestVerifyNamesTampering(t *testing.T) {
	// The changes whose SQL differs on PostgreSQL (bytea, not blob).
	pgSQL := map[string]string{
		"edit an event's body":            `UPDATE events SET body = convert_to(replace(convert_from(body, 'UTF8'), '/tmp/x.csv', '/tmp/y.csv'), 'UTF8') WHERE n = 3`,
		"edit a row and its chain digest": `UPDATE events SET body = '{}' WHERE n = 3; UPDATE chain SET digest = '\x00' WHERE tbl = 'events' AND row = '3'`,
		"edit a row and its digest in its batch entry": `UPDATE events SET body = '{}' WHERE n = 3;
			UPDATE chain SET rows = substr(rows, 1, 134) || decode(repeat('00', 32), 'hex') || substr(rows, 167) WHERE tbl = 'events' AND op = 'batch' AND row = '1..4'`,
		"delete a row and its place in its batch entry": `DELETE FROM events WHERE n = 3;
			UPDATE chain SET rows = substr(rows, 1, 132) || substr(rows, 199) WHERE tbl = 'events' AND op = 'batch' AND row = '1..4'`,
		"cut the last row of a batch entry": `DELETE FROM events WHERE n = 4;
			UPDATE chain SET rows = substr(rows, 1, 198) WHERE tbl = 'events' AND op = 'batch' AND row = '1..4'`,
	}
	for _, c := range []struct {
		name, sql      string
		kind, tbl, row string
	}{
		{"edit an event's body", `UPDATE events SET body = replace(body, '/tmp/x.csv', '/tmp/y.csv') WHERE n = 3`, FindEdited, "events", "3"},
		{"edit an event's person", `UPDATE events SET person = 'someone' WHERE n = 2`, FindEdited, "events", "2"},
		{"lower an alert's severity", `UPDATE alerts SET severity = 'low', sev = 1`, FindEdited, "alerts", "1"},
		{"reword a triage", `UPDATE triage SET reason = 'false_positive'`, FindEdited, "triage", `"al-1"`},
		{"shrink a loss record", `UPDATE loss SET count = 0`, FindEdited, "loss", "1"},
		{"edit the audit log", `UPDATE audit SET actor = 'nobody' WHERE n = 2`, FindEdited, "audit", "2"},
		{"lower an event's exported bytes", `UPDATE events SET export_bytes = 0 WHERE n = 5`, FindEdited, "events", "5"},
		{"lower an event's rows", `UPDATE events SET db_rows = 0 WHERE n = 6`, FindEdited, "events", "6"},
		{"raise an event's uploaded bytes", `UPDATE events SET upload_bytes = 1 WHERE n = 3`, FindEdited, "events", "3"},
		{"drop an event's customers", `UPDATE events SET idents = NULL WHERE n = 6`, FindEdited, "events", "6"},
		{"add customers to an event", `UPDATE events SET idents = '["h"]' WHERE n = 3`, FindEdited, "events", "3"},
		{"delete an event", `DELETE FROM events WHERE n = 3`, FindDeleted, "events", "3"},
		{"delete the alert", `DELETE FROM alerts`, FindDeleted, "alerts", "1"},
		{"unlink evidence", `DELETE FROM alert_evidence WHERE event_id = (SELECT id FROM events WHERE n = 3)`, FindDeleted, "alert_evidence", ""},
		{"insert an event", `INSERT INTO events (id, time, received, kind, site, host, agent_id, boot_id, seq, person, body)
			VALUES ('fake', 1, 1, 'file.write', 'leeds', 'ws1', 'ag-1', 'b1', 4, 'mona', '{}')`, FindInserted, "events", "7"},
		{"insert an audit row", `INSERT INTO audit (at, actor, action, target, detail) VALUES (1, 'ana', 'close', 'al-1', '')`, FindInserted, "audit", "3"},
		{"swap two events", `UPDATE events SET n = -1 WHERE n = 2; UPDATE events SET n = 2 WHERE n = 3; UPDATE events SET n = 3 WHERE n = -1`,
			FindReordered, "events", "3"},
		{"delete a row and its chain entry", `DELETE FROM events WHERE n = 3; DELETE FROM chain WHERE tbl = 'events' AND row = '3'`, FindDeleted, "", ""},
		{"edit a row and its chain digest", `UPDATE events SET body = '{}' WHERE n = 3; UPDATE chain SET digest = x'00' WHERE tbl = 'events' AND row = '3'`,
			FindEdited, "events", "3"},
		// Events 1 to 4 are one batch entry, each row 66 bytes of its list:
		// the third row's digest is bytes 135 to 166.
		{"edit a row and its digest in its batch entry", `UPDATE events SET body = '{}' WHERE n = 3;
			UPDATE chain SET rows = CAST(substr(rows, 1, 134) || zeroblob(32) || substr(rows, 167) AS BLOB) WHERE tbl = 'events' AND op = 'batch' AND row = '1..4'`,
			FindChain, "events", "3"},
		{"delete a row and its place in its batch entry", `DELETE FROM events WHERE n = 3;
			UPDATE chain SET rows = CAST(substr(rows, 1, 132) || substr(rows, 199) AS BLOB) WHERE tbl = 'events' AND op = 'batch' AND row = '1..4'`,
			FindChain, "events", "4"},
		{"cut the last row of a batch entry", `DELETE FROM events WHERE n = 4;
			UPDATE chain SET rows = CAST(substr(rows, 1, 198) AS BLOB) WHERE tbl = 'events' AND op = 'batch' AND row = '1..4'`,
			FindChain, "events", "1..4"},
		{"delete a batch of events and its entry", `DELETE FROM events WHERE n <= 4; DELETE FROM chain WHERE tbl = 'events' AND row = '1..4'`,
			FindDeleted, "", ""},
		{"swap two chain entries", `UPDATE chain SET seq = -1 WHERE seq = 2; UPDATE chain SET seq = 2 WHERE seq = 3; UPDATE chain SET seq = 3 WHERE seq = -1`,
			FindChain, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := chainedStore(t)
			if q, ok := pgSQL[c.name]; ok && onPostgres(t) {
				c.sql = q
			}
			tamper(t, path, c.sql)
			r := verify(t, path, nil, nil)
			if r.OK() {
				t.Fatal("tampered store verified")
			}
			f := r.Findings[0]
			if f.Kind != c.kind || (c.tbl != "" && (f.Table != c.tbl || (c.row != "" && f.Row != c.row))) {
				t.Errorf("first finding %s, want %s of %s row %s (all: %v)", f, c.kind, c.tbl, c.row, r.Findings)
			}
		})
	}
}

// checkpoint signs the store's head as the collector does.
func checkpoint(t *testing.T, path string, key ed25519.PrivateKey) Checkpoint {
	t.Helper()
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seq, hash, err := st.ChainHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cp := Checkpoint{Seq: seq, Hash: hash, At: t0, Kind: CheckpointInterval}
	cp.Sig = ed25519.Sign(key, cp.Message())
	if _, err := st.AddCheckpoint(context.Background(), cp); err != nil {
		t.Fatal(err)
	}
	return cp
}

// Cutting the tail (the newest rows with their chain entries, and the
// stored checkpoints) leaves a consistent chain; a checkpoint published
// elsewhere shows it is shorter than it was.
func TestVerifyNamesTruncatedTail(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	path := chainedStore(t)
	cp := checkpoint(t, path, key)
	tamper(t, path, `DELETE FROM audit WHERE n = 2;
		DELETE FROM chain WHERE seq = (SELECT max(seq) FROM chain);
		DELETE FROM checkpoints`)
	if r := verify(t, path, nil, pub); !r.OK() {
		t.Fatalf("without the published checkpoint the cut is invisible, yet: %v", r.Findings)
	}
	r := verify(t, path, []Checkpoint{cp}, pub)
	if r.OK() || r.Findings[0].Kind != FindTruncated || r.Findings[0].Seq != cp.Seq {
		t.Fatalf("findings %v, want truncated at seq %d", r.Findings, cp.Seq)
	}
}

// Someone who knows the scheme can edit a row and rewrite every chain
// entry after it; a checkpoint published before shows the rewrite, and a
// forged checkpoint fails its signature.
func TestVerifyNamesRewrittenChain(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	path := chainedStore(t)
	cp := checkpoint(t, path, key)
	tamper(t, path, `UPDATE events SET body = '{}' WHERE n = 3; DELETE FROM checkpoints`)
	rechain(t, path)
	if r := verify(t, path, nil, pub); !r.OK() {
		t.Fatalf("a rewritten chain with no published checkpoint is expected to verify (what a local root can hide): %v", r.Findings)
	}
	r := verify(t, path, []Checkpoint{cp}, pub)
	if r.OK() || r.Findings[0].Kind != FindRewritten {
		t.Fatalf("findings %v, want rewritten", r.Findings)
	}
	forged := cp
	forged.Hash = make([]byte, 32)
	r = verify(t, path, []Checkpoint{forged}, pub)
	if r.OK() || r.Findings[0].Kind != FindSignature {
		t.Fatalf("findings %v, want a failed signature", r.Findings)
	}
}

// rechain recomputes the digest of each row's latest entry from the row
// as it is, and every hash after, keeping the entries' seqs and times: what
// an attacker with the file and this source would do.
func rechain(t *testing.T, path string) {
	t.Helper()
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	type entry struct {
		seq, at      int64
		tbl, row, op string
		digest, list []byte
	}
	rows, err := tx.Query(`SELECT seq, at, tbl, row, op, digest, rows FROM chain ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var all []entry
	last := map[string]int{}
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.seq, &e.at, &e.tbl, &e.row, &e.op, &e.digest, &e.list); err != nil {
			t.Fatal(err)
		}
		if e.op == OpBatch {
			listed, err := decodeBatch(e.list)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range listed {
				last[e.tbl+" "+r.key] = len(all)
			}
		} else {
			last[e.tbl+" "+e.row] = len(all)
		}
		all = append(all, e)
	}
	rows.Close()
	current := map[string][]byte{}
	for _, ct := range chainTables {
		rows, err := tx.Query(ct.selectAllSQL())
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			key, vals, err := scanChainRow(rows, ct)
			if err != nil {
				t.Fatal(err)
			}
			d := rowDigest(ct, vals)
			current[ct.name+" "+key] = d[:]
		}
		rows.Close()
	}
	prev := make([]byte, 32)
	for i, e := range all {
		if e.op == OpBatch {
			listed, _ := decodeBatch(e.list)
			l := batchList{tbl: e.tbl}
			for _, r := range listed {
				if d, ok := current[e.tbl+" "+r.key]; ok && last[e.tbl+" "+r.key] == i {
					r.digest = [32]byte(d)
				}
				l.add(r.key, r.digest)
			}
			e.digest, e.list = l.link[:], l.buf
		} else if d, ok := current[e.tbl+" "+e.row]; ok && last[e.tbl+" "+e.row] == i {
			e.digest = d
		}
		h := entryHash(prev, e.seq, e.at, e.tbl, e.row, e.op, e.digest)
		if _, err := tx.Exec(`UPDATE chain SET digest = ?, hash = ?, rows = ? WHERE seq = ?`, e.digest, h[:], e.list, e.seq); err != nil {
			t.Fatal(err)
		}
		prev = h[:]
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A store made before the chain has its rows adopted as it is migrated,
// and verifies.
func TestUpgradedStoreVerifies(t *testing.T) {
	path := storeTarget(t)
	tamper(t, path, schema+`INSERT INTO events (id, time, received, kind, site, host, agent_id, boot_id, seq, person, body)
		VALUES ('b-1', 1, 1, 'file.write', 'leeds', 'ws', 'ag', 'b', 1, 'ana', '{}')`)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := verify(t, path, nil, nil)
	if !r.OK() || r.Rows != 1 {
		t.Fatalf("upgraded store: %d rows, %v", r.Rows, r.Findings)
	}
	tamper(t, path, `UPDATE events SET person = 'bob'`)
	if r := verify(t, path, nil, nil); r.OK() || r.Findings[0].Kind != FindEdited {
		t.Fatalf("an edit of an adopted row: %v", r.Findings)
	}
}

func TestVerifyRefusesAStoreWithoutChain(t *testing.T) {
	path := storeTarget(t)
	tamper(t, path, schema)
	_, err := Verify(context.Background(), path, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "before the hash chain") {
		t.Fatalf("verify of an unchained store: %v", err)
	}
}

// Adoption reads and chains a big table in one pass.
func TestAdoptManyRows(t *testing.T) {
	path := storeTarget(t)
	tamper(t, path, schema+`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 5000)
		INSERT INTO events (id, time, received, kind, site, host, agent_id, boot_id, seq, person, body)
		SELECT 'b-' || i, i, i, 'file.write', 'leeds', 'ws', 'ag', 'b', i, 'ana', '{}' FROM c`)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if r := verify(t, path, nil, nil); !r.OK() || r.Rows != 5000 || r.Entries != 5000 {
		t.Fatalf("adopted store: %d rows in %d entries, %v", r.Rows, r.Entries, r.Findings)
	}
}
