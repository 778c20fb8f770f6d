package e2e

// Database capture on the database host itself: clients that reach the
// server over its Unix-domain socket, as psql with no -h does, and
// through sudo to the server's own account. The statements are stored
// once, from the client end, attributed to the person who ran them.

import (
	"fmt"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

type captureRig struct {
	c     *collector
	data  string
	agent *agentProc
	pg    *testdb.Server
	n     int
}

func TestCaptureUnixSocket(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "sudo", "setpriv", "useradd")
	pg := testdb.StartPostgres(t, testdb.Options{})
	rulesDir := testRules(t, "")
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir, "--host-rules", rulesDir)
	uma := ensurePerson(t, "vigil-e2e-uma")
	sid := ensurePerson(t, "vigil-e2e-sid")
	r := &captureRig{c: c, data: data, pg: pg}
	r.agent = startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "db-leeds-01", dbPorts: []int{pg.Port},
		rulesDir: rulesDir})

	// uma logs in and runs psql as herself over the socket.
	t.Run("LoginUser", func(t *testing.T) {
		u, err := user.Lookup(uma.name)
		if err != nil {
			t.Fatal(err)
		}
		uma.run(t, "setpriv", append([]string{"--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "psql"},
			r.psqlArgs("SELECT 1 AS via_socket_login")...)...)
		r.stored(t, uma, "via_socket_login")
	})
	// sid becomes the server's own account with sudo, the usual way to
	// reach a Debian database as its superuser.
	t.Run("SudoPostgres", func(t *testing.T) {
		sid.run(t, "sudo", append([]string{"-u", "postgres", "psql"}, r.psqlArgs("SELECT 2 AS via_sudo_postgres")...)...)
		r.stored(t, sid, "via_sudo_postgres")
	})
}

// psqlArgs connects psql over the server's socket directory.
func (r *captureRig) psqlArgs(query string) []string {
	return []string{"-h", r.pg.Socket, "-p", fmt.Sprint(r.pg.Port), "-U", r.pg.User, "-d", r.pg.Database, "-X", "-q",
		"-v", "ON_ERROR_STOP=1", "-c", query}
}

// stored waits until the query aliased alias is stored as p's, once, from
// the client end, naming the socket; and not from the server end.
func (r *captureRig) stored(t *testing.T, p *person, alias string) {
	t.Helper()
	// A marked command after the query: once its process.exec is stored,
	// everything the agent read before it is stored too.
	r.n++
	marker := fmt.Sprintf("vigil-e2e-capture-barrier-%d", r.n)
	p.run(t, "/bin/true", marker)
	barrier := fmt.Sprintf("json_extract(body, '$.process.cmdline') LIKE '%%%s%%'", marker)
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		if storedEvents(t, r.data, r.agent.id, event.KindProcessExec, p.name, barrier) == 0 {
			return fmt.Errorf("barrier %s of %s not stored yet", marker, p.name)
		}
		return nil
	})
	socket := filepath.Join(r.pg.Socket, fmt.Sprintf(".s.PGSQL.%d", r.pg.Port))
	query := fmt.Sprintf("json_extract(body, '$.db.statement') LIKE '%%AS %s%%'", alias)
	client := query + fmt.Sprintf(" AND json_extract(body, '$.db.side') = 'client' AND json_extract(body, '$.db.server') = '%s'"+
		" AND json_extract(body, '$.process.comm') = 'psql'", socket)
	if n := storedEvents(t, r.data, r.agent.id, event.KindDBQuery, p.name, client); n != 1 {
		all := storedEvents(t, r.data, r.agent.id, event.KindDBQuery, "", query)
		t.Errorf("%d client-side db.query events of %q over %s stored as %s's, want 1 (%d of it stored for anyone)", n, alias, socket, p.name, all)
	}
	server := query + " AND json_extract(body, '$.db.side') = 'server'"
	if n := storedEvents(t, r.data, r.agent.id, event.KindDBQuery, "", server); n != 0 {
		t.Errorf("%d server-side db.query events of %q stored; the server end of a local socket connection is left to its client end", n, alias)
	}
}
