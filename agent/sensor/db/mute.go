package db

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// sockMuted is enum sock_kind's SOCK_MUTED in bpf/db.bpf.c.
const sockMuted = 3

// Mute stops capture on connection end c (its struct sock, c.Sock): its
// bytes are no longer copied to user space, and its close is still
// reported. The agent mutes the server end of a connection from a local
// client it already follows from the client end, so each statement is
// captured and parsed once. A connection already closed is not an error.
//
// The agent decides from records read a while after the kernel wrote them,
// and a closed socket's address is soon another socket's: the new socket,
// often the next connection's client end, must not be muted in its place.
// The kernel keeps each socket's ports (or a Unix socket's inode) as first
// seen, and a socket whose ports or inode are not c's is left alone.
func (s *Sensor) Mute(c Conn) error {
	if s.Coll == nil || s.Coll.Maps["db_socks"] == nil {
		return errors.New("db sensor not started")
	}
	m := s.Coll.Maps["db_socks"]
	var st dbSockState
	if err := m.Lookup(c.Sock, &st); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return nil
		}
		return fmt.Errorf("looking up connection: %w", err)
	}
	if st.Lport != c.Local.Port() || st.Rport != c.Remote.Port() || st.Ino != c.Ino {
		return nil // c closed, and its address is another socket's now
	}
	st.Kind = sockMuted
	if err := m.Update(c.Sock, &st, ebpf.UpdateExist); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("muting connection: %w", err)
	}
	return nil
}
