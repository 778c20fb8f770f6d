package publish

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/internal/testnats"
)

func userSeed(t *testing.T) (seed string, public string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := kp.Seed()
	p, _ := kp.PublicKey()
	return string(s), p
}

// Check reaches a server that knows the key, and names the failure when the
// server does not know it or nothing listens.
func TestCheckConnectsAsTheEnrolledKey(t *testing.T) {
	enrolled, public := userSeed(t)
	stranger, _ := userSeed(t)
	o := testnats.Options(t)
	o.Nkeys = []*server.NkeyUser{{Nkey: public}}
	s := testnats.Run(t, o)

	cfg := &Config{URL: s.ClientURL(), Identity: &Creds{Site: "leeds", AgentID: "ag-1", Seed: enrolled}}
	got, err := Check(cfg, 2*time.Second)
	if err != nil || !strings.Contains(got, "NATS ") {
		t.Fatalf("Check with the enrolled key = %q, %v", got, err)
	}

	cfg.Identity.Seed = stranger
	if _, err := Check(cfg, 2*time.Second); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("Check with a key the server does not know: %v, want an authorization violation", err)
	}

	// A port nobody listens on: the error names the address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg.URL = "nats://127.0.0.1:" + strconv.Itoa(port)
	if _, err := Check(cfg, time.Second); err == nil || !strings.Contains(err.Error(), cfg.URL) {
		t.Fatalf("Check of a closed port: %v", err)
	}
}
