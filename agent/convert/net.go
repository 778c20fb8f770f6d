package convert

import (
	"net/netip"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

func (c *Converter) tcp(r *sensor.TCP) *event.Event {
	n := &event.Net{Proto: "tcp", Direction: "outbound", SrcIP: r.SrcAddr.String(), SrcPort: r.SrcPort,
		DstIP: r.DstAddr.String(), DstPort: r.DstPort, DstName: r.DstName,
		BytesSent: r.BytesSent, BytesReceived: r.BytesReceived, Reason: "close",
		Family: family(r.DstAddr), Loopback: r.DstAddr.IsLoopback()}
	if r.Reason == sensor.TCPInterim {
		n.Reason = "interim"
	}
	if r.StartTS != 0 && r.TS > r.StartTS {
		n.DurationMS = (r.TS - r.StartTS) / 1e6
	}
	ev := &event.Event{Time: c.clock.Time(r.TS), Kind: event.KindNetTransfer, Net: n}
	if r.Outbound && r.PID != 0 {
		ev.Process = c.shared.process(c.procs.Lookup(&r.Header))
	} else {
		n.Direction = "inbound"
	}
	return ev
}

// UDP returns the events of one interval's UDP totals.
func (c *Converter) UDP(totals []sensor.UDP) []*event.Event {
	out := make([]*event.Event, 0, len(totals))
	for i := range totals {
		u := &totals[i]
		p := c.procs.Lookup(&u.Header)
		n := &event.Net{Proto: "udp", Direction: "outbound", Family: family(u.DstAddr),
			DstIP: u.DstAddr.String(), DstPort: u.DstPort, DstName: u.DstName,
			BytesSent: u.Bytes, Packets: u.Packets, Reason: "interval", Loopback: u.DstAddr.IsLoopback()}
		if u.TS > u.FirstTS && u.FirstTS != 0 {
			n.DurationMS = (u.TS - u.FirstTS) / 1e6
		}
		out = append(out, &event.Event{Time: c.clock.Time(u.TS), Kind: event.KindNetTransfer, Process: &p, Net: n})
	}
	return out
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}
