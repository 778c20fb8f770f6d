package rules

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// WatchOptions configure a Watcher.
type WatchOptions struct {
	// Interval between checks of the directory for changed files.
	// Default 2s.
	Interval time.Duration
	// NoSignal disables reloading on SIGHUP.
	NoSignal bool
	// OnLoad is called with each newly accepted set and its warnings
	// (typically: engine.Swap(set)). It is not called for the first Load.
	OnLoad func(set *Set, warnings hcl.Diagnostics)
	// OnReject is called when changed files do not compile; the previous
	// set stays in force. Render diags with WriteDiagnostics.
	OnReject func(diags hcl.Diagnostics)
}

// Watcher keeps the rule set of a directory current: it reloads on SIGHUP
// and when the directory's *.hcl files change, and keeps the last good set
// when a change does not compile.
//
//	w := rules.NewWatcher(dir, rules.WatchOptions{OnLoad: func(s *rules.Set, _ hcl.Diagnostics) { eng.Swap(s) }, OnReject: report})
//	set, diags := w.Load()          // initial set; errors are the caller's to handle
//	eng := rules.NewEngine(set, opts)
//	w.Start(ctx)                    // then follows changes until ctx ends
type Watcher struct {
	dir  string
	opts WatchOptions

	mu       sync.Mutex
	current  *Set
	lastSeen string // source hash of the last files tried, good or bad
	// lastStamp is the stamp of the files last read (see dirStamp), ""
	// when it cannot be trusted to show a change.
	lastStamp string
}

// NewWatcher returns a watcher of dir; call Load, then Start.
func NewWatcher(dir string, opts WatchOptions) *Watcher {
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	return &Watcher{dir: dir, opts: opts}
}

// Current returns the set in force (nil before a successful load).
func (w *Watcher) Current() *Set {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current
}

// Load loads the directory now and returns the result; on success the set
// becomes current. It does not call the callbacks.
func (w *Watcher) Load() (*Set, hcl.Diagnostics) {
	w.mu.Lock()
	defer w.mu.Unlock()
	set, diags, _ := w.load(true)
	return set, diags
}

// Reload loads the directory even if nothing changed (as on SIGHUP) and
// reports through the callbacks. It returns whether a new set was accepted.
func (w *Watcher) Reload() bool { return w.check(true) }

// Check reloads if the files changed since the last attempt and reports
// through the callbacks. It returns whether a new set was accepted.
func (w *Watcher) Check() bool { return w.check(false) }

func (w *Watcher) check(force bool) bool {
	w.mu.Lock()
	set, diags, tried := w.load(force)
	w.mu.Unlock()
	if !tried {
		return false
	}
	if set == nil {
		if w.opts.OnReject != nil {
			w.opts.OnReject(diags)
		}
		return false
	}
	if w.opts.OnLoad != nil {
		w.opts.OnLoad(set, diags)
	}
	return true
}

// load reads the files; unless force, it stops when they are unchanged
// since the last attempt. Called with mu held.
func (w *Watcher) load(force bool) (*Set, hcl.Diagnostics, bool) {
	stamp := dirStamp(w.dir)
	if !force && stamp != "" && stamp == w.lastStamp {
		return nil, nil, false
	}
	srcs, diags := readDir(w.dir)
	if diags.HasErrors() {
		return nil, diags, true
	}
	w.lastStamp = stamp
	var files []parsedFile
	for _, s := range srcs {
		files = append(files, parsedFile{name: s.Name, data: s.Data})
	}
	h := sourceHash(files)
	if !force && h == w.lastSeen {
		return nil, nil, false
	}
	w.lastSeen = h
	set, diags := Load(srcs...)
	if set != nil {
		w.current = set
	}
	return set, diags, true
}

// racyStamp is how recent a change must be for dirStamp not to trust the
// file times: a write within the file system's timestamp granularity of
// the last one can leave size and times as they were.
var racyStamp = 2 * time.Second

// readFile reads a rule file for the watcher (a test counts the reads).
var readFile = os.ReadFile

func readDir(dir string) ([]Source, hcl.Diagnostics) {
	paths, err := Files(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read rule directory", Detail: err.Error()}}
	}
	var srcs []Source
	for _, p := range paths {
		data, err := readFile(p)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read rule file", Detail: err.Error()}}
		}
		srcs = append(srcs, Source{Name: p, Data: data})
	}
	return srcs, nil
}

// Start follows the directory until ctx ends: it checks for changed files
// every Interval and reloads on SIGHUP. The signal handler is installed
// before Start returns.
func (w *Watcher) Start(ctx context.Context) {
	var hup chan os.Signal
	if !w.opts.NoSignal {
		hup = make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
	}
	go func() {
		if hup != nil {
			defer signal.Stop(hup)
		}
		t := time.NewTicker(w.opts.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				w.Reload()
			case <-t.C:
				w.Check()
			}
		}
	}()
}
