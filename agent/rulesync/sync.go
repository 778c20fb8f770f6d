package rulesync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

// DefaultPoll is how often the agent asks for its keys' bundles besides
// being told of new ones, so a notice missed while disconnected is caught.
const DefaultPoll = time.Minute

// Options configure a Syncer.
type Options struct {
	Site     string
	Key      ed25519.PublicKey
	StateDir string
	// Apply runs a verified, newer bundle's rules (the host rules' swap,
	// which keeps them as the last good set).
	Apply  func(set *rules.Set, b *bundle.Bundle)
	Poll   time.Duration
	Logger *slog.Logger
}

// Syncer follows the bundles of one site. Methods are safe for concurrent
// use.
type Syncer struct {
	opts Options
	keys []string
	kick chan struct{}

	mu       sync.Mutex
	running  uint64
	runKey   string
	runData  []byte
	runHash  string
	seen     map[string]uint64 // the highest version seen on each key
	refused  string
	refusals uint64
}

// New returns a syncer running nothing yet.
func New(opts Options) *Syncer {
	if opts.Poll == 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Syncer{opts: opts, keys: []string{bundle.Key(opts.Site), bundle.Key(bundle.AllSites)}, seen: map[string]uint64{},
		kick: make(chan struct{}, 1)}
}

// Kick asks Run to poll now: call it on every (re)connection, since a
// bundle published meanwhile was told to nobody.
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Resume runs the last good bundle kept in the state directory, if any,
// and says which version it is (0: none kept).
func (s *Syncer) Resume() (uint64, error) {
	b, set, data, err := LoadLastGood(s.opts.StateDir, s.opts.Key, s.opts.Site)
	if errors.Is(err, ErrNone) {
		return 0, nil
	}
	if err != nil {
		s.refuse(err.Error())
		return 0, err
	}
	s.mu.Lock()
	s.running, s.runKey, s.runData, s.runHash = b.Version, bundle.Key(b.Site), data, bundle.Digest(data)
	s.seen[s.runKey] = b.Version
	s.mu.Unlock()
	s.opts.Apply(set, b)
	return b.Version, nil
}

// Hash is the Digest of the bundle running ("" when none runs).
func (s *Syncer) Hash() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runHash
}

// Status is the version running (0: none) and why the last refused bundle
// was refused ("" when none was).
func (s *Syncer) Status() (version uint64, refused string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running, s.refused
}

// Offer takes a bundle found on key: it runs it when it verifies and is
// newer than the running one, ignores the one running and an older one
// on a key that never had newer, and refuses the rest, saying why.
func (s *Syncer) Offer(key string, data []byte) error {
	s.mu.Lock()
	same := bytes.Equal(data, s.runData)
	s.mu.Unlock()
	if same {
		return nil
	}
	b, set, err := bundle.Verify(s.opts.Key, s.opts.Site, data)
	if err != nil {
		err = fmt.Errorf("bundle on %s: %w", key, err)
		s.refuse(err.Error())
		return err
	}
	if bundle.Key(b.Site) != key {
		err := fmt.Errorf("bundle on %s: %w: version %d is site %q's, served on another key", key, bundle.ErrSite, b.Version, b.Site)
		s.refuse(err.Error())
		return err
	}
	s.mu.Lock()
	running, seen := s.running, s.seen[key]
	s.seen[key] = max(seen, b.Version)
	s.mu.Unlock()
	if err := bundle.Newer(b, running); err != nil {
		// An older bundle on the other key is the normal state of a site
		// whose newest bundle came on this one; going back on a key is not.
		if b.Version < seen || key == s.runKeyOf() {
			err = fmt.Errorf("bundle on %s: %w", key, err)
			s.refuse(err.Error())
			return err
		}
		return nil
	}
	if err := save(s.opts.StateDir, data); err != nil {
		// Run it all the same: the newest rules matter more than the copy.
		s.opts.Logger.Error("the rule bundle runs but a restart would not find it", "err", err)
	}
	s.mu.Lock()
	s.running, s.runKey, s.runData, s.runHash = b.Version, key, data, bundle.Digest(data)
	s.mu.Unlock()
	s.opts.Apply(set, b)
	s.opts.Logger.Info("rule bundle running", "version", b.Version, "site", b.Site, "hash", set.Hash(), "rules", len(set.Names()))
	return nil
}

func (s *Syncer) runKeyOf() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runKey
}

func (s *Syncer) refuse(why string) {
	s.mu.Lock()
	repeat := why == s.refused
	s.refused = why
	s.refusals++
	s.mu.Unlock()
	if !repeat {
		s.opts.Logger.Error("rule bundle refused; the rules running stay in force", "reason", why)
	}
}

// Run follows the site's keys on nc until ctx ends: told of each new
// bundle, and asking for the newest every Poll and on every reconnect.
func (s *Syncer) Run(ctx context.Context, nc *nats.Conn) error {
	msgs := make(chan *nats.Msg, 16)
	for _, k := range s.keys {
		sub, err := nc.ChanSubscribe(bundle.Subject(k), msgs)
		if err != nil {
			return fmt.Errorf("following rule bundles on %s: %w", k, err)
		}
		defer func() { _ = sub.Unsubscribe() }() // the connection closes after anyway
	}
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	s.poll(ctx, nc)
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			key := m.Subject[len(bundle.Subject("")):]
			if m.Header.Get("KV-Operation") != "" {
				continue // a delete or purge: keep running what runs
			}
			_ = s.Offer(key, m.Data) // refusals are kept for the heartbeat
		case <-t.C:
			s.poll(ctx, nc)
		case <-s.kick:
			s.poll(ctx, nc)
		}
	}
}

// poll asks for each key's newest bundle.
func (s *Syncer) poll(ctx context.Context, nc *nats.Conn) {
	for _, k := range s.keys {
		data, err := Get(ctx, nc, k)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				s.opts.Logger.Warn("asking for rule bundles", "key", k, "err", err)
			}
			continue
		}
		_ = s.Offer(k, data)
	}
}

// ErrNotFound says no bundle was ever published on a key.
var ErrNotFound = errors.New("no rule bundle published")

// Get asks JetStream directly for key's newest bundle: an agent may read
// its keys this way without any right on the bucket's stream.
func Get(ctx context.Context, nc *nats.Conn, key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := nc.RequestWithContext(ctx, bundle.GetSubject(key), nil)
	if err != nil {
		return nil, fmt.Errorf("asking for rule bundle %s: %w", key, err)
	}
	if st := m.Header.Get("Status"); st != "" {
		if code, _ := strconv.Atoi(st); code == http.StatusNotFound {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("asking for rule bundle %s: status %s %s", key, st, m.Header.Get("Description"))
	}
	if op := m.Header.Get("KV-Operation"); op != "" {
		return nil, ErrNotFound
	}
	return m.Data, nil
}
