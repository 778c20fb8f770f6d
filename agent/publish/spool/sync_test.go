package spool

import (
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// holdSyncs makes the first segment sync wait, once it began, until
// release is closed; entered is closed when it begins.
func holdSyncs(s *Spool) (entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	s.syncFile = func(f *os.File) error {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return f.Sync()
	}
	return entered, release
}

func flushAsync(s *Spool) chan error {
	done := make(chan error, 1)
	go func() { done <- s.Flush() }()
	return done
}

func TestSpoolAppendDoesNotWaitForFlushSync(t *testing.T) {
	s, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entered, release := holdSyncs(s)
	appendData(t, s, payload(0))
	flushed := flushAsync(s)
	<-entered
	appended := make(chan struct{})
	go func() { appendData(t, s, payload(1)); close(appended) }()
	select {
	case <-appended:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("an append waited for the sync of a flush")
	}
	close(release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
}

func TestSpoolFlushWaitsForTheSyncInProgress(t *testing.T) {
	// A record appended before a flush began is synced when it returns,
	// even if an earlier flush took it and syncs it still.
	s, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entered, release := holdSyncs(s)
	appendData(t, s, payload(0))
	first := flushAsync(s)
	<-entered
	second := flushAsync(s)
	// Nothing tells that the second flush waits; a flush that does not
	// returns at once, well within this.
	select {
	case err := <-second:
		close(release)
		t.Fatalf("a flush returned (err %v) while the record it must sync was still being synced", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}

func TestSpoolRotationDuringFlushSync(t *testing.T) {
	// The segment a flush syncs outside the lock is made full and left by
	// appends meanwhile: the sync must not meet a closed file, and every
	// record survives a reopen.
	dir := t.TempDir()
	s, err := Open(dir, 64<<10) // 16 KiB segments
	if err != nil {
		t.Fatal(err)
	}
	entered, release := holdSyncs(s)
	appendData(t, s, payload(0))
	flushed := flushAsync(s)
	<-entered
	const n = 200
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		for i := 1; i < n; i++ {
			appendData(t, s, payload(i))
		}
	}()
	select {
	case <-appended:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("appends waited for the sync of a flush")
	}
	if len(s.segs) < 3 {
		t.Fatalf("%d segments: the appends did not rotate", len(s.segs))
	}
	close(release)
	if err := <-flushed; err != nil {
		t.Fatalf("flush across a rotation: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _ := readAll(t, s, s.Start())
	if dropped := droppedCount(s.TakeDropped()); uint64(len(got))+dropped != n {
		t.Fatalf("%d records read back and %d dropped of %d appended", len(got), dropped, n)
	}
	if string(got[len(got)-1]) != string(payload(n-1)) {
		t.Fatalf("last record read back %.10q, want %.10q", got[len(got)-1], payload(n-1))
	}
}
