package netsensor_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/agent/sensor"
	netsensor "github.com/vigilhq/vigil/agent/sensor/net"
	"github.com/vigilhq/vigil/agent/sensor/net/dnscache"
)

// The samples in testdata are raw ring records recorded by the kernel tests
// (go test -update as root).
func sample(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecodeTCPSamples(t *testing.T) {
	for _, tc := range []struct {
		file   string
		reason uint32
		family uint16
		dst    func(netip.Addr) bool
		sent   uint64
	}{
		{"tcp_close_v4.bin", sensor.TCPClose, 2, netip.Addr.Is4, 2 << 20},
		{"tcp_close_v6.bin", sensor.TCPClose, 10, func(a netip.Addr) bool { return a == netip.IPv6Loopback() }, 2 << 20},
		{"tcp_interim_v4.bin", sensor.TCPInterim, 2, netip.Addr.Is4, 1 << 20},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := netsensor.Decode(sensor.RecTCP, sample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := r.(*sensor.TCP)
			if got.Type != sensor.RecTCP || got.Reason != tc.reason || got.Family != tc.family ||
				!tc.dst(got.DstAddr) || got.BytesSent != tc.sent || !got.Outbound ||
				got.PID == 0 || got.Comm == "" || got.DstPort == 0 || got.SrcPort == 0 || got.StartTS == 0 {
				t.Errorf("decoded %+v", got)
			}
		})
	}
}

func TestDecodeDNSSample(t *testing.T) {
	r, err := netsensor.Decode(sensor.RecDNS, sample(t, "dns_answer.bin"))
	if err != nil {
		t.Fatal(err)
	}
	d := r.(*sensor.DNS)
	if len(d.Data) != d.OrigLen || len(d.Answers) != 1 || d.Answers[0].Name != "files.vigil-test.example" {
		t.Fatalf("decoded %+v", d)
	}

	// The sensor's own Decode remembers the answer and names the address.
	names := dnscache.New(dnscache.Options{})
	ns := netsensor.New(netsensor.Config{Names: names})
	if _, err := ns.Decode(sensor.RecDNS, sample(t, "dns_answer.bin")); err != nil {
		t.Fatal(err)
	}
	if name, ok := names.Lookup(d.Answers[0].Addr); !ok || name != "files.vigil-test.example" {
		t.Errorf("Lookup = %q, %v", name, ok)
	}
}

func TestDecodeDNSQuerySample(t *testing.T) {
	raw := sample(t, "dns_query.bin")
	r, err := netsensor.Decode(sensor.RecDNSQuery, raw)
	if err != nil {
		t.Fatal(err)
	}
	q := r.(*sensor.DNSQuery)
	if q.Question != (dnscache.Question{Name: "nbswy3dpeb3w64tmmqqq.t.vigil-test.example", Type: "TXT"}) ||
		q.DstAddr != netip.MustParseAddr("127.0.0.1") || q.DstPort != 53 || q.PID == 0 || q.Comm == "" {
		t.Errorf("decoded %+v", q)
	}
	raw[48] = 0xff // captured length beyond the record
	raw[49] = 0xff
	if _, err := netsensor.Decode(sensor.RecDNSQuery, raw); err == nil {
		t.Error("query record shorter than its length: want an error")
	}
	if _, err := netsensor.Decode(sensor.RecDNSQuery, raw[:40]); err == nil {
		t.Error("query record cut inside its header: want an error")
	}
}

func TestDecodeShort(t *testing.T) {
	for _, typ := range []uint32{sensor.RecTCP, sensor.RecDNS} {
		raw := sample(t, "tcp_close_v4.bin")[:10]
		if _, err := netsensor.Decode(typ, raw); err == nil {
			t.Errorf("type %d: decoding 10 bytes: want an error", typ)
		}
	}
	raw := sample(t, "dns_answer.bin")
	raw[4] = 0xff // captured length beyond the record
	if _, err := netsensor.Decode(sensor.RecDNS, raw); err == nil {
		t.Error("dns record shorter than its length: want an error")
	}
	if _, err := netsensor.Decode(99, raw); err == nil {
		t.Error("unknown type: want an error")
	}
}

// An answer the kernel took (it answers a query of this host) that cannot
// be read as DNS names nothing, and is counted for the heartbeat.
func TestDecodeCountsMalformedAnswers(t *testing.T) {
	ns := netsensor.New(netsensor.Config{})
	if _, err := ns.Decode(sensor.RecDNS, sample(t, "dns_answer.bin")); err != nil {
		t.Fatal(err)
	}
	if n := netsensor.Malformed(ns); n != 0 {
		t.Fatalf("a readable answer counted as malformed (%d)", n)
	}
	raw := sample(t, "dns_answer.bin")
	raw[4], raw[5] = 14, 0 // the header and two bytes of the question's name
	r, err := ns.Decode(sensor.RecDNS, raw)
	if err != nil {
		t.Fatal(err)
	}
	if d := r.(*sensor.DNS); d.Answers != nil {
		t.Fatalf("a cut answer gave answers %v", d.Answers)
	}
	if n := netsensor.Malformed(ns); n != 1 {
		t.Errorf("malformed answers %d, want 1", n)
	}
	if _, err := ns.RefusedAnswers(); err == nil {
		t.Error("RefusedAnswers of a sensor not started: want an error")
	}
}
