package e2e

// Answers the net sensor refuses (forged ones from port 53, and ones it
// cannot read) reach the SOC in the agent's heartbeat, so a host where
// someone forges names is seen, not only defended.

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// refusedServer is a loopback address of its own, so this test's port 53
// does not meet TestVariantsDNS's or a local stub resolver's.
const refusedServer = "127.0.0.9:53"

func TestDNSRefusedInHeartbeat(t *testing.T) {
	testkernel.RequireRoot(t)
	srv, err := net.ListenPacket("udp4", refusedServer)
	if err != nil {
		testenv.Skipf(t, "needs to serve DNS on %s: %v", refusedServer, err)
	}
	defer srv.Close()
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t))
	agent := startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "ws-leeds-11", rulesDir: t.TempDir(),
		sensors: []string{"process", "net"}})
	before := c.heartbeatOf(t, agent.id, "", func(*event.Heartbeat) error { return nil }).DNSRefused

	// Three forged answers, each to a socket that asked nothing, naming
	// the unknown address after an approved host.
	const forged = 3
	for i := range forged {
		victim, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer victim.Close()
		ans := dnsAnswer(t, uint16(0x5150+i), "files.corp.example.com", dnsmessage.TypeA, netip.MustParseAddr(unknownAddr))
		if _, err := srv.WriteTo(ans, victim.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		victim.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := victim.ReadFrom(make([]byte, 1500)); err != nil {
			t.Fatalf("forged answer %d did not arrive: %v", i, err)
		}
	}

	// A real query, answered by the server asked with the query's id and
	// port but a question cut short: it answers a query and names nothing.
	client, err := net.Dial("udp4", refusedServer)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	q := dnsmessage.Message{Header: dnsmessage.Header{ID: 0x7a7a, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName("files.corp.example.com."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}}}
	query, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write(query); err != nil {
		t.Fatal(err)
	}
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := srv.ReadFrom(buf)
	if err != nil || n < 12 {
		t.Fatalf("the query did not reach the server: %d bytes, %v", n, err)
	}
	// id, flags QR|RD|RA, one question, then the question's name broken
	// off after a label length.
	cut := []byte{buf[0], buf[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0x3f, 'f', 'i'}
	if _, err := srv.WriteTo(cut, from); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Read(buf); err != nil {
		t.Fatalf("the cut answer did not arrive: %v", err)
	}

	// Other processes of the host can add refusals of their own: at least
	// this test's must show.
	c.heartbeatOf(t, agent.id, "", func(hb *event.Heartbeat) error {
		if got := hb.DNSRefused["unsolicited"] - before["unsolicited"]; got < forged {
			return fmt.Errorf("heartbeat dns_refused %v (before %v): %d unsolicited answers more, want at least %d", hb.DNSRefused, before, got, forged)
		}
		if got := hb.DNSRefused["malformed"] - before["malformed"]; got < 1 {
			return fmt.Errorf("heartbeat dns_refused %v (before %v): no malformed answer more, want the cut answer", hb.DNSRefused, before)
		}
		return nil
	})
}
