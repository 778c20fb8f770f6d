package enrol

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/vigilhq/vigil/internal/testkernel"
)

// Enrolling records the agent's public key, readable only by the
// collector, and hands back a credentials file whose seed is that key's.
func TestEnrol(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agents")
	before := time.Now().UTC().Truncate(time.Second)
	a, b, err := Enrol(dir, "leeds", "ws1", "ag-1")
	if err != nil {
		t.Fatal(err)
	}
	if a.AgentID != "ag-1" || a.Site != "leeds" || a.Host != "ws1" || !nkeys.IsValidPublicUserKey(a.PublicKey) {
		t.Errorf("agent %+v", a)
	}
	if a.Enrolled.Before(before) || a.Enrolled.After(time.Now()) || a.Enrolled.Location() != time.UTC {
		t.Errorf("enrolled at %v, want now in UTC", a.Enrolled)
	}
	// The file is an NKey seed file NATS tools read, its seed the recorded
	// key's; the agent.hcl lines that bind it ride along as comments.
	kp, err := nkeys.ParseDecoratedUserNKey(b)
	if err != nil {
		t.Fatalf("credentials are not an NKey seed file: %v\n%s", err, b)
	}
	if pub, _ := kp.PublicKey(); pub != a.PublicKey {
		t.Errorf("seed's public key %s, recorded %s", pub, a.PublicKey)
	}
	seed, _ := kp.Seed()
	for _, want := range []string{`#   site     = "leeds"`, `#   agent_id = "ag-1"`, `#   host     = "ws1"`, "-----BEGIN USER NKEY SEED-----"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("credentials lack %q:\n%s", want, b)
		}
	}
	c := map[string]string{"seed": string(seed)}

	path := filepath.Join(dir, "ag-1.json")
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
	}
	var rec Agent
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &rec); err != nil || rec != *a {
		t.Errorf("record %s (%v), want %+v", data, err, a)
	}
	if strings.Contains(string(data), c["seed"]) {
		t.Error("the record holds the seed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("agents directory holds %d files, want the record only", len(entries))
	}
}

func TestEnrolMakesAnID(t *testing.T) {
	dir := t.TempDir()
	a, _, err := Enrol(dir, "leeds", "ws1", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Enrol(dir, "leeds", "ws2", "")
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`^ag-[0-9a-f]{24}$`)
	if !id.MatchString(a.AgentID) || !id.MatchString(b.AgentID) || a.AgentID == b.AgentID {
		t.Errorf("ids %s and %s, want two distinct ag- and 24 hex digits", a.AgentID, b.AgentID)
	}
}

// What Enrol refuses, it refuses before writing anything.
func TestEnrolRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Enrol(dir, "leeds", "ws1", "ag-1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, site, host, id, mention string }{
		{"empty site", "", "ws1", "ag-2", "site"},
		{"site with a dot", "leeds.uk", "ws1", "ag-2", "site"},
		{"site too long", strings.Repeat("s", 65), "ws1", "ag-2", "site"},
		{"agent id with a slash", "leeds", "ws1", "../ag-2", "agent id"},
		{"empty host", "leeds", "", "ag-2", "host"},
		{"host with a quote", "leeds", `ws"1`, "ag-2", "host"},
		{"host with a newline", "leeds", "ws1\nseed = \"x\"", "ag-2", "host"},
		{"host with a backslash", "leeds", `ws\1`, "ag-2", "host"},
		{"already enrolled", "leeds", "ws1", "ag-1", "already enrolled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b, err := Enrol(dir, c.site, c.host, c.id)
			if err == nil || a != nil || b != nil || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("agent %v, creds %d bytes, error %v; want an error about %s", a, len(b), err, c.mention)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || entries[0].Name() != "ag-1.json" {
				t.Fatalf("agents directory holds %v, want ag-1.json only", entries)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"ag-1", "ag-2"} {
		if _, _, err := Enrol(dir, "leeds", "ws-"+id, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := Revoke(dir, "ag-1"); err != nil {
		t.Fatal(err)
	}
	agents, errs := Load(dir)
	if len(errs) != 0 || len(agents) != 1 || agents[0].AgentID != "ag-2" {
		t.Fatalf("after revoking ag-1: %+v, %v; want ag-2 only", agents, errs)
	}
	if err := Revoke(dir, "ag-1"); err == nil || !strings.Contains(err.Error(), "not enrolled") {
		t.Errorf("revoking twice: %v, want not enrolled", err)
	}
	if err := Revoke(dir, "../ag-2"); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("revoking a path: %v, want the id refused", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ag-2.json")); err != nil {
		t.Errorf("ag-2's record: %v", err)
	}
}

// Load reads every record it can and names each file it cannot, so one
// bad file locks out no one else.
func TestLoad(t *testing.T) {
	if agents, errs := Load(filepath.Join(t.TempDir(), "absent")); agents != nil || errs != nil {
		t.Errorf("missing directory: %v, %v; want nothing", agents, errs)
	}
	dir := t.TempDir()
	for _, id := range []string{"ag-b", "ag-a"} {
		if _, _, err := Enrol(dir, "leeds", "ws-"+id, id); err != nil {
			t.Fatal(err)
		}
	}
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	record := func(site, id, key string) string {
		b, _ := json.Marshal(Agent{AgentID: id, Site: site, Host: "ws", PublicKey: key})
		return string(b)
	}
	bad := map[string]string{
		"broken.json":   `{"agent_id": "ag-x",`,
		"seed.json":     record("leeds", "ag-s", string(seed)),
		"badsite.json":  record("leeds uk", "ag-y", pub),
		"noid.json":     record("leeds", "", pub),
		"ag-z.json.tmp": record("leeds", "ag-z", pub), // an enrolment cut short
		"notes.txt":     "not a record",
	}
	for name, content := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	agents, errs := Load(dir)
	var ids []string
	for _, a := range agents {
		ids = append(ids, a.AgentID)
	}
	if !slices.Equal(ids, []string{"ag-a", "ag-b"}) {
		t.Errorf("agents %v, want ag-a and ag-b, in file order", ids)
	}
	var named []string
	for _, err := range errs {
		for _, name := range []string{"broken.json", "seed.json", "badsite.json", "noid.json"} {
			if strings.Contains(err.Error(), filepath.Join(dir, name)) {
				named = append(named, name)
			}
		}
	}
	slices.Sort(named)
	if len(errs) != 4 || !slices.Equal(named, []string{"badsite.json", "broken.json", "noid.json", "seed.json"}) {
		t.Errorf("errors %v, want one naming each bad .json file", errs)
	}
}

// An administrator enrols as root, the packaged collector reads the record
// as its own user: the record goes to the agents directory's owner, and an
// agents directory the first enrol makes goes to the data directory's owner,
// so that user (here nobody) can read it and root need not fix modes by hand.
func TestEnrolAsRootLeavesTheRecordToTheCollectorsUser(t *testing.T) {
	testkernel.RequireRoot(t)
	const nobody = 65534
	for _, agentsExists := range []bool{true, false} {
		t.Run(fmt.Sprintf("agents directory exists %v", agentsExists), func(t *testing.T) {
			data := t.TempDir()
			for _, d := range []string{filepath.Dir(data), data} { // nobody must reach agents/
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			owned := data
			dir := filepath.Join(data, "agents")
			if agentsExists {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				owned = dir
			}
			if err := os.Chown(owned, nobody, nobody); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Enrol(dir, "leeds", "ws1", "ag-1"); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "ag-1.json")
			cat := exec.Command("cat", path)
			cat.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
			if out, err := cat.CombinedOutput(); err != nil || !strings.Contains(string(out), `"agent_id": "ag-1"`) {
				t.Fatalf("the collector's user cannot read the record: %v: %s", err, out)
			}
			if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
				t.Errorf("record mode %v, want 0600", info.Mode().Perm())
			}
			if !agentsExists {
				// The data directory is the collector's user's: so is the
				// deployment key, which that user's enrolments read next.
				if _, _, err := Enrol(dir, "leeds", "ws2", "ag-2"); err != nil {
					t.Fatal(err)
				}
				cat := exec.Command("cat", filepath.Join(data, KeyFile))
				cat.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
				if out, err := cat.CombinedOutput(); err != nil {
					t.Errorf("the collector's user cannot read the deployment key root's enrol made: %v: %s", err, out)
				}
			}
		})
	}
}
