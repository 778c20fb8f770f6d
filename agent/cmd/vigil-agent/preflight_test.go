package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testnats"
	"github.com/vigilhq/vigil/internal/testproc"
)

const goodRule = `rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}
`

// setup is one agent's files: agent.hcl, credentials and rules.
type setup struct {
	dir, url, seed, credsMode string
	agentID                   string // default ws-1, the id the key is enrolled for
	rule                      string
	noCollector               bool
}

func (s setup) write(t *testing.T) string {
	t.Helper()
	rulesDir := filepath.Join(s.dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if s.rule != "" {
		if err := os.WriteFile(filepath.Join(rulesDir, "pack.hcl"), []byte(s.rule), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	creds := filepath.Join(s.dir, "agent.creds")
	id := s.agentID
	if id == "" {
		id = "ws-1"
	}
	if err := os.WriteFile(creds, []byte(fmt.Sprintf("site = \"leeds\"\nagent_id = %q\nseed = %q\n", id, s.seed)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.credsMode == "0644" {
		if err := os.Chmod(creds, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hclText := fmt.Sprintf("site = \"leeds\"\nstate_dir = %q\nrules_dir = %q\n", s.dir, rulesDir)
	if !s.noCollector {
		hclText += fmt.Sprintf("collector {\n  url = %q\n  creds = %q\n}\n", s.url, creds)
	}
	cfg := filepath.Join(s.dir, "agent.hcl")
	if err := os.WriteFile(cfg, []byte(hclText), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func seed(t *testing.T) (string, string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := kp.Seed()
	p, _ := kp.PublicKey()
	return string(s), p
}

// Each broken input of a set-up gives its own failing line with a fix and
// a failing exit; the set-up with nothing broken passes.
func TestPreflightChecksTheSetUp(t *testing.T) {
	testkernel.RequireRoot(t) // the sensor checks load programs
	enrolled, public := seed(t)
	stranger, _ := seed(t)
	admin, adminPublic := seed(t)
	o := testnats.Options(t)
	// As the collector's server has it: the key publishes only to its own
	// agent's subjects, and a stream takes them.
	o.Nkeys = []*server.NkeyUser{{Nkey: public, Permissions: &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"vigil.leeds.ws-1.>"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.ws-1.>"}},
	}}, {Nkey: adminPublic}}
	url := testnats.Run(t, o).ClientURL()
	adminKey, err := nkeys.FromSeed([]byte(admin))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, nats.Nkey(adminPublic, adminKey.Sign))
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
	closed := fmt.Sprintf("nats://127.0.0.1:%d", testproc.FreePort(t))

	good := setup{url: url, seed: enrolled, rule: goodRule}
	cases := []struct {
		name string
		edit func(*setup)
		want string // the failing line
	}{
		{"nothing broken", func(*setup) {}, ""},
		{"no collector block", func(s *setup) { s.noCollector = true }, "FAIL collector block"},
		{"credentials others can read", func(s *setup) { s.credsMode = "0644" }, "FAIL credentials"},
		{"a key the collector does not know", func(s *setup) { s.seed = stranger }, "FAIL collector"},
		// ... and its fix is to enrol again, not to check the address.
		{"an unreachable collector", func(s *setup) { s.url = closed }, "FAIL collector"},
		{"another agent's id for this key", func(s *setup) { s.agentID = "ws-2" }, "FAIL collector"},
		{"no rules", func(s *setup) { s.rule = "" }, "FAIL host rules"},
		{"a broken rule", func(s *setup) { s.rule = strings.Replace(goodRule, `"pg_dump"`, `pg_dump(`, 1) }, "FAIL host rules"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := good
			s.dir = t.TempDir()
			c.edit(&s)
			cfg := s.write(t)
			var out bytes.Buffer
			err := preflight(preflightOptions{config: cfg, timeout: 5 * time.Second}, &out)
			text := out.String()
			if c.want == "" {
				if err != nil {
					t.Fatalf("a sound set-up failed preflight: %v\n%s", err, text)
				}
				for _, line := range []string{"ok   credentials", "ok   collector ", "ok   host rules", "ok   spool disk"} {
					if !strings.Contains(text, line) {
						t.Errorf("output lacks %q:\n%s", line, text)
					}
				}
				if info, err := stream.Info(t.Context()); err != nil || info.State.Msgs != 0 {
					t.Errorf("the publish check stored something: %+v, %v", info.State, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("preflight passed with %s:\n%s", c.name, text)
			}
			if !strings.Contains(text, c.want) || !strings.Contains(text, "fix: ") {
				t.Errorf("output lacks %q and its fix:\n%s", c.want, text)
			}
			if c.name == "a key the collector does not know" && !strings.Contains(text, "fix: the collector does not know this key") {
				t.Errorf("an unknown key is not told to enrol again:\n%s", text)
			}
			if c.name == "another agent's id for this key" && !strings.Contains(text, "fix: set site and agent_id") {
				t.Errorf("a key used under another agent's id is not told to set the enrolled id:\n%s", text)
			}
			if n := strings.Count(text, "FAIL"); n != 1 {
				t.Errorf("%d failing lines, want only the broken input's:\n%s", n, text)
			}
		})
	}
}

// The agent will not run with a key others can read: whoever reads it can
// publish as this agent. The check comes before any probe loads.
func TestRunRefusesReadableCredentials(t *testing.T) {
	enrolled, _ := seed(t)
	s := setup{dir: t.TempDir(), url: "nats://127.0.0.1:1", seed: enrolled, rule: goodRule, credsMode: "0644"}
	cfg := s.write(t)
	out, err := exec.Command(buildAgent(t), "run", "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "mode 0644 lets other users read") || !strings.Contains(string(out), "chmod 600") {
		t.Fatalf("run with a world-readable key: %v\n%s", err, out)
	}
}
