package netsensor_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/vigilhq/vigil/agent/sensor"
	netsensor "github.com/vigilhq/vigil/agent/sensor/net"
	"github.com/vigilhq/vigil/agent/sensor/sensortest"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
)

var update = flag.Bool("update", false, "rewrite the recorded samples in testdata/")

const twoMiB = 2 << 20

// start loads the real programs of the given build of bpf/net.bpf.c: the
// default one, for kernels with the kfunc bpf_rdonly_cast and the
// current-task helpers in cgroup_skb programs, or the compat one for older
// kernels. The agent pid is left 0 so the test's own connections are
// reported.
func start(t *testing.T, cfg netsensor.Config, compat bool) (*sensor.Set, *netsensor.Sensor) {
	t.Helper()
	return startAs(t, cfg, compat, sensor.Options{})
}

func startAs(t *testing.T, cfg netsensor.Config, compat bool, opts sensor.Options) (*sensor.Set, *netsensor.Sensor) {
	t.Helper()
	testkernel.RequireRoot(t)
	ns := netsensor.New(cfg)
	set := sensortest.Start(t, ns, netsensor.Builds(ns), compat, netsensor.DefaultBuildRuns,
		"kernel lacks bpf_rdonly_cast (6.2+) or the current-task helpers in cgroup_skb (6.10+): only the compat build runs here", opts)
	t.Cleanup(func() { set.Close() })
	return set, ns
}

// readUntil reads records until match returns true, failing after a deadline
// (which closes the set, so a blocked Read returns). It returns the matching
// record and its raw bytes.
func readUntil(t *testing.T, set *sensor.Set, what string, match func(any) bool) (any, []byte) {
	t.Helper()
	deadline := time.AfterFunc(10*time.Second, func() { set.Close() })
	defer deadline.Stop()
	r := sensortest.Next(t, set, what, match)
	return r, append([]byte(nil), set.Raw()...)
}

// localAddr is an address of this machine that is not loopback: the first
// one found, else 10.231.7.1 added to the loopback device for the test. Either
// way traffic in these tests never leaves the machine.
func localAddr(t *testing.T) netip.Addr {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			if ip := p.Addr(); ip.Is4() && !ip.IsLoopback() {
				return ip
			}
		}
	}
	// An address on lo, not a dummy interface: not every kernel has dummy.
	if out, err := exec.Command("ip", "addr", "add", "10.231.7.1/32", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("adding a local address: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "addr", "del", "10.231.7.1/32", "dev", "lo").Run() })
	return netip.MustParseAddr("10.231.7.1")
}

// sink listens on addr and reads every connection to its end.
func sink(t *testing.T, network, addr string) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr)
}

// send connects to to, writes n bytes and closes.
func send(t *testing.T, network string, to *net.TCPAddr, n int) {
	t.Helper()
	c, err := net.DialTCP(network, nil, to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func closeOf(port int) func(any) bool {
	return func(r any) bool {
		tc, ok := r.(*sensor.TCP)
		return ok && tc.Outbound && int(tc.DstPort) == port && tc.Reason == sensor.TCPClose
	}
}

func checkTCP(t *testing.T, tc *sensor.TCP, dst *net.TCPAddr, family uint16) {
	t.Helper()
	if tc.BytesSent < twoMiB {
		t.Errorf("bytes_sent = %d, want >= %d", tc.BytesSent, twoMiB)
	}
	if tc.PID != uint32(os.Getpid()) {
		t.Errorf("pid = %d, want %d", tc.PID, os.Getpid())
	}
	if tc.UID != uint32(os.Getuid()) {
		t.Errorf("uid = %d", tc.UID)
	}
	if want, _ := netip.AddrFromSlice(dst.IP); tc.DstAddr != want.Unmap() {
		t.Errorf("dst = %v, want %v", tc.DstAddr, want)
	}
	if tc.Family != family || tc.SrcPort == 0 || tc.StartTS == 0 || tc.StartTS > tc.TS {
		t.Errorf("record = %+v", tc)
	}
}

func TestTCPSend2MiB(t *testing.T) { sensortest.EachBuild(t, testTCPSend2MiB) }

func testTCPSend2MiB(t *testing.T, compat bool) {
	set, _ := start(t, netsensor.Config{}, compat)
	dst := sink(t, "tcp4", netip.AddrPortFrom(localAddr(t), 0).String())
	send(t, "tcp4", dst, twoMiB)
	r, raw := readUntil(t, set, "tcp close record", closeOf(dst.Port))
	tc := r.(*sensor.TCP)
	checkTCP(t, tc, dst, 2)
	t.Logf("%+v", tc)
	save(t, "tcp_close_v4.bin", raw)
}

func TestTCPLoopbackIPv6(t *testing.T) { sensortest.EachBuild(t, testTCPLoopbackIPv6) }

func testTCPLoopbackIPv6(t *testing.T, compat bool) {
	set, _ := start(t, netsensor.Config{IncludeLoopback: true}, compat)
	dst := sink(t, "tcp6", "[::1]:0")
	send(t, "tcp6", dst, twoMiB)
	r, raw := readUntil(t, set, "tcp close record over ::1", closeOf(dst.Port))
	checkTCP(t, r.(*sensor.TCP), dst, 10)
	save(t, "tcp_close_v6.bin", raw)
}

func TestTCPLoopbackExcluded(t *testing.T) { sensortest.EachBuild(t, testTCPLoopbackExcluded) }

func testTCPLoopbackExcluded(t *testing.T, compat bool) {
	set, _ := start(t, netsensor.Config{}, compat)
	lo4 := sink(t, "tcp4", "127.0.0.1:0")
	lo6 := sink(t, "tcp6", "[::1]:0")
	send(t, "tcp4", lo4, 4096)
	send(t, "tcp6", lo6, 4096)
	// A connection made after them that is reported: once it arrives, any
	// record of the loopback ones would have arrived before it.
	sentinel := sink(t, "tcp4", netip.AddrPortFrom(localAddr(t), 0).String())
	send(t, "tcp4", sentinel, 1)
	readUntil(t, set, "sentinel connection", func(r any) bool {
		if tc, ok := r.(*sensor.TCP); ok {
			if tc.DstAddr.IsLoopback() || tc.SrcAddr.IsLoopback() {
				t.Errorf("loopback connection reported: %+v", tc)
			}
		}
		return closeOf(sentinel.Port)(r)
	})
}

func TestTCPInterim(t *testing.T) { sensortest.EachBuild(t, testTCPInterim) }

func testTCPInterim(t *testing.T, compat bool) {
	set, ns := start(t, netsensor.Config{InterimEvery: -1}, compat)
	if err := ns.ReportInterim(); err == nil {
		t.Error("ReportInterim with interim reports off: want an error")
	}
	set.Close()

	set, ns = start(t, netsensor.Config{InterimEvery: time.Hour}, compat)
	// The peer answers one byte after reading the first MiB: that byte's
	// segment acknowledges the MiB, so once it is read the sender's counter
	// holds all of it.
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(localAddr(t), 0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := io.ReadFull(c, make([]byte, 1<<20)); err != nil {
			return
		}
		c.Write([]byte{1})
		io.Copy(io.Discard, c)
	}()
	dst := ln.Addr().(*net.TCPAddr)
	c, err := net.DialTCP("tcp4", nil, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	// Run the iterator now rather than wait for the tick.
	if err := ns.ReportInterim(); err != nil {
		t.Fatal(err)
	}
	r, raw := readUntil(t, set, "interim record", func(r any) bool {
		tc, ok := r.(*sensor.TCP)
		return ok && int(tc.DstPort) == dst.Port && tc.Reason == sensor.TCPInterim
	})
	interim := r.(*sensor.TCP)
	if interim.BytesSent != 1<<20 || interim.BytesReceived != 1 || interim.PID != uint32(os.Getpid()) {
		t.Errorf("interim = %+v, want 1 MiB sent and 1 byte received", interim)
	}
	save(t, "tcp_interim_v4.bin", raw)
	if _, err := c.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	r, _ = readUntil(t, set, "close record", closeOf(dst.Port))
	if fin := r.(*sensor.TCP); fin.BytesSent != 1<<20 || fin.BytesReceived != 0 || fin.StartTS != interim.StartTS {
		t.Errorf("close after interim = %+v, want the second MiB only", fin)
	}
}

func TestTCPInterimTicks(t *testing.T) { sensortest.EachBuild(t, testTCPInterimTicks) }

func testTCPInterimTicks(t *testing.T, compat bool) {
	set, _ := start(t, netsensor.Config{InterimEvery: 50 * time.Millisecond}, compat)
	dst := sink(t, "tcp4", netip.AddrPortFrom(localAddr(t), 0).String())
	c, err := net.DialTCP("tcp4", nil, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	r, _ := readUntil(t, set, "interim record from the ticker", func(r any) bool {
		tc, ok := r.(*sensor.TCP)
		return ok && int(tc.DstPort) == dst.Port && tc.Reason == sensor.TCPInterim
	})
	if tc := r.(*sensor.TCP); tc.PID != uint32(os.Getpid()) || tc.BytesSent != 4096 {
		t.Errorf("interim = %+v", tc)
	}
}

func TestUDPSums(t *testing.T) { sensortest.EachBuild(t, testUDPSums) }

func testUDPSums(t *testing.T, compat bool) {
	_, ns := start(t, netsensor.Config{IncludeLoopback: true}, compat)
	for _, network := range []string{"udp4", "udp6"} {
		host := "127.0.0.1:0"
		if network == "udp6" {
			host = "[::1]:0"
		}
		pc, err := net.ListenPacket(network, host)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		to := pc.LocalAddr()
		// One unconnected socket and one connected one.
		u, err := net.ListenPacket(network, host)
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		for range 5 {
			if _, err := u.WriteTo(make([]byte, 1000), to); err != nil {
				t.Fatal(err)
			}
		}
		c, err := net.Dial(network, to.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for range 5 {
			if _, err := c.Write(make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
		}
		// Each send's egress program ran inside the send call: no waiting.
		totals, err := ns.DrainUDP()
		if err != nil {
			t.Fatal(err)
		}
		var got *sensor.UDP
		for i, u := range totals {
			if int(u.DstPort) == to.(*net.UDPAddr).Port && u.PID == uint32(os.Getpid()) {
				got = &totals[i]
			}
		}
		if got == nil {
			t.Fatalf("%s: no total for port %d in %+v", network, to.(*net.UDPAddr).Port, totals)
		}
		if got.Bytes != 10000 || got.Packets != 10 || !got.DstAddr.IsLoopback() || got.FirstTS > got.TS {
			t.Errorf("%s: total = %+v, want 10000 bytes in 10 packets", network, got)
		}
		// The sender's thread and name, read from the task in the compat build.
		if comm := procComm(t); got.Comm != comm || got.TID == 0 {
			t.Errorf("%s: total from tid %d comm %q, want a tid and comm %q", network, got.TID, got.Comm, comm)
		}
		// Drained totals start again from zero.
		again, err := ns.DrainUDP()
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range again {
			if u.PID == uint32(os.Getpid()) && int(u.DstPort) == to.(*net.UDPAddr).Port {
				t.Errorf("%s: drained total reported again: %+v", network, u)
			}
		}
	}
}

// procComm is this process's name as the kernel keeps it.
func procComm(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func TestUDPLoopbackExcluded(t *testing.T) { sensortest.EachBuild(t, testUDPLoopbackExcluded) }

func testUDPLoopbackExcluded(t *testing.T, compat bool) {
	_, ns := start(t, netsensor.Config{}, compat)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.WriteTo([]byte("x"), pc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	totals, err := ns.DrainUDP()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range totals {
		if u.DstAddr.IsLoopback() {
			t.Errorf("loopback send reported: %+v", u)
		}
	}
}

// TestDNSNamesTransfer answers a DNS query on 127.0.0.1:53 with an address of
// this machine, then connects there: the connection carries the name.
func TestDNSNamesTransfer(t *testing.T) { sensortest.EachBuild(t, testDNSNamesTransfer) }

func testDNSNamesTransfer(t *testing.T, compat bool) {
	set, ns := start(t, netsensor.Config{}, compat)
	target := localAddr(t)
	const name = "files.vigil-test.example"

	srv, err := net.ListenPacket("udp4", "127.0.0.1:53")
	if err != nil {
		testenv.Skipf(t, "needs to serve DNS on 127.0.0.1:53: %v", err)
	}
	defer srv.Close()
	go serveDNS(srv, name, target)

	c, err := net.Dial("udp4", "127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 0x5157, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name + "."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	query, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(query); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1500)); err != nil {
		t.Fatal(err)
	}

	r, raw := readUntil(t, set, "dns record", func(r any) bool {
		d, ok := r.(*sensor.DNS)
		return ok && len(d.Answers) > 0 && d.Answers[0].Name == name
	})
	if d := r.(*sensor.DNS); d.Answers[0].Addr != target || d.OrigLen != len(d.Data) {
		t.Errorf("dns = %+v", d)
	}
	save(t, "dns_answer.bin", raw)
	if got, ok := ns.Names().Lookup(target); !ok || got != name {
		t.Errorf("Names().Lookup(%v) = %q, %v", target, got, ok)
	}

	dst := sink(t, "tcp4", netip.AddrPortFrom(target, 0).String())
	send(t, "tcp4", dst, 1000)
	r, _ = readUntil(t, set, "named tcp record", closeOf(dst.Port))
	if tc := r.(*sensor.TCP); tc.DstName != name {
		t.Errorf("dst_name = %q, want %q", tc.DstName, name)
	}
}

// serveDNS answers every query with one A record: a CNAME chain's end would
// look the same to the sensor, which names the address after the question.
func serveDNS(pc net.PacketConn, name string, addr netip.Addr) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var m dnsmessage.Message
		if err := m.Unpack(buf[:n]); err != nil || len(m.Questions) != 1 {
			continue
		}
		m.Header.Response, m.Header.Authoritative = true, true
		m.Answers = []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: m.Questions[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.AResource{A: addr.As4()},
		}}
		out, err := m.Pack()
		if err != nil {
			continue
		}
		pc.WriteTo(out, from)
	}
}

// save records a raw ring record for the unit tests that decode samples.
func save(t *testing.T, name string, raw []byte) {
	t.Helper()
	if !*update {
		return
	}
	if err := os.WriteFile(filepath.Join("testdata", name), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAgentIgnored: the agent's own connections and sends are not reported,
// a child's are (the child connects with bash's /dev/tcp).
func TestAgentIgnored(t *testing.T) { sensortest.EachBuild(t, testAgentIgnored) }

func testAgentIgnored(t *testing.T, compat bool) {
	testkernel.RequireRoot(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		testenv.Skip(t, "needs bash for a child that connects")
	}
	set, ns := startAs(t, netsensor.Config{}, compat, sensor.Options{AgentPID: uint32(os.Getpid())})
	local := localAddr(t)
	own := sink(t, "tcp4", netip.AddrPortFrom(local, 0).String())
	send(t, "tcp4", own, 4096)
	pc, err := net.ListenPacket("udp4", netip.AddrPortFrom(local, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.WriteTo([]byte("agent"), pc.LocalAddr()); err != nil {
		t.Fatal(err)
	}

	child := sink(t, "tcp4", netip.AddrPortFrom(local, 0).String())
	cmd := exec.Command(bash, "-c", `exec 3<>/dev/tcp/$0/$1 && printf child >&3`, local.String(), fmt.Sprint(child.Port))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	r, _ := readUntil(t, set, "the child's connection", func(r any) bool {
		if tc, ok := r.(*sensor.TCP); ok && int(tc.DstPort) == own.Port {
			t.Errorf("agent's own connection reported: %+v", tc)
		}
		return closeOf(child.Port)(r)
	})
	if tc := r.(*sensor.TCP); tc.PID != uint32(cmd.Process.Pid) || tc.Comm != "bash" || tc.BytesSent != 5 {
		t.Errorf("child connection = %+v, want pid %d", tc, cmd.Process.Pid)
	}
	totals, err := ns.DrainUDP()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range totals {
		if u.PID == uint32(os.Getpid()) {
			t.Errorf("agent's own send reported: %+v", u)
		}
	}
}

// TestRunUDP: the last drain, when the context ends, hands over what was sent.
func TestRunUDP(t *testing.T) { sensortest.EachBuild(t, testRunUDP) }

func testRunUDP(t *testing.T, compat bool) {
	set, ns := start(t, netsensor.Config{IncludeLoopback: true, UDPEvery: time.Hour}, compat)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	if _, err := pc.WriteTo(make([]byte, 333), pc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var got []sensor.UDP
	if err := ns.RunUDP(ctx, func(u []sensor.UDP) { got = append(got, u...) }); err != nil {
		t.Fatal(err)
	}
	var bytes uint64
	for _, u := range got {
		if int(u.DstPort) == port && u.PID == uint32(os.Getpid()) {
			bytes += u.Bytes
		}
	}
	if bytes != 333 {
		t.Errorf("RunUDP handed over %d bytes to port %d, want 333: %+v", bytes, port, got)
	}
	if d := set.Drops()["net"]; d["ringbuf_full"] != 0 || d["map_full"] != 0 {
		t.Errorf("drops = %v", d)
	}
}
