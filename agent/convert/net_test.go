package convert

import (
	"net/netip"
	"testing"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

// An outbound connection names its process; an accepted one has none and
// is inbound; interim reports say so.
func TestTCP(t *testing.T) {
	c := newConverter()
	out := c.Record(&sensor.TCP{Header: header(3_000_000_000), Outbound: true, Reason: sensor.TCPInterim, StartTS: 1_000_000_000,
		SrcAddr: netip.MustParseAddr("10.0.0.2"), SrcPort: 40000, DstAddr: netip.MustParseAddr("2001:db8::1"), DstPort: 443,
		DstName: "upload.example", BytesSent: 1 << 20})
	n := out.Net
	if out.Process == nil || n.Direction != "outbound" || n.Reason != "interim" || n.Family != "ipv6" || n.DurationMS != 2000 ||
		n.DstName != "upload.example" || n.BytesSent != 1<<20 || n.DstIP != "2001:db8::1" {
		t.Fatalf("outbound %+v by %+v", n, out.Process)
	}
	h := header(1)
	h.PID = 0
	in := c.Record(&sensor.TCP{Header: h, SrcAddr: netip.MustParseAddr("127.0.0.1"), DstAddr: netip.MustParseAddr("127.0.0.1")})
	if in.Process != nil || in.Net.Direction != "inbound" || in.Net.Reason != "close" || !in.Net.Loopback || in.Net.Family != "ipv4" {
		t.Fatalf("inbound %+v by %+v", in.Net, in.Process)
	}
}

// Each UDP total becomes an outbound transfer for its interval.
func TestUDP(t *testing.T) {
	c := newConverter()
	evs := c.UDP([]sensor.UDP{
		{Header: header(2_000_000_000), DstAddr: netip.MustParseAddr("8.8.8.8"), DstPort: 53, FirstTS: 500_000_000, Bytes: 900, Packets: 9},
		{Header: header(2_000_000_000), DstAddr: netip.MustParseAddr("::1"), DstPort: 9999, Bytes: 1, Packets: 1},
	})
	if len(evs) != 2 {
		t.Fatalf("%d events for 2 totals", len(evs))
	}
	if n := evs[0].Net; evs[0].Kind != event.KindNetTransfer || n.Proto != "udp" || n.DurationMS != 1500 || n.Packets != 9 || n.Reason != "interval" {
		t.Errorf("first %+v", n)
	}
	if n := evs[1].Net; !n.Loopback || n.Family != "ipv6" || n.DurationMS != 0 {
		t.Errorf("second %+v", n)
	}
}
