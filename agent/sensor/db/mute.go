package db

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// sockMuted is enum sock_kind's SOCK_MUTED in bpf/db.bpf.c.
const sockMuted = 3

// Mute stops capture on the connection whose struct sock is sock: its bytes
// are no longer copied to user space, and its close is still reported. The
// agent mutes the server end of a connection from a local client it already
// follows from the client end, so each statement is captured and parsed
// once. A connection already closed is not an error.
func (s *Sensor) Mute(sock uint64) error {
	if s.Coll == nil || s.Coll.Maps["socks"] == nil {
		return errors.New("db sensor not started")
	}
	m := s.Coll.Maps["socks"]
	var st dbSockState
	if err := m.Lookup(sock, &st); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return nil
		}
		return fmt.Errorf("looking up connection: %w", err)
	}
	st.Kind = sockMuted
	if err := m.Update(sock, &st, ebpf.UpdateExist); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("muting connection: %w", err)
	}
	return nil
}
