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
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" {
			return "", fmt.Errorf("agent id file %s is empty: remove it to make a new id", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading agent id: %w", err)
	}
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	id := "ag-" + hex.EncodeToString(raw[:])
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return "", fmt.Errorf("creating state directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("saving agent id: %w", err)
	}
	return id, nil
}

// LoadDeploymentKey returns the secret that keys identifier hashes and
// fingerprints of unparsable statements. keyFile is the deployment's key,
// shared by all its agents so hashes match across hosts; without one, a key
// for this host alone is made in stateDir (shared reports it).
func LoadDeploymentKey(keyFile, stateDir string) (key []byte, shared bool, err error) {
	path, shared := keyFile, true
	if path == "" {
		path, shared = filepath.Join(stateDir, "host.key"), false
	}
	b, err := os.ReadFile(path)
	if err == nil {
		k := []byte(strings.TrimSpace(string(b)))
		if len(k) < 16 {
			return nil, shared, fmt.Errorf("deployment key %s is %d bytes; it needs at least 16", path, len(k))
		}
		return k, shared, nil
	}
	if shared || !errors.Is(err, fs.ErrNotExist) {
		return nil, shared, fmt.Errorf("reading deployment key: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, false, err
	}
	k := []byte(hex.EncodeToString(raw[:]))
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("creating state directory: %w", err)
	}
	if err := os.WriteFile(path, append(k, '\n'), 0o600); err != nil {
		return nil, false, fmt.Errorf("saving host key: %w", err)
	}
	return k, false, nil
}
