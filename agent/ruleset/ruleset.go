package ruleset

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigilhq/vigil/rules"
)

// FileName is the last good set's file in the agent's state directory.
const FileName = "host-rules.json"

// ErrNone is returned by Load when no set was ever saved.
var ErrNone = errors.New("no last good host rule set saved")

// Saved is a rule set as kept on disk.
type Saved struct {
	// Hash is the set's rules.Set.Hash, checked again when it is loaded.
	Hash  string         `json:"hash"`
	Saved time.Time      `json:"saved"`
	Files []rules.Source `json:"files"`
}

// Save writes set to stateDir atomically (a temporary file, synced, renamed
// over the old one), so a crash leaves the old set or the new one.
func Save(stateDir string, set *rules.Set) error {
	if set == nil {
		return errors.New("saving host rules: no set")
	}
	b, err := json.Marshal(Saved{Hash: set.Hash(), Saved: time.Now().UTC(), Files: set.Sources()})
	if err != nil {
		return fmt.Errorf("saving host rules: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("saving host rules: creating state directory: %w", err)
	}
	f, err := os.CreateTemp(stateDir, FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving host rules: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, there is nothing left to remove
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("saving host rules to %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("saving host rules to %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("saving host rules to %s: %w", tmp, err)
	}
	path := filepath.Join(stateDir, FileName)
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("saving host rules to %s: %w", path, err)
	}
	if d, err := os.Open(stateDir); err == nil {
		// The rename is durable once the directory is.
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Load reads the set saved in stateDir and compiles it again. It fails with
// ErrNone when there is none, and with an error naming the file when it
// does not compile or its hash is not the one saved with it.
func Load(stateDir string) (*rules.Set, *Saved, error) {
	path := filepath.Join(stateDir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, ErrNone
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the last good host rules: %w", err)
	}
	var s Saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, nil, fmt.Errorf("reading the last good host rules %s: %w", path, err)
	}
	set, diags := rules.Load(s.Files...)
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("the last good host rules %s do not compile: %w", path, diags)
	}
	if set.Hash() != s.Hash {
		return nil, nil, fmt.Errorf("the last good host rules %s hash to %s, not the %s saved with them", path, set.Hash(), s.Hash)
	}
	return set, &s, nil
}
