package dnscache

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// cnameAnswer is what a resolver says for a name served by a CDN: the asked
// name, a chain of two aliases, then the addresses of the last one.
func cnameAnswer(t testing.TB) []byte {
	t.Helper()
	n := dnsmessage.MustNewName
	hdr := func(name string, typ dnsmessage.Type, ttl uint32) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: n(name), Type: typ, Class: dnsmessage.ClassINET, TTL: ttl}
	}
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 7, Response: true, RecursionDesired: true, RecursionAvailable: true},
		Questions: []dnsmessage.Question{{Name: n("Upload.Example.COM."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
		Answers: []dnsmessage.Resource{
			{Header: hdr("upload.example.com.", dnsmessage.TypeCNAME, 300), Body: &dnsmessage.CNAMEResource{CNAME: n("upload.cdn.example.net.")}},
			{Header: hdr("upload.cdn.example.net.", dnsmessage.TypeCNAME, 300), Body: &dnsmessage.CNAMEResource{CNAME: n("edge7.cdn.example.net.")}},
			{Header: hdr("edge7.cdn.example.net.", dnsmessage.TypeA, 20), Body: &dnsmessage.AResource{A: [4]byte{203, 0, 113, 7}}},
			{Header: hdr("edge7.cdn.example.net.", dnsmessage.TypeAAAA, 20), Body: &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr("2001:db8::7").As16()}},
			{Header: hdr("unrelated.example.org.", dnsmessage.TypeA, 20), Body: &dnsmessage.AResource{A: [4]byte{198, 51, 100, 1}}},
		},
		Additionals: []dnsmessage.Resource{{Header: hdr("x.example.", dnsmessage.TypeTXT, 1), Body: &dnsmessage.TXTResource{TXT: []string{"x"}}}},
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRecorded(t *testing.T) {
	// Captured by the net sensor's kernel test (agent/sensor/net).
	msg, err := os.ReadFile(filepath.Join("testdata", "a_record.dns"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := Answer{Name: "files.vigil-test.example", Addr: netip.MustParseAddr("192.0.2.2"), TTL: time.Minute}
	if len(got) != 1 || got[0] != want {
		t.Errorf("Parse = %+v, want %+v", got, want)
	}
}

func TestParseCNAMEChain(t *testing.T) {
	got, err := Parse(cnameAnswer(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Answer{
		{Name: "upload.example.com", Target: "edge7.cdn.example.net", Addr: netip.MustParseAddr("203.0.113.7"), TTL: 20 * time.Second},
		{Name: "upload.example.com", Target: "edge7.cdn.example.net", Addr: netip.MustParseAddr("2001:db8::7"), TTL: 20 * time.Second},
		{Name: "unrelated.example.org", Addr: netip.MustParseAddr("198.51.100.1"), TTL: 20 * time.Second},
	}
	if len(got) != len(want) {
		t.Fatalf("Parse = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("answer %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseTruncated(t *testing.T) {
	msg := cnameAnswer(t)
	// Cut inside the AAAA record: the A record before it is kept.
	for cut := len(msg) - 1; cut > 12; cut-- {
		got, err := Parse(msg[:cut])
		if err != nil {
			// Only a cut inside the question may fail.
			if cut > 40 {
				t.Errorf("cut at %d: %v", cut, err)
			}
			continue
		}
		for _, a := range got {
			if !a.Addr.IsValid() || a.Name == "" {
				t.Errorf("cut at %d: answer %+v", cut, a)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	q := cnameAnswer(t)
	q[2] &^= 0x80 // clear QR: a query
	if _, err := Parse(q); err != ErrNotAnswer {
		t.Errorf("query: err = %v", err)
	}
	nx := cnameAnswer(t)
	nx[3] |= 3 // NXDOMAIN
	if got, err := Parse(nx); err != nil || len(got) != 0 {
		t.Errorf("nxdomain: %+v, %v", got, err)
	}
	if _, err := Parse([]byte{1, 2, 3}); err == nil {
		t.Error("3 bytes: want an error")
	}
}

func TestCacheTTLAndBound(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := New(Options{MaxEntries: 2, MinTTL: time.Minute, Now: func() time.Time { return now }})
	a1, a2, a3 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("2001:db8::3")
	c.Add([]Answer{{Name: "one", Addr: a1, TTL: time.Second}, {Name: "two", Addr: a2, TTL: time.Hour}})
	if n, ok := c.Lookup(netip.AddrFrom16(a1.As16())); !ok || n != "one" {
		t.Errorf("v4-mapped lookup = %q, %v", n, ok)
	}
	// A short TTL is kept for MinTTL.
	now = now.Add(59 * time.Second)
	if _, ok := c.Lookup(a1); !ok {
		t.Error("one expired before MinTTL")
	}
	now = now.Add(2 * time.Second)
	if _, ok := c.Lookup(a1); ok {
		t.Error("one outlived MinTTL")
	}
	if n, ok := c.Lookup(a2); !ok || n != "two" {
		t.Errorf("two = %q, %v", n, ok)
	}
	// A newer answer renames; the bound pushes out the oldest.
	c.Add([]Answer{{Name: "three", Addr: a3, TTL: time.Hour}, {Name: "deux", Addr: a2, TTL: time.Hour}})
	c.Add([]Answer{{Name: "four", Addr: a1, TTL: time.Hour}})
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	if _, ok := c.Lookup(a3); ok {
		t.Error("three should have been pushed out")
	}
	if n, _ := c.Lookup(a2); n != "deux" {
		t.Errorf("two renamed = %q", n)
	}
	c.Add([]Answer{{Name: "", Addr: a3}, {Name: "zero"}})
	if _, ok := c.Lookup(a3); ok {
		t.Error("an answer without a name was kept")
	}
}

func TestAddMessage(t *testing.T) {
	c := New(Options{})
	if _, err := c.AddMessage(cnameAnswer(t)); err != nil {
		t.Fatal(err)
	}
	if n, ok := c.Lookup(netip.MustParseAddr("2001:db8::7")); !ok || n != "upload.example.com" {
		t.Errorf("Lookup = %q, %v", n, ok)
	}
}
