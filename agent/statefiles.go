package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadAgentID returns the agent id kept in stateDir, creating it on first
// start. The id outlives restarts and reinstalls that keep /var/lib/vigil, so
// the collector sees one agent per host.
func LoadAgentID(stateDir string) (string, error) {
	path := filepath.Join(stateDir, "agent-id")
	id, err := readOrCreate(path, func(random string) string { return "ag-" + random[:24] })
	if err != nil {
		return "", fmt.Errorf("agent id: %w", err)
	}
	if id == "" {
		return "", fmt.Errorf("agent id file %s is empty: remove it to make a new id", path)
	}
	return id, nil
}

// LoadDeploymentKey returns the secret that keys identifier hashes and
// fingerprints of unparsable statements. keyFile is the deployment's key,
// shared by all its agents so hashes match across hosts; without one, a key
// for this host alone is made in stateDir (shared reports it).
func LoadDeploymentKey(keyFile, stateDir string) (key []byte, shared bool, err error) {
	var k string
	shared = keyFile != ""
	if shared {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, true, fmt.Errorf("reading deployment key: %w", err)
		}
		k = strings.TrimSpace(string(b))
	} else {
		keyFile = filepath.Join(stateDir, "host.key")
		if k, err = readOrCreate(keyFile, func(random string) string { return random }); err != nil {
			return nil, false, fmt.Errorf("host key: %w", err)
		}
	}
	if len(k) < 16 {
		return nil, shared, fmt.Errorf("deployment key %s is %d bytes; it needs at least 16", keyFile, len(k))
	}
	return []byte(k), shared, nil
}

// readOrCreate returns the trimmed contents of path; when it does not exist
// it writes gen(64 random hex digits) there first, mode 0600, creating the
// state directory 0700.
func readOrCreate(path string, gen func(random string) string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	v := gen(hex.EncodeToString(raw[:]))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("creating state directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("saving %s: %w", path, err)
	}
	return v, nil
}
