package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/vigilhq/vigil/agent/config"
	"github.com/vigilhq/vigil/agent/ruleset"
	"github.com/vigilhq/vigil/agent/rulesync"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

// RuleRejected is the alert the agent raises for host rule files it did not
// accept. It travels as an alert, not a heartbeat field, so each rejection
// is kept with its diagnostics and evidence in the collector's hash-chained
// store and reaches the SOC on the alerts' fast lane, spool included.
const RuleRejected = "host_rules_rejected"

// Host rule set states, as heartbeats report them.
const (
	stateOnDisk   = ""
	stateLastGood = "last_good"
	stateNone     = "none"
)

// hostRules keeps the host rules in force. Broken files never switch them
// off: the last set that compiled (kept in the state directory) runs
// instead, even across restarts, and every rejection is raised as an alert.
// It is the agent's RuleEngine, so it also sees the file sensor's reports of
// writes to the rule files and can name who made them.
type hostRules struct {
	dir, stateDir string
	log           *slog.Logger
	// bundles reports the bundle running, in bundle mode.
	bundles *rulesync.Syncer
	engine  *rules.Engine
	watcher *rules.Watcher
	// hashed are the identifier names this agent hashes, to say which
	// ones its host rules read in vain.
	hashed []string

	mu        sync.Mutex
	state     string
	missing   []string
	savedHash string
	writers   map[string][]writer // rule file -> writes the file sensor saw since the last load
	pending   []*event.Event      // rejection alerts not yet emitted
	// bundleRuns says a verified bundle runs, so the files no longer count.
	bundleRuns bool
	lastDiags  string // the last rejection reported (and the writes before it), so a lasting one alerts once
	emit       func(*event.Event)
	kick       chan struct{}
}

// writer is a write to a rule file the file sensor reported.
type writer struct {
	eventID string
	who     string
}

// loadHostRules loads the host rules of dir, falling back to the last good
// set saved in stateDir, or to none, when they do not compile. It follows
// the directory until ctx ends.
func loadHostRules(ctx context.Context, dir, stateDir string, hashed []string, log *slog.Logger) *hostRules {
	h := &hostRules{dir: filepath.Clean(dir), stateDir: stateDir, log: log, hashed: hashed,
		writers: map[string][]writer{}, kick: make(chan struct{}, 1)}
	_, statErr := os.Stat(dir)
	h.watcher = rules.NewWatcher(dir, rules.WatchOptions{OnLoad: h.accepted, OnReject: h.rejected})
	good, saved, err := ruleset.Load(stateDir)
	switch {
	case err == nil:
		h.savedHash = saved.Hash
	case errors.Is(err, ruleset.ErrNone):
	default:
		log.Error("the last good host rule set cannot be used", "err", err)
	}
	if errors.Is(statErr, os.ErrNotExist) && good == nil {
		log.Warn("no host rules: rules directory does not exist", "dir", dir)
		h.engine = rules.NewEngine(nil, rules.Options{Scope: rules.ScopeHost})
		return h
	}
	set, diags := h.watcher.Load()
	switch {
	case !diags.HasErrors():
		h.engine = rules.NewEngine(set, rules.Options{Scope: rules.ScopeHost})
		h.keep(set)
		log.Info("host rules loaded", "dir", dir, "rules", len(set.Names()), "hash", set.Hash())
	case good != nil:
		h.engine = rules.NewEngine(good, rules.Options{Scope: rules.ScopeHost})
		h.state = stateLastGood
		h.checkIdentifiers(good)
		consequence := fmt.Sprintf("running the last good host rule set %.12s, saved %s", good.Hash(), saved.Saved.Format(time.RFC3339))
		log.Error("host rules rejected at start: "+consequence, "dir", dir, "diagnostics", render(diags))
		h.queue(diags, consequence)
	default:
		h.engine = rules.NewEngine(nil, rules.Options{Scope: rules.ScopeHost})
		h.state = stateNone
		consequence := "running with no host rules (none ever compiled here): the sensors run and only the collector's rules judge this host's events"
		if err != nil && !errors.Is(err, ruleset.ErrNone) {
			consequence = "running with no host rules: the sensors run and only the collector's rules judge this host's events; " + err.Error()
		}
		log.Error("HOST RULES REJECTED AT START: "+consequence, "dir", dir, "diagnostics", render(diags))
		h.queue(diags, consequence)
	}
	h.watcher.Start(ctx) // returns at once, with the SIGHUP handler installed
	return h
}

// acceptBundle runs a verified bundle's rules, as accepted runs files that
// compiled, and keeps them as the last good set.
func (h *hostRules) acceptBundle(set *rules.Set, b *bundle.Bundle) {
	h.engine.Swap(set)
	h.mu.Lock()
	h.state, h.lastDiags, h.bundleRuns = stateOnDisk, "", true
	h.mu.Unlock()
	h.keep(set)
	h.log.Info("host rules from bundle", "version", b.Version, "site", b.Site, "rules", len(set.Names()), "hash", set.Hash())
}

// start hands the alerts raised so far, and from now on, to emit (the
// agent's Emit) until ctx ends.
func (h *hostRules) start(ctx context.Context, emit func(*event.Event)) {
	h.mu.Lock()
	h.emit = emit
	h.mu.Unlock()
	h.flush()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.kick:
				h.flush()
			}
		}
	}()
}

// flush emits the pending alerts (outside mu: Emit takes the agent's lock,
// which Process is called under).
func (h *hostRules) flush() {
	h.mu.Lock()
	emit, pending := h.emit, h.pending
	if emit == nil {
		h.mu.Unlock()
		return
	}
	h.pending = nil
	h.mu.Unlock()
	for _, ev := range pending {
		emit(ev)
	}
}

// accepted runs a set that compiled and keeps it as the last good one.
func (h *hostRules) accepted(set *rules.Set, _ hcl.Diagnostics) {
	if !h.followsFiles() {
		return // a bundle runs: only a newer verified bundle replaces it
	}
	h.engine.Swap(set)
	h.mu.Lock()
	h.state, h.lastDiags = stateOnDisk, ""
	h.writers = map[string][]writer{}
	h.mu.Unlock()
	h.keep(set)
	h.log.Info("host rules reloaded", "dir", h.dir, "rules", len(set.Names()), "hash", set.Hash())
}

// keep saves set as the last good one, unless it already is.
func (h *hostRules) keep(set *rules.Set) {
	h.checkIdentifiers(set)
	h.mu.Lock()
	same := h.savedHash == set.Hash()
	h.mu.Unlock()
	if same {
		return
	}
	if err := ruleset.Save(h.stateDir, set); err != nil {
		h.log.Error("keeping the last good host rule set", "err", err)
		return
	}
	h.mu.Lock()
	h.savedHash = set.Hash()
	h.mu.Unlock()
}

// checkIdentifiers notes the identifiers set reads that this agent does not
// hash: the rules that count them would see nothing here.
func (h *hostRules) checkIdentifiers(set *rules.Set) {
	missing := set.MissingIdentifiers(h.hashed)
	h.mu.Lock()
	h.missing = missing
	h.mu.Unlock()
	if len(missing) > 0 {
		h.log.Error("host rules read identifiers this agent does not hash: rules counting them see nothing here; add their columns to db.identifiers in agent.hcl",
			"missing", strings.Join(missing, ","), "hashed", strings.Join(h.hashed, ","))
	}
}

// rejected reports files that did not compile while the agent runs.
func (h *hostRules) rejected(diags hcl.Diagnostics) {
	if !h.followsFiles() {
		return
	}
	var consequence string
	if s := h.engine.Set(); s != nil {
		consequence = fmt.Sprintf("the last good host rule set %.12s stays in force", s.Hash())
	} else {
		consequence = "no host rules run (none ever compiled here): only the collector's rules judge this host's events"
	}
	if !h.queue(diags, consequence) {
		return
	}
	h.log.Error("host rules rejected: "+consequence, "dir", h.dir, "diagnostics", render(diags))
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// queue makes the alert for a rejection, unless it repeats the last one
// (the same diagnostics after no new write, as a directory that stays
// missing gives at every check), and says whether it did.
func (h *hostRules) queue(diags hcl.Diagnostics, consequence string) bool {
	text := render(diags)
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, ws := range h.writers {
		for _, w := range ws {
			ids = append(ids, w.eventID)
		}
	}
	slices.Sort(ids)
	key := strings.Join(append(ids, text), "\x00")
	if key == h.lastDiags {
		return false
	}
	h.lastDiags = key
	h.pending = append(h.pending, rejectionAlert(h.dir, diags, text, consequence, h.writers))
	return true
}

// Process notes writes to the rule files, checks the files at once when
// one was written (so a rejection cites the write), and runs the rules.
func (h *hostRules) Process(ev *event.Event) []event.Event {
	if ev.File != nil && (ev.Kind == event.KindFileWrite || ev.Kind == event.KindFileRename) {
		if path, ok := h.ruleFile(ev.File.Path); ok {
			h.mu.Lock()
			h.writers[path] = append(h.writers[path][max(0, len(h.writers[path])-7):], writer{eventID: ev.ID, who: writerOf(ev)})
			h.mu.Unlock()
			h.watcher.Check()
		}
	}
	out := h.engine.Process(ev)
	h.mu.Lock()
	pending := h.pending
	h.pending = nil
	h.mu.Unlock()
	for _, al := range pending {
		out = append(out, *al)
	}
	return out
}

// ruleFile says whether path is one of the rule files the watcher reads.
func (h *hostRules) ruleFile(path string) (string, bool) {
	path = filepath.Clean(path)
	base := filepath.Base(path)
	return path, filepath.Dir(path) == h.dir && strings.HasSuffix(base, ".hcl") && !strings.HasPrefix(base, ".")
}

// followsFiles says the files of dir are the rules: always in local mode,
// and in bundle mode until the first verified bundle runs.
func (h *hostRules) followsFiles() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.bundleRuns
}

// fill adds the host rules' state to a heartbeat.
func (h *hostRules) fill(hb *event.Heartbeat) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hb.RuleSetState = h.state
	hb.Identifiers = h.hashed
	hb.IdentifiersMissing = h.missing
	hb.RulesMode = config.RulesLocal
	if h.bundles != nil {
		hb.RulesMode = config.RulesBundle
		hb.BundleVersion, hb.BundleRefused = h.bundles.Status()
		hb.BundleHash = h.bundles.Hash()
	}
}

func writerOf(ev *event.Event) string {
	p := ev.Process
	if p == nil {
		return "unknown process"
	}
	who := p.LoginUser
	if who == "" {
		who = fmt.Sprintf("loginuid %d", p.LoginUID)
	}
	return fmt.Sprintf("%s (uid %d) with %s[%d]", who, p.UID, p.Comm, p.PID)
}

func render(diags hcl.Diagnostics) string {
	var buf strings.Builder
	rules.WriteDiagnostics(&buf, diags, 100, false)
	return buf.String()
}
