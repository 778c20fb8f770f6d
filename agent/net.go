package agent

import (
	"context"
	"net/netip"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

func (a *Agent) tcp(r *sensor.TCP) *event.Event {
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
	ev := &event.Event{Time: a.clock.Time(r.TS), Kind: event.KindNetTransfer, Net: n}
	if r.Outbound && r.PID != 0 {
		ev.Process = a.shared.process(a.procs.Lookup(&r.Header))
	} else {
		n.Direction = "inbound"
	}
	return ev
}

// udp turns one interval's UDP totals into events.
func (a *Agent) udp(totals []sensor.UDP) {
	for i := range totals {
		u := &totals[i]
		p := a.procs.Lookup(&u.Header)
		n := &event.Net{Proto: "udp", Direction: "outbound", Family: family(u.DstAddr),
			DstIP: u.DstAddr.String(), DstPort: u.DstPort, DstName: u.DstName,
			BytesSent: u.Bytes, Packets: u.Packets, Reason: "interval", Loopback: u.DstAddr.IsLoopback()}
		if u.TS > u.FirstTS && u.FirstTS != 0 {
			n.DurationMS = (u.TS - u.FirstTS) / 1e6
		}
		a.Emit(&event.Event{Time: a.clock.Time(u.TS), Kind: event.KindNetTransfer, Process: &p, Net: n})
	}
}

// udpRunner is a sensor that hands over UDP totals on its own schedule.
type udpRunner interface {
	RunUDP(ctx context.Context, emit func([]sensor.UDP)) error
}

// sweeper is a sensor that reports idle files on its own schedule.
type sweeper interface {
	RunSweep(ctx context.Context, emit func([]*sensor.FileWrite)) error
}

func (a *Agent) sweptFiles(recs []*sensor.FileWrite) {
	for _, r := range recs {
		a.Emit(a.fileWrite(r))
	}
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}
