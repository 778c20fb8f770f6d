package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/checkpoint"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testenv"
)

// The collector run with --store postgres://... stores the agent's
// events and alert there; vigil verify checks that database as it checks
// a file, and names a row edited with psql behind the collector's back.
func TestVerifyCollectedPostgresStore(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{})
	psql := func(sql string) {
		t.Helper()
		bin, err := exec.LookPath("psql")
		if err != nil {
			testenv.Skip(t, "psql is not installed (apt install postgresql-client)")
		}
		cmd := exec.Command(bin, "-q", "-v", "ON_ERROR_STOP=1", srv.DSN)
		cmd.Stdin = strings.NewReader(sql)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("psql %s: %v: %s", sql, err, out)
		}
	}
	psql(`CREATE USER vigil PASSWORD 'hunter2'; CREATE DATABASE vigil OWNER vigil`)
	dsn := strings.Replace(strings.Replace(srv.DSN, "/postgres?", "/vigil?", 1), "postgres@", "vigil:hunter2@", 1)
	data, published := collectedStoreIn(t, dsn)
	pub := filepath.Join(data, checkpoint.PubKeyFile)
	code, stdout, stderr := runCLI("verify", dsn, "--checkpoints", published, "--public-key", pub)
	if code != exitOK || !strings.HasPrefix(stdout, "ok: ") {
		t.Fatalf("untouched store: exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "hunter2") {
		t.Fatalf("verify printed the store's password:\n%s%s", stdout, stderr)
	}
	psql(`\c vigil
		UPDATE events SET person = 'someone else' WHERE n = 2`)
	code, stdout, stderr = runCLI("verify", dsn, "--checkpoints", published, "--public-key", pub)
	if code != exitFail || !strings.Contains(stdout, "first: edited: events row 2") {
		t.Fatalf("edited row: exit %d, want %d naming events row 2\n%s%s", code, exitFail, stdout, stderr)
	}
}
