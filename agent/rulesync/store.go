package rulesync

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

// FileName is the last good bundle's file in the agent's state directory,
// kept as it was signed so it is verified again when read.
const FileName = "rules-bundle.signed"

// ErrNone is returned by LoadLastGood when no bundle was ever kept.
var ErrNone = errors.New("no rule bundle kept")

// LoadLastGood reads the bundle kept in stateDir and verifies it again
// with key, so a file edited on disk is refused like one from the network.
func LoadLastGood(stateDir string, key ed25519.PublicKey, site string) (*bundle.Bundle, *rules.Set, []byte, error) {
	path := filepath.Join(stateDir, FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, ErrNone
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the last good rule bundle: %w", err)
	}
	b, set, err := bundle.Verify(key, site, data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("the last good rule bundle %s is refused: %w", path, err)
	}
	return b, set, data, nil
}

// save keeps data as the last good bundle, atomically.
func save(stateDir string, data []byte) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("keeping the rule bundle: %w", err)
	}
	f, err := os.CreateTemp(stateDir, FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("keeping the rule bundle: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("keeping the rule bundle in %s: %w", f.Name(), err)
	}
	path := filepath.Join(stateDir, FileName)
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("keeping the rule bundle in %s: %w", path, err)
	}
	return nil
}
