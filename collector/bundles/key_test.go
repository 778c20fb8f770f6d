package bundles

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The key is made once, whoever asks first, and kept: enrolments made at
// once pin the same key.
func TestSigningKeyMadeOnce(t *testing.T) {
	data := t.TempDir()
	var wg sync.WaitGroup
	keys := make([]string, 8)
	for i := range keys {
		wg.Go(func() {
			k, err := PublicKey(data)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		if k != keys[0] || !strings.HasPrefix(k, "ed25519:") {
			t.Fatalf("public keys %v, want one", keys)
		}
	}
	st, err := os.Stat(filepath.Join(data, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode(), err)
	}
	left, _ := filepath.Glob(filepath.Join(data, "*tmp*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A damaged key file is an error naming it, never replaced by a new key
// that no agent pins.
func TestSigningKeyDamaged(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, KeyFile)
	if err := os.WriteFile(path, []byte("ed25519-seed:short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := SigningKey(data); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("damaged key: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "ed25519-seed:short\n" {
		t.Error("the damaged key file was replaced")
	}
}
