package store

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

//go:embed schema.sql
var schema string

// Store is the collector's database.
type Store struct {
	db *sql.DB
	d  *dialect
	// Statements every batch runs, prepared once so that a batch does not
	// parse the same SQL for each row.
	putEvent, updateEvent, putAlert, putEvidence, addLoss, readSeq, saveSeq, seenAgent, seenSite, bootOwner *sql.Stmt
	// chainStmts are the chain's statements (chain.go), by their SQL.
	chainStmts map[string]*sql.Stmt
	// sign signs a base checkpoint when Prune cuts a segment (SetSigner).
	sign func(msg []byte) []byte
	// now stamps chain entries; Prune cuts the chain by these stamps.
	now func() time.Time
}

const (
	sqlPutEvent = `INSERT INTO events
		(id, time, received, kind, site, host, agent_id, boot_id, seq, person, body, db_rows, upload_bytes, export_bytes, idents)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlUpdateEvent = `UPDATE events SET person = ?, body = ?, db_rows = ?, upload_bytes = ?, export_bytes = ?, idents = ? WHERE id = ? RETURNING n`
	sqlPutAlert    = `INSERT INTO alerts
		(id, time, received, rule, severity, sev, scope, site, host, agent_id, person, summary, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING n`
	sqlPutEvidence = `INSERT INTO alert_evidence (alert_id, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING`
	sqlAddLoss     = `INSERT INTO loss (time, site, host, agent_id, boot_id, reason, sensor, count, from_seq, to_seq, confirmed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING n`
	sqlReadSeq = `SELECT max_seq FROM seqs WHERE agent_id = ? AND boot_id = ?`
	sqlSaveSeq = `INSERT INTO seqs (agent_id, boot_id, max_seq) VALUES (?, ?, ?)
		ON CONFLICT (agent_id, boot_id) DO UPDATE SET max_seq = excluded.max_seq`
	sqlSeenAgent = `INSERT INTO agents (agent_id, site, host, boot_id, first_seen, last_seen, last_heartbeat, heartbeat)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (agent_id) DO UPDATE SET site = excluded.site, host = excluded.host, boot_id = excluded.boot_id,
			last_seen = excluded.last_seen,
			last_heartbeat = CASE WHEN excluded.last_heartbeat > 0 THEN excluded.last_heartbeat ELSE agents.last_heartbeat END,
			heartbeat = COALESCE(excluded.heartbeat, agents.heartbeat)`
	sqlSeenSite = `INSERT INTO sites (site, first_seen, last_seen) VALUES (?, ?, ?)
		ON CONFLICT (site) DO UPDATE SET last_seen = excluded.last_seen`
)

// Open opens (or creates) the store at target: a SQLite file, or the
// PostgreSQL database a postgres:// URL names.
func Open(target string) (*Store, error) {
	db, d, err := openDB(target, false)
	if err != nil {
		return nil, err
	}
	path := target
	if d == postgresDialect {
		path = redactDSN(target)
	}
	if err := migrate(context.Background(), db, d, path); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, d: d, now: time.Now}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{{&s.putEvent, sqlPutEvent + d.putEventReturning}, {&s.updateEvent, sqlUpdateEvent}, {&s.putAlert, sqlPutAlert}, {&s.putEvidence, sqlPutEvidence}, {&s.addLoss, sqlAddLoss},
		{&s.readSeq, sqlReadSeq}, {&s.saveSeq, sqlSaveSeq}, {&s.seenAgent, sqlSeenAgent}, {&s.seenSite, sqlSeenSite},
		{&s.bootOwner, sqlBootOwner}} {
		if *p.stmt, err = db.Prepare(p.sql); err != nil {
			db.Close()
			return nil, fmt.Errorf("preparing store statements in %s: %w", path, err)
		}
	}
	s.chainStmts = map[string]*sql.Stmt{}
	queries := []string{sqlChainHead, sqlPutChain, sqlPutBatch}
	for _, t := range chainTables {
		queries = append(queries, t.selectSQL())
	}
	for _, q := range queries {
		if s.chainStmts[q], err = db.Prepare(q); err != nil {
			db.Close()
			return nil, fmt.Errorf("preparing chain statements in %s: %w", path, err)
		}
	}
	return s, nil
}

// openDB opens target's database with its dialect; readOnly opens it
// for verify.
func openDB(target string, readOnly bool) (*sql.DB, *dialect, error) {
	if scheme, _, ok := strings.Cut(target, "://"); ok && !isPostgres(target) {
		return nil, nil, fmt.Errorf("opening store: %s:// is not a store; give a postgres:// URL or a SQLite file", scheme)
	}
	if isPostgres(target) {
		db, err := openPostgres(target, readOnly)
		if err != nil {
			return nil, nil, err
		}
		// A batch's writer, the API's readers, the checkpointer.
		db.SetMaxOpenConns(8)
		return db, postgresDialect, nil
	}
	q := url.Values{}
	if readOnly {
		q.Set("mode", "ro")
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// A batch is acknowledged to JetStream once committed, and JetStream
		// then forgets it: the commit must be on disk, not in the page cache.
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(OFF)")
		q.Set("_txlock", "immediate")
	}
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+target+"?"+q.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("opening store %s: %w", target, err)
	}
	// One writer; readers (the API) use their own connections under WAL.
	db.SetMaxOpenConns(4)
	return db, sqliteDialect, nil
}

// beginWrite starts a transaction that writes to the chained tables.
func (s *Store) beginWrite(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("waiting for the store's write lock: %w", err)
		}
	}
	return tx, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
