package enrol

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nkeys"
)

// Every agent enrolled from one data directory gets the same deployment
// key, made once and kept 0600; another data directory makes another.
func TestEnrolDeliversOneDeploymentKey(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "agents")
	var keys []string
	for _, host := range []string{"ws1", "ws2"} {
		_, b, err := Enrol(dir, "leeds", host, "")
		if err != nil {
			t.Fatal(err)
		}
		// NATS tools still find the seed with the key after it.
		if _, err := nkeys.ParseDecoratedUserNKey(b); err != nil {
			t.Fatalf("key file of %s: %v\n%s", host, err, b)
		}
		var k string
		if m := regexp.MustCompile(`(?m)^deployment_key = "([0-9a-f]+)"$`).FindSubmatch(b); m != nil {
			k = string(m[1])
		}
		if len(k) < 32 {
			t.Fatalf("credentials of %s carry deployment key %q", host, k)
		}
		keys = append(keys, k)
	}
	if keys[0] != keys[1] {
		t.Fatalf("two agents of one collector got keys %s and %s", keys[0], keys[1])
	}
	info, err := os.Stat(filepath.Join(data, KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", info, err)
	}
	b, _ := os.ReadFile(filepath.Join(data, KeyFile))
	if strings.TrimSpace(string(b)) != keys[0] {
		t.Errorf("key file holds %q, credentials %q", b, keys[0])
	}
	other, err := DeploymentKey(t.TempDir())
	if err != nil || other == keys[0] {
		t.Errorf("another data directory's key %q (%v), want a new one", other, err)
	}
}

func TestDeploymentKeyMadeOnceUnderRace(t *testing.T) {
	data := t.TempDir()
	keys := make([]string, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := DeploymentKey(data)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		if k != keys[0] || k == "" {
			t.Fatalf("keys %v, want one", keys)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(data, "*tmp*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestDeploymentKeyTooShort(t *testing.T) {
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, KeyFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Enrol(filepath.Join(data, "agents"), "leeds", "ws1", ""); err == nil || !strings.Contains(err.Error(), KeyFile) {
		t.Fatalf("enrol with a short key: %v, want an error naming %s", err, KeyFile)
	}
}
