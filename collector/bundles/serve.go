package bundles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/rules/bundle"
)

// Server puts published bundles into the bucket agents read and knows
// which bundle each site should run.
type Server struct {
	kv      jetstream.KeyValue
	dataDir string
	log     *slog.Logger

	mu      sync.Mutex
	current map[string]uint64 // site (or bundle.AllSites) -> version served
	// hashes are the Digests of the bundles served or published, by
	// version (versions grow across sites, so one names one bundle).
	hashes  map[uint64]string
	lastErr string
}

// Open makes (or opens) the bundle bucket and serves what dataDir holds.
// When the bucket is made but a published bundle cannot be served, it
// returns the Server with the error: Watch retries.
func Open(ctx context.Context, js jetstream.JetStream, dataDir string, replicas int, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       bundle.Bucket,
		Description:  "vigil signed host rule bundles, by site",
		History:      8,
		MaxValueSize: bundle.MaxSize,
		Storage:      jetstream.FileStorage,
		Replicas:     max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the rule bundle bucket %s: %w", bundle.Bucket, err)
	}
	s := &Server{kv: kv, dataDir: dataDir, log: log, current: map[string]uint64{}, hashes: map[uint64]string{}}
	return s, s.Sync(ctx)
}

// Sync serves each site's newest published bundle. The bucket never goes
// back to an older version than it holds, whatever the data directory
// says: agents would refuse it anyway, and the SOC is told.
func (s *Server) Sync(ctx context.Context) error {
	pub, err := Published(s.dataDir)
	errs := []error{err} // the others are served all the same
	for site, en := range pub {
		key := bundle.Key(site)
		served := uint64(0)
		if e, err := s.kv.Get(ctx, key); err == nil {
			if cur, perr := parse(e.Value()); perr == nil {
				served = cur.Version
				s.noteHash(cur)
			}
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			errs = append(errs, fmt.Errorf("reading served bundle %s: %w", key, err))
			continue
		}
		switch {
		case en.Version > served:
			if _, err := s.kv.Put(ctx, key, en.Data); err != nil {
				errs = append(errs, fmt.Errorf("serving bundle %s version %d: %w", key, en.Version, err))
				continue
			}
			s.log.Info("rule bundle served", "site", site, "version", en.Version)
			served = en.Version
			s.noteHash(en)
		case en.Version < served:
			errs = append(errs, fmt.Errorf("published bundle of site %q is version %d, older than the %d served: publish again", site, en.Version, served))
		}
		s.mu.Lock()
		s.current[site] = served
		s.mu.Unlock()
	}
	err = errors.Join(errs...)
	s.mu.Lock()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	changed := msg != s.lastErr
	s.lastErr = msg
	s.mu.Unlock()
	if err != nil && changed {
		s.log.Error("serving rule bundles", "err", err)
	}
	return err
}

// Watch syncs every interval until ctx ends.
func (s *Server) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.Sync(ctx) // logged by Sync
		}
	}
}

func (s *Server) noteHash(en *Entry) {
	s.mu.Lock()
	s.hashes[en.Version] = bundle.Digest(en.Data)
	s.mu.Unlock()
}

// Hash is the Digest of the bundle served under version, and whether the
// server knows it (one it served since it started, or serves now).
func (s *Server) Hash(version uint64) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hashes[version]
	return h, ok
}

// Current is the version of the bundle agents at site should run: the
// newer of the site's own and the one for every site (0: none).
func (s *Server) Current(site string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.current[site], s.current[bundle.AllSites])
}
