package bundles

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/internal/owner"

	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

// Dir is where published bundles wait in the collector's data directory,
// one file per site (AllFile for every site), for the collector to serve.
const Dir = "bundles"

// AllFile is the file of the bundle for every site.
const AllFile = "all.bundle"

// fileOf is a site's bundle file name.
func fileOf(site string) string {
	if site == bundle.AllSites {
		return AllFile
	}
	return "site-" + site + ".bundle"
}

// Publish signs set as the bundle for site (bundle.AllSites: every site)
// with the key in dataDir, at a version above every bundle published from
// dataDir before, and leaves it for the collector to serve. Versions grow
// across sites, so an agent runs whichever of its site's and the global
// bundle was published last.
func Publish(dataDir, site string, set *rules.Set, now time.Time) (*bundle.Bundle, error) {
	key, err := SigningKey(dataDir)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, Dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("publishing rules: creating %s: %w", dir, err)
	}
	if err := owner.Like(dir, dataDir); err != nil {
		return nil, fmt.Errorf("publishing rules: %w", err)
	}
	// Two publishers at once must not both take the same next version.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("publishing rules: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("publishing rules: locking %s: %w", lock.Name(), err)
	}
	// A file that cannot be read may hold the highest version: publishing
	// under it would give agents a version they refuse as a rollback.
	pub, err := Published(dataDir)
	if err != nil {
		return nil, fmt.Errorf("publishing rules: %w (move the file away or fix it)", err)
	}
	var last uint64
	for _, b := range pub {
		last = max(last, b.Version)
	}
	b, err := bundle.New(site, last+1, set, now)
	if err != nil {
		return nil, err
	}
	data, err := bundle.Sign(key, b)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fileOf(site))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return nil, fmt.Errorf("publishing rules to %s: %w", path, err)
	}
	if err := owner.Like(tmp, dataDir); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("publishing rules to %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("publishing rules to %s: %w", path, err)
	}
	return b, nil
}

// Published reads the newest bundle of each site waiting in dataDir, by
// site. The signature is the agents' to check; a file that does not even
// parse is an error naming it, returned with the bundles of the others.
func Published(dataDir string) (map[string]*Entry, error) {
	dir := filepath.Join(dataDir, Dir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*Entry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading published bundles: %w", err)
	}
	out := map[string]*Entry{}
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".bundle") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading published bundle: %w", err))
			continue
		}
		en, err := parse(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading published bundle %s: %w", path, err))
			continue
		}
		if fileOf(en.Site) != e.Name() {
			errs = append(errs, fmt.Errorf("reading published bundle %s: it holds site %q's bundle, which belongs in %s", path, en.Site, fileOf(en.Site)))
			continue
		}
		out[en.Site] = en
	}
	return out, errors.Join(errs...)
}

// Entry is a signed bundle with what the collector reads of it unchecked.
type Entry struct {
	Site    string
	Version uint64
	Data    []byte
}

// parse reads a signed bundle's site and version without checking its
// signature, which the collector has no reason to trust more than agents.
func parse(data []byte) (*Entry, error) {
	var s bundle.Signed
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", bundle.ErrMalformed, err)
	}
	var b bundle.Bundle
	if err := json.Unmarshal(s.Payload, &b); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", bundle.ErrMalformed, err)
	}
	if b.Version == 0 || b.Site == "" {
		return nil, fmt.Errorf("%w: no site or version", bundle.ErrMalformed)
	}
	return &Entry{Site: b.Site, Version: b.Version, Data: data}, nil
}
