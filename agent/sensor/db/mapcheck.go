package db

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// CheckMaps implements sensor.MapChecker: every port and socket path the
// agent wrote to db_ports and db_paths must still be there, since a root
// user who deletes one leaves its connections uncaptured with every
// program attached, and no canary of the agent's own can make a database
// connection without a database.
func (s *Sensor) CheckMaps() []string {
	if s.Coll == nil {
		return nil
	}
	var out []string
	var v uint8
	for _, p := range s.cfg.Ports {
		if err := s.Coll.Maps["db_ports"].Lookup(p, &v); err != nil {
			out = append(out, mapLoss("db_ports", fmt.Sprintf("port %d", p), err))
		}
	}
	for _, p := range s.cfg.SocketPaths {
		k, err := socketPathKey(p)
		if err != nil {
			continue // refused at Start: never written
		}
		if err := s.Coll.Maps["db_paths"].Lookup(k, &v); err != nil {
			out = append(out, mapLoss("db_paths", "socket path "+p, err))
		}
	}
	return out
}

// mapLoss says what a failed read-back of an entry means.
func mapLoss(m, what string, err error) string {
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Sprintf("db: %s no longer holds %s: its connections are not captured", m, what)
	}
	return fmt.Sprintf("db: reading back %s for %s: %v", m, what, err)
}
