package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A new store is at the newest schema version.
func TestNewStoreIsCurrent(t *testing.T) {
	path := storeTarget(t)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if v := userVersion(t, path); v != SchemaVersion || SchemaVersion < 2 {
		t.Errorf("user_version %d, want %d", v, SchemaVersion)
	}
}

// A store written before versions were kept (the schema of the first
// migration, user_version 0, with data) upgrades in place: its data stays,
// what later migrations add is there, and opening again changes nothing.
func TestUpgradeFromUnversionedStore(t *testing.T) {
	path := storeTarget(t)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO events (id, time, received, kind, site, host, agent_id, boot_id, seq, person, body)
		VALUES ('b-1', 1, 1, 'file.write', 'leeds', 'ws', 'ag', 'b', 1, 'ana', '{}')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if v := userVersion(t, path); v != 0 {
		t.Fatalf("fixture at version %d", v)
	}
	for range 2 {
		st, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := st.CountEvents(context.Background()); err != nil || n != 1 {
			t.Errorf("events after the upgrade: %d %v", n, err)
		}
		if _, _, err := st.OutputCursor(context.Background(), "x"); err != nil {
			t.Errorf("outputs table missing after the upgrade: %v", err)
		}
		st.Close()
		if v := userVersion(t, path); v != SchemaVersion {
			t.Errorf("user_version %d, want %d", v, SchemaVersion)
		}
	}
}

// A store a newer collector wrote is refused with what to do, not opened
// and misread.
func TestNewerStoreRefused(t *testing.T) {
	path := storeTarget(t)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "newer vigil-collector") || !strings.Contains(err.Error(), "999") {
		t.Errorf("Open of a newer store: %v", err)
	}
}
