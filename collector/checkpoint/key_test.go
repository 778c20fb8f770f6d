package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
)

// The key is made once, readable by its owner only, and read back the same
// on the next start; its public half is written beside it for verifiers.
func TestKeyCreatedOnceAndPrivate(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("the key changed on the second start")
	}
	pub, err := ParsePublicKey(filepath.Join(dir, PubKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(k1.Public()) {
		t.Fatal("the public key file does not hold the key's public half")
	}
	if _, err := ParsePublicKey(PublicKeyString(pub)); err != nil {
		t.Fatalf("a public key given as hex: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("nothex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Fatal("a damaged key file was accepted")
	}
}
