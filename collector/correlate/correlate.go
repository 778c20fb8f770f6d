package correlate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/rules"
)

// Engine is the correlation engine over a rule directory.
type Engine struct {
	log *slog.Logger
	eng *rules.Engine
	// host runs the set's host rules over the statements the collector
	// attributed to a client end: no agent ran them as that person's.
	host   *rules.Engine
	watch  *rules.Watcher // nil with no rule directory
	errors atomic.Uint64

	// pairs are the engines of the partitions this collector owns, which
	// a reload swaps too.
	mu    sync.Mutex
	pairs map[*pair]struct{}
}

// pair is a global and a host engine sharing one Keep.
type pair struct{ glob, host *rules.Engine }

// Load compiles the rules in dir; errors are returned as diagnostics text
// and leave no engine. An empty dir runs no rules.
func Load(dir string, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.Default()
	}
	e := &Engine{log: log}
	var set *rules.Set
	if dir != "" {
		e.watch = rules.NewWatcher(dir, rules.WatchOptions{
			OnLoad: func(set *rules.Set, _ hcl.Diagnostics) {
				e.eng.Swap(set)
				e.host.Swap(set)
				e.mu.Lock()
				for p := range e.pairs {
					p.glob.Swap(set)
					p.host.Swap(set)
				}
				e.mu.Unlock()
				e.log.Info("correlation rules reloaded", "hash", set.Hash(), "rules", len(set.Names()))
			},
			OnReject: func(diags hcl.Diagnostics) {
				e.errors.Add(1)
				e.log.Error("correlation rules not reloaded, the previous set keeps running", "dir", dir, "diagnostics", render(diags))
			},
		})
		var diags hcl.Diagnostics
		set, diags = e.watch.Load()
		if diags.HasErrors() {
			return nil, fmt.Errorf("loading correlation rules from %s:\n%s", dir, render(diags))
		}
	}
	e.eng = rules.NewEngine(set, rules.Options{Scope: rules.ScopeGlobal, NewAlert: stampAlert})
	e.host = rules.NewEngine(set, rules.Options{Scope: rules.ScopeHost, NewAlert: stampAlert})
	return e, nil
}

func render(diags hcl.Diagnostics) string {
	var buf bytes.Buffer
	rules.WriteDiagnostics(&buf, diags, 100, false)
	return buf.String()
}

// stampAlert names a correlation alert by what it is about, so reprocessing
// the same events after a collector restart stores it once.
func stampAlert(al *event.Event) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", al.Alert.Rule)
	keys := make([]string, 0, len(al.Alert.Group))
	for k := range al.Alert.Group {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, al.Alert.Group[k])
	}
	for _, id := range al.Alert.Evidence {
		fmt.Fprintf(h, "%s\x00", id)
	}
	al.ID = "corr-" + hex.EncodeToString(h.Sum(nil))[:24]
	al.BootID = "collector"
	if al.Alert.Scope == "" {
		al.Alert.Scope = rules.ScopeGlobal
	}
}

// Process runs the rules over one event and returns their alerts, each
// with the agent id of the event that completed it. A statement the
// collector attributed to its client end (ev as event.Event.AsClient
// gives it) also runs the host rules, as the client's agent would have had
// it read the statement; their alerts then pass the global rules like an
// agent's.
func (e *Engine) Process(ev *event.Event) []event.Event {
	return (&pair{e.eng, e.host}).process(ev)
}

func (p *pair) process(ev *event.Event) []event.Event {
	out := p.glob.Process(ev)
	if a := ev.Attribution; a.Joined() && a.By == event.AttributedByCollector {
		for _, al := range p.host.Process(ev) {
			al.AgentID = ev.AgentID
			out = append(out, al)
			out = append(out, p.glob.Process(&al)...)
		}
	}
	for i := range out {
		out[i].AgentID = ev.AgentID
	}
	return out
}

// newPair returns engines over the running rules that hold only the groups
// keep accepts, swapped with the others on reload until dropPair.
func (e *Engine) newPair(keep func(rule string, key []byte) bool) *pair {
	e.mu.Lock()
	defer e.mu.Unlock()
	set := e.eng.Set()
	p := &pair{
		glob: rules.NewEngine(set, rules.Options{Scope: rules.ScopeGlobal, NewAlert: stampAlert, Keep: keep}),
		host: rules.NewEngine(set, rules.Options{Scope: rules.ScopeHost, NewAlert: stampAlert, Keep: keep}),
	}
	if e.pairs == nil {
		e.pairs = map[*pair]struct{}{}
	}
	e.pairs[p] = struct{}{}
	return p
}

func (e *Engine) dropPair(p *pair) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.pairs, p)
}

// Hash is the running rule set's hash ("" with no rules).
func (e *Engine) Hash() string {
	if s := e.eng.Set(); s != nil {
		return s.Hash()
	}
	return ""
}

// Stats are the engine's counters.
func (e *Engine) Stats() rules.Stats { return e.eng.Stats() }

// ReloadErrors counts reloads refused for errors.
func (e *Engine) ReloadErrors() uint64 { return e.errors.Load() }

// Watch reloads the rules when their files change (rules.Watcher polls the
// directory) and on SIGHUP, until ctx ends.
func (e *Engine) Watch(ctx context.Context) {
	if e.watch != nil {
		e.watch.Start(ctx)
	}
	<-ctx.Done()
}

// Identifiers lists the identifier names the rules read (none with no
// rules), which agents must hash for those rules to count anything.
func (e *Engine) Identifiers() []string { return e.eng.Set().Identifiers() }
