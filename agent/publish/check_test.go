package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
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

// Check reaches a server that knows the key and lets it publish to its
// agent's subjects, and names the failure when the server does not know
// it, holds it to another agent's subjects, has no stream for them, or
// nothing listens.
func TestCheckConnectsAsTheEnrolledKey(t *testing.T) {
	enrolled, public := userSeed(t)
	stranger, _ := userSeed(t)
	admin, adminPublic := userSeed(t)
	o := testnats.Options(t)
	o.Nkeys = []*server.NkeyUser{{Nkey: public, Permissions: &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"vigil.leeds.ag-1.>"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.ag-1.>"}},
	}}, {Nkey: adminPublic}}
	s := testnats.Run(t, o)

	cfg := &Config{URL: s.ClientURL(), Identity: &Creds{Site: "leeds", AgentID: "ag-1", Seed: enrolled}}
	if _, err := Check(cfg, 2*time.Second); err == nil || !strings.Contains(err.Error(), "no stream takes it") {
		t.Fatalf("Check against a server without the stream: %v", err)
	}
	adminCfg := &Config{Identity: &Creds{Seed: admin}}
	auth, err := adminCfg.AuthOptions()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), auth...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "VIGIL", Subjects: []string{"vigil.>"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Check(cfg, 2*time.Second)
	if err != nil || !strings.Contains(got, "NATS ") || !strings.Contains(got, "publish allowed") {
		t.Fatalf("Check with the enrolled key = %q, %v", got, err)
	}
	if info, err := stream.Info(t.Context()); err != nil || info.State.Msgs != 0 {
		t.Errorf("the check stored something: %+v, %v", info.State, err)
	}

	cfg.Identity.AgentID = "ag-2"
	if _, err := Check(cfg, 2*time.Second); !errors.Is(err, ErrPublishRefused) {
		t.Fatalf("Check with the key under another agent's id: %v, want %v", err, ErrPublishRefused)
	}
	cfg.Identity.AgentID = "ag-1"

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

// authLog counts the server's authentication errors.
type authLog struct {
	mu     sync.Mutex
	errors int
}

func (l *authLog) Errorf(format string, v ...any) {
	if strings.Contains(strings.ToLower(fmt.Sprintf(format, v...)), "authentication error") {
		l.mu.Lock()
		l.errors++
		l.mu.Unlock()
	}
}
func (l *authLog) Noticef(string, ...any) {}
func (l *authLog) Warnf(string, ...any)   {}
func (l *authLog) Fatalf(string, ...any)  {}
func (l *authLog) Debugf(string, ...any)  {}
func (l *authLog) Tracef(string, ...any)  {}

func (l *authLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errors
}

// An agent whose key the collector does not know yet (started before the
// enrolment reached the collector, or re-enrolled) keeps trying past the
// client's default of giving up after the same auth error twice, and
// delivers its spool once the key is known.
func TestPublisherOutlastsAnUnknownKey(t *testing.T) {
	seed, public := userSeed(t)
	_, stranger := userSeed(t)
	o := testnats.Options(t)
	o.Nkeys = []*server.NkeyUser{{Nkey: stranger}}
	o.NoAuthUser = ""
	s := testnats.Run(t, o)
	log := &authLog{}
	s.SetLoggerV2(log, false, false, false)
	admin, adminPublic := userSeed(t)
	o2 := o.Clone()
	o2.Nkeys = append(o2.Nkeys, &server.NkeyUser{Nkey: adminPublic})
	if err := s.ReloadOptions(o2); err != nil {
		t.Fatal(err)
	}
	kp, _ := (&Creds{Seed: admin}).KeyPair()
	nc, err := nats.Connect(s.ClientURL(), nats.Nkey(adminPublic, kp.Sign))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.CreateOrUpdateStream(context.Background(), streamConfig("vigil.>"))
	if err != nil {
		t.Fatal(err)
	}

	p := newPublisher(t, s.ClientURL(), t.TempDir(), func(c *Config) {
		c.Identity = &Creds{Site: "leeds", AgentID: "ag-1", Seed: seed}
	})
	defer p.Close()
	f := &fakeAgent{pub: p}
	p.Start(f)
	emitN(f, 20)
	// Three refusals: one more than the client's default tolerates.
	testproc.CheckFor(t, 20*time.Second, pollEvery, func() error {
		if n := log.count(); n < 3 {
			return fmt.Errorf("%d refusals so far", n)
		}
		return nil
	})
	o3 := o2.Clone()
	o3.Nkeys = append(o3.Nkeys, &server.NkeyUser{Nkey: public})
	if err := s.ReloadOptions(o3); err != nil {
		t.Fatal(err)
	}
	waitDrained(t, p, 20*time.Second)
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs == 0 {
		t.Fatal("nothing stored after the key became known")
	}
}
