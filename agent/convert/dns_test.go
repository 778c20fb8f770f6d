package convert

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/net/dnscache"
	"github.com/vigilhq/vigil/event"
)

func TestSplitDomain(t *testing.T) {
	for _, c := range []struct{ name, domain, sub string }{
		{"www.example.com", "example.com", "www"},
		{"a.b.example.co.uk", "example.co.uk", "a.b"},
		{"example.com", "example.com", ""},
		{"co.uk", "co.uk", ""},
		{"localhost", "localhost", ""},
		{"nbswy3dp.t.vigil-test.example", "vigil-test.example", "nbswy3dp.t"},
	} {
		if d, s := SplitDomain(c.name); d != c.domain || s != c.sub {
			t.Errorf("SplitDomain(%q) = %q, %q; want %q, %q", c.name, d, s, c.domain, c.sub)
		}
	}
}

// A lookup is reported with its domain and longest label; the same lookup
// by the same process within a minute is not, by another process or later
// it is; a datagram that is no query makes no event.
func TestDNSQueryEvents(t *testing.T) {
	c := newConverter()
	q := func(pid uint32, at time.Duration, name, typ string) *event.Event {
		h := header(uint64(time.Second + at))
		h.PID = pid
		return c.Record(&sensor.DNSQuery{Header: h, Family: 2, DstPort: 53, DstAddr: netip.MustParseAddr("127.0.0.53"),
			Question: dnscache.Question{Name: name, Type: typ}})
	}
	const tunnel = "nbswy3dpeb3w64tmmqqq.x7.exfil.example.co.uk"
	ev := q(header(0).PID, 0, tunnel, "TXT")
	if ev == nil || ev.Kind != event.KindDNSQuery || ev.Process == nil {
		t.Fatalf("event %+v", ev)
	}
	want := event.DNS{Name: tunnel, Type: "TXT", Domain: "example.co.uk", Subdomain: "nbswy3dpeb3w64tmmqqq.x7.exfil", LongestLabel: 20, Server: "127.0.0.53"}
	if *ev.DNS != want {
		t.Errorf("dns = %+v, want %+v", *ev.DNS, want)
	}
	if ev := q(header(0).PID, 30*time.Second, tunnel, "TXT"); ev != nil {
		t.Errorf("a repeat within a minute was reported: %+v", ev.DNS)
	}
	if ev := q(header(0).PID, 31*time.Second, tunnel, "A"); ev == nil {
		t.Error("another type was not reported")
	}
	if ev := q(4000007, 32*time.Second, tunnel, "TXT"); ev == nil {
		t.Error("another process's lookup was not reported")
	}
	if ev := q(header(0).PID, 61*time.Second, tunnel, "TXT"); ev == nil {
		t.Error("a repeat a minute later was not reported")
	}
	if ev := q(header(0).PID, 62*time.Second, "", ""); ev != nil {
		t.Errorf("a datagram that is no query made an event: %+v", ev)
	}
}

// Past the bound, a burst of new names is reported in full.
func TestDNSQueryBound(t *testing.T) {
	c := newConverter()
	h := header(uint64(time.Second))
	n := 0
	for i := range recentLookups + 10 {
		if c.Record(&sensor.DNSQuery{Header: h, Question: dnscache.Question{Name: "host-" + strconv.Itoa(i) + ".example", Type: "A"}}) != nil {
			n++
		}
	}
	if n != recentLookups+10 {
		t.Errorf("%d of %d new names reported", n, recentLookups+10)
	}
}
