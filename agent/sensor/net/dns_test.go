package netsensor_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/vigilhq/vigil/agent/sensor"
	netsensor "github.com/vigilhq/vigil/agent/sensor/net"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testproc"
)

// dnsMessage packs a query for name, or with addr valid an answer giving it.
func dnsMessage(t *testing.T, id uint16, name string, typ dnsmessage.Type, addr netip.Addr) []byte {
	t.Helper()
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name + "."), Type: typ, Class: dnsmessage.ClassINET}},
	}
	if addr.IsValid() {
		m.Header.Response, m.Header.Authoritative = true, true
		m.Answers = []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: m.Questions[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.AResource{A: addr.As4()},
		}}
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listenDNS binds a UDP socket on port 53 of addr.
func listenDNS(t *testing.T, addr string) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", addr+":53")
	if err != nil {
		testenv.Skipf(t, "needs to serve DNS on %s:53: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

func writeTo(t *testing.T, from net.PacketConn, msg []byte, to net.Addr) {
	t.Helper()
	if _, err := from.WriteTo(msg, to); err != nil {
		t.Fatal(err)
	}
}

// TestDNSForgedAnswerRefused: packets from port 53 that answer no query of
// this host name nothing: one nobody asked for, one with another id, one
// from a server that was not asked. The real answer, which comes last, does.
func TestDNSForgedAnswerRefused(t *testing.T) { sensortest.EachBuild(t, testDNSForgedAnswerRefused) }

func testDNSForgedAnswerRefused(t *testing.T, compat bool) {
	set, ns := start(t, netsensor.Config{}, compat)
	before, err := ns.DNSRefused()
	if err != nil {
		t.Fatal(err)
	}
	const (
		real   = "files.vigil-test.example"
		forged = "files.corp.example.com"
	)
	target, fake := localAddr(t), netip.MustParseAddr("192.0.2.66")
	srv := listenDNS(t, "127.0.0.1")
	other := listenDNS(t, "127.0.0.2")
	app, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	writeTo(t, srv, dnsMessage(t, 0x1111, forged, dnsmessage.TypeA, fake), app.LocalAddr())
	writeTo(t, app, dnsMessage(t, 0x2222, real, dnsmessage.TypeA, netip.Addr{}), srv.LocalAddr())
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := srv.ReadFrom(make([]byte, 1500)); err != nil {
		t.Fatal(err)
	}
	writeTo(t, srv, dnsMessage(t, 0x2223, forged, dnsmessage.TypeA, fake), app.LocalAddr())
	writeTo(t, other, dnsMessage(t, 0x2222, forged, dnsmessage.TypeA, fake), app.LocalAddr())
	writeTo(t, srv, dnsMessage(t, 0x2222, real, dnsmessage.TypeA, target), app.LocalAddr())

	readUntil(t, set, "the real answer", func(r any) bool {
		d, ok := r.(*sensor.DNS)
		if !ok {
			return false
		}
		for _, a := range d.Answers {
			if a.Name == forged {
				t.Errorf("forged answer taken: %+v", d.Answers)
			}
		}
		return len(d.Answers) > 0 && d.Answers[0].Name == real
	})
	if got, ok := ns.Names().Lookup(target); !ok || got != real {
		t.Errorf("Names().Lookup(%v) = %q, %v; want %q", target, got, ok, real)
	}
	// Each forged answer reached the app's socket and was refused there.
	testproc.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		n, err := ns.DNSRefused()
		if err != nil {
			return err
		}
		if n-before < 3 {
			return fmt.Errorf("%d answers refused, want the 3 forged ones", n-before)
		}
		return nil
	})
	if got, ok := ns.Names().Lookup(fake); ok {
		t.Errorf("%v is named %q by a forged answer", fake, got)
	}
	// An answer is taken once: the same answer again names nothing new.
	writeTo(t, srv, dnsMessage(t, 0x2222, forged, dnsmessage.TypeA, fake), app.LocalAddr())
	testproc.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n, _ := ns.DNSRefused(); n-before < 4 {
			return errors.New("a second answer to an answered query was not refused")
		}
		return nil
	})
}

// TestDNSQueryReported: a query sent to port 53 is reported with its
// question, the server asked and the process that asked, loopback or not.
func TestDNSQueryReported(t *testing.T) { sensortest.EachBuild(t, testDNSQueryReported) }

func testDNSQueryReported(t *testing.T, compat bool) {
	set, _ := start(t, netsensor.Config{}, compat)
	srv := listenDNS(t, "127.0.0.1")
	c, err := net.Dial("udp4", srv.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const name = "nbswy3dpeb3w64tmmqqq.t.vigil-test.example"
	if _, err := c.Write(dnsMessage(t, 0x7e57, name, dnsmessage.TypeTXT, netip.Addr{})); err != nil {
		t.Fatal(err)
	}
	r, raw := readUntil(t, set, "dns query record", func(r any) bool {
		q, ok := r.(*sensor.DNSQuery)
		return ok && q.Question.Name == name
	})
	q := r.(*sensor.DNSQuery)
	if q.Question.Type != "TXT" || q.PID != uint32(os.Getpid()) || q.Comm != procComm(t) ||
		q.DstAddr != netip.MustParseAddr("127.0.0.1") || q.DstPort != 53 || q.Family != 2 || q.OrigLen == 0 {
		t.Errorf("query = %+v", q)
	}
	save(t, "dns_query.bin", raw)
}
