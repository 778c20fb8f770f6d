package bundles

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigilhq/vigil/rules/bundle"
)

// KeyFile is the rule signing key's file in the collector's data directory.
const KeyFile = "rules-signing.key"

const seedPrefix = "ed25519-seed:"

// SigningKey returns the collector's rule signing key, kept in dataDir,
// making it on first use (the first enrolment or publish), so every agent
// enrolled from dataDir pins its public half.
func SigningKey(dataDir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		rest, ok := strings.CutPrefix(strings.TrimSpace(string(b)), seedPrefix)
		seed, derr := base64.StdEncoding.DecodeString(rest)
		if !ok || derr != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("reading the rule signing key %s: not an %s key of %d bytes (restore it from a backup: agents pin its public half)", path, seedPrefix, ed25519.SeedSize)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the rule signing key: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("making the rule signing key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("making the rule signing key: %w", err)
	}
	f, err := os.CreateTemp(dataDir, KeyFile+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("making the rule signing key: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(seedPrefix + base64.StdEncoding.EncodeToString(seed) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing the rule signing key: %w", err)
	}
	// A link appears whole and fails if the name exists: of two callers at
	// once, one makes the key and the other reads it.
	if err := os.Link(f.Name(), path); errors.Is(err, os.ErrExist) {
		return SigningKey(dataDir)
	} else if err != nil {
		return nil, fmt.Errorf("making the rule signing key %s: %w", path, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// PublicKey is the text form of the signing key's public half, as
// enrolment pins it in an agent's credentials.
func PublicKey(dataDir string) (string, error) {
	key, err := SigningKey(dataDir)
	if err != nil {
		return "", err
	}
	return bundle.EncodePublicKey(key.Public().(ed25519.PublicKey)), nil
}
