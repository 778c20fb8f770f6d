package enrol

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigilhq/vigil/internal/owner"
)

// KeyFile is the deployment key's file in the collector's data directory.
const KeyFile = "deployment.key"

// DeploymentKey returns the deployment's key for identifier hashes, kept in
// dataDir, making it on first use. Every agent enrolled from dataDir gets
// it with its credentials, so their hashes of one customer agree.
func DeploymentKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		k := strings.TrimSpace(string(b))
		if len(k) < 16 {
			return "", fmt.Errorf("deployment key %s is %d bytes; it needs at least 16 (remove it to make a new one, and enrol every agent again)", path, len(k))
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading deployment key: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("making deployment key: %w", err)
	}
	k := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("making deployment key: %w", err)
	}
	f, err := os.CreateTemp(dataDir, KeyFile+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("making deployment key: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(k + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Root's enrol makes it in the collector's user's directory,
		// whose later enrolments read it.
		err = owner.Like(f.Name(), dataDir)
	}
	if err != nil {
		return "", fmt.Errorf("writing deployment key: %w", err)
	}
	// A link appears whole and fails if the name exists: of two enrolments
	// at once, one makes the key and the other reads it.
	if err := os.Link(f.Name(), path); errors.Is(err, os.ErrExist) {
		return DeploymentKey(dataDir)
	} else if err != nil {
		return "", fmt.Errorf("making deployment key %s: %w", path, err)
	}
	return k, nil
}
