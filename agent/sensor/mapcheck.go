package sensor

import "fmt"

// MapChecker is a sensor whose filter maps hold what the agent wrote at
// start and nothing should change after: Canary reads them back at every
// heartbeat, for maps no activity of the agent's own can exercise without
// changing them (a database port needs a database).
type MapChecker interface {
	// CheckMaps returns what differs, as "sensor: what", or nil.
	CheckMaps() []string
}

// checkMaps reads back the shared nats_server_pid map and every running
// MapChecker's maps.
func (s *Set) checkMaps() []string {
	out := s.natsPIDRewritten()
	s.mu.Lock()
	running := append([]Sensor(nil), s.running...)
	s.mu.Unlock()
	for _, sn := range running {
		if mc, ok := sn.(MapChecker); ok {
			out = append(out, mc.CheckMaps()...)
		}
	}
	return out
}

// natsPIDRewritten reads back the nats_server_pid map every sensor shares:
// a pid written there by anyone but the agent is hidden from every sensor,
// with every program still attached and running.
func (s *Set) natsPIDRewritten() []string {
	if s.natsPID == nil {
		return nil
	}
	s.natsMu.Lock()
	defer s.natsMu.Unlock()
	var got uint32
	if err := s.natsPID.Lookup(uint32(0), &got); err != nil {
		return []string{fmt.Sprintf("sensors: reading back nats_server_pid: %v", err)}
	}
	if want := s.natsPIDSet.Load(); got != want {
		return []string{fmt.Sprintf("sensors: nats_server_pid holds pid %d, not the agent's %d: that process is hidden from every sensor", got, want)}
	}
	return nil
}
