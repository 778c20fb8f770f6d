package spool

import (
	"errors"
	"fmt"
	"os"
)

func (s *Spool) flushLocked() error {
	if s.bw.Buffered() == 0 {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("flushing spool: %w", err)
	}
	s.flushed = s.segs[len(s.segs)-1].size
	return nil
}

// Flush writes buffered records to the segment file and syncs it, so what
// the spool took before Flush was called survives a power loss of the host,
// not only a crash of the agent, and saves the cursor if it moved. One sync
// per flush bounds the cost whatever the event rate; the cursor is not
// synced, since a lost cursor only resends. The sync runs outside the
// spool's lock, so appends do not wait for the disk.
func (s *Spool) Flush() error {
	// One flush at a time: a flush that finds nothing new to sync must not
	// return before the sync of an earlier one finished.
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if err := s.flushLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	f, seg, dir := s.w, s.unsynced && !s.noSync, s.dirSync && !s.noSync
	if seg {
		s.unsynced = false
	}
	if dir {
		s.dirSync = false
	}
	c, a := s.committed, s.acked
	s.syncing = true
	s.mu.Unlock()

	err := s.syncFiles(f, seg, dir)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncing = false
	for _, old := range s.retired {
		// rotate synced it before it handed it over.
		err = errors.Join(err, old.Close())
	}
	s.retired = nil
	if err != nil {
		// Synced or not, the next flush tries again.
		s.unsynced = s.unsynced || seg && f == s.w
		s.dirSync = s.dirSync || dir
		return err
	}
	// The cursor as it was when the flush began: what it points at is on
	// disk now.
	return s.saveCursorLocked(c, a)
}

// SetSync turns the sync of Flush on (the default) or off, to measure its
// cost.
func (s *Spool) SetSync(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noSync = !on
}

// syncLocked syncs the write segment if records were written to it since
// it last was, and the directory if a segment was made since it last was.
func (s *Spool) syncLocked() error {
	if s.noSync {
		return nil
	}
	if err := s.syncFiles(s.w, s.unsynced, s.dirSync); err != nil {
		return err
	}
	s.unsynced, s.dirSync = false, false
	return nil
}

// syncFiles syncs the segment f if seg is set and the directory if dir is.
func (s *Spool) syncFiles(f *os.File, seg bool, dir bool) error {
	if seg {
		if err := s.syncFile(f); err != nil {
			return fmt.Errorf("syncing spool segment: %w", err)
		}
	}
	if dir {
		d, err := os.Open(s.dir)
		if err != nil {
			return fmt.Errorf("syncing spool directory: %w", err)
		}
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("syncing spool directory: %w", err)
		}
	}
	return nil
}
