//go:build unix

package rules

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// The tests here need a Unix: a signal to the process, and file stamps
// (dirstamp_unix.go; elsewhere every check reads the files).

func TestWatcherReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.hcl"), []byte(goodRule), 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan *Set, 1)
	w := NewWatcher(dir, WatchOptions{Interval: time.Hour, OnLoad: func(s *Set, _ hcl.Diagnostics) { got <- s }})
	if _, diags := w.Load(); diags.HasErrors() {
		t.Fatal(diags)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.Start(ctx)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s == nil || len(s.Names()) != 1 {
			t.Fatalf("unexpected set %v", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no reload after SIGHUP")
	}
}

// TestWatcherStatsUnchangedFiles checks that a check of files whose stamp
// (inode, size, times) is unchanged reads none of them, and that a change
// of one is still seen.
func TestWatcherStatsUnchangedFiles(t *testing.T) {
	defer func(r time.Duration, f func(string) ([]byte, error)) { racyStamp, readFile = r, f }(racyStamp, readFile)
	racyStamp = -1 // trust even the times of files written just now
	reads := 0
	readFile = func(p string) ([]byte, error) { reads++; return os.ReadFile(p) }
	dir := t.TempDir()
	path := filepath.Join(dir, "a.hcl")
	if err := os.WriteFile(path, []byte(goodRule), 0o644); err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(dir, WatchOptions{NoSignal: true})
	if _, diags := w.Load(); diags.HasErrors() {
		t.Fatal(diags)
	}
	reads = 0
	for range 2 {
		if w.Check() {
			t.Fatal("Check reloaded unchanged files")
		}
	}
	if reads != 0 {
		t.Fatalf("%d reads of unchanged files", reads)
	}
	if err := os.WriteFile(path, []byte(goodRule+"rule \"more\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !w.Check() {
		t.Fatal("a changed file was not reloaded")
	}
	if len(w.Current().Names()) != 2 {
		t.Fatalf("set after the change has rules %v", w.Current().Names())
	}
}
