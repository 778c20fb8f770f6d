package checkpoint

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files in the data directory: the private key (0600) and its public half
// (0644), which verifiers take.
const (
	KeyFile    = "checkpoint.key"
	PubKeyFile = "checkpoint.pub"
)

// LoadOrCreateKey reads the collector's signing key from dir, creating it
// (and the public key file) on first start.
func LoadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint key: %w", err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("reading checkpoint key %s: want %d bytes of hex", path, ed25519.SeedSize)
	}
	key := ed25519.NewKeyFromSeed(seed)
	if err := writePub(dir, key); err != nil {
		return nil, err
	}
	return key, nil
}

func createKey(dir string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("creating checkpoint key: %w", err)
	}
	path := filepath.Join(dir, KeyFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating checkpoint key: %w", err)
	}
	if _, err := fmt.Fprintln(f, hex.EncodeToString(key.Seed())); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing checkpoint key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing checkpoint key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing checkpoint key %s: %w", path, err)
	}
	return key, writePub(dir, key)
}

func writePub(dir string, key ed25519.PrivateKey) error {
	path := filepath.Join(dir, PubKeyFile)
	if err := os.WriteFile(path, []byte(PublicKeyString(key.Public().(ed25519.PublicKey))+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing checkpoint public key %s: %w", path, err)
	}
	return nil
}

// PublicKeyString is a public key as verify takes it: hex.
func PublicKeyString(pub ed25519.PublicKey) string { return hex.EncodeToString(pub) }

// ParsePublicKey reads a public key given as hex, or as a file holding it.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	v := strings.TrimSpace(s)
	if b, err := hex.DecodeString(v); err == nil && len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %q is neither %d bytes of hex nor a readable file: %w", s, ed25519.PublicKeySize, err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("reading public key %s: want %d bytes of hex", s, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(k), nil
}
