package agent_test

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
)

// buildGoTLSClient builds testdata/gotlsclient, a client on Go's own TLS
// relayed to its socket by another goroutine, which no probe reads.
func buildGoTLSClient(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gotlsclient")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/gotlsclient").CombinedOutput(); err != nil {
		t.Fatalf("building the Go TLS client: %v: %s", err, out)
	}
	return bin
}

// An encrypted connection whose plaintext no probe reads is reported while
// it is open, not only once it closes: a session held open for hours is
// visible from its first statement, and again at its end with the bytes
// it moved.
func TestUnreadableSessionReportedWhileOpen(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{TLS: true})
	bin := buildGoTLSClient(t)
	sink := runDBAgent(t, srv.Port)
	cmd := exec.Command(bin, srv.DSN, "hold")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // a kill of an exited process fails, as it may
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "connected\n" {
		t.Fatalf("gotlsclient: %q, %v", line, err)
	}
	start := await(t, sink, "db.session starting while the client is connected", func(ev *event.Event) bool {
		if ev.Kind == event.KindDBSession && ev.DB.Side == "client" && ev.DB.State == "end" {
			t.Fatalf("the session ended while its client was connected: %+v", ev.DB)
		}
		return ev.Kind == event.KindDBSession && ev.DB.Side == "client" && ev.DB.State == "start"
	})
	if !start.DB.Encrypted || start.DB.Reason != "tls" || start.Process.Comm != "gotlsclient" ||
		start.DB.BytesToServer == 0 || start.DB.BytesToClient == 0 {
		t.Errorf("start = %+v by %+v, want an encrypted (tls) session of gotlsclient that moved bytes both ways", start.DB, start.Process)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gotlsclient: %v", err)
	}
	end := await(t, sink, "the session's end", func(ev *event.Event) bool {
		return ev.Kind == event.KindDBSession && ev.DB.Side == "client" && ev.DB.State == "end" && ev.DB.Client == start.DB.Client
	})
	if end.DB.BytesToServer <= start.DB.BytesToServer || end.DB.BytesToClient <= start.DB.BytesToClient ||
		end.DB.DurationMS < start.DB.DurationMS {
		t.Errorf("end = %+v, want more bytes each way than at the start %+v", end.DB, start.DB)
	}
}

// A PostgreSQL 17 client asking for direct TLS (a TLS ClientHello as its
// first bytes, no SSLRequest) is reported as an encrypted db.session, not
// lost as a stream the parser cannot place. The server here is older and
// refuses it; the attempt is what is seen.
func TestPostgresDirectTLS(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{TLS: true})
	bin := buildGoTLSClient(t)
	sink := runDBAgent(t, srv.Port)
	dsn := strings.Replace(srv.DSN, "sslmode=require", "sslmode=require&sslnegotiation=direct", 1)
	if out, err := exec.Command(bin, dsn).CombinedOutput(); err == nil {
		t.Logf("gotlsclient with direct TLS connected: %s", out)
	}
	ev := await(t, sink, "db.session of the direct TLS client", func(ev *event.Event) bool {
		return ev.Kind == event.KindDBSession && ev.DB.Side == "client" && ev.Process.Comm == "gotlsclient"
	})
	if !ev.DB.Encrypted || ev.DB.Reason != "direct_tls" || ev.DB.Engine != "postgresql" || ev.DB.BytesToServer == 0 {
		t.Errorf("db.session = %+v, want an encrypted postgresql session (direct_tls) that sent its ClientHello", ev.DB)
	}
}
