package rulesync

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/rules/bundle"
)

// The kept bundle is verified again when read: another key's, another
// site's and a cut-short copy are refused, naming the file.
func TestLoadLastGood(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	state := t.TempDir()
	if _, _, _, err := LoadLastGood(state, pub, "lisbon"); !errors.Is(err, ErrNone) {
		t.Fatalf("empty state: %v, want ErrNone", err)
	}
	b, err := bundle.New("lisbon", 2, ruleSet(t, "kept"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, err := bundle.Sign(key, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := save(state, data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(state, FileName)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("kept bundle mode %v (%v), want 0600", st.Mode(), err)
	}
	if got, set, _, err := LoadLastGood(state, pub, "lisbon"); err != nil || got.Version != 2 || set.Names()[0] != "kept" {
		t.Fatalf("kept bundle: %v", err)
	}
	if _, _, _, err := LoadLastGood(state, otherPub, "lisbon"); !errors.Is(err, bundle.ErrSignature) {
		t.Fatalf("another key: %v", err)
	}
	if _, _, _, err := LoadLastGood(state, pub, "porto"); !errors.Is(err, bundle.ErrSite) {
		t.Fatalf("another site: %v", err)
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := LoadLastGood(state, pub, "lisbon"); !errors.Is(err, bundle.ErrMalformed) {
		t.Fatalf("cut short: %v", err)
	}
}
