package netsensor_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
	netsensor "github.com/vigilhq/vigil/agent/sensor/net"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// BenchmarkUDPPrograms measures, with the kernel's bpf_stats, what the two
// cgroup_skb programs cost per run on the paths every UDP packet takes: a
// datagram summed, a loopback one skipped, and a DNS query with its answer
// (query remembered and reported, answer matched and copied). The ns/op is
// the whole send (and receive) in the benchmark; egress-ns/run and
// ingress-ns/run are the programs' own.
func BenchmarkUDPPrograms(b *testing.B) {
	testkernel.RequireRoot(b)
	ns := netsensor.New(netsensor.Config{InterimEvery: -1})
	set, err := sensor.Start([]sensor.Sensor{ns}, sensor.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	go func() {
		for {
			if _, err := set.Read(); err != nil {
				return
			}
		}
	}()
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		testenv.Skipf(b, "needs bpf run-time statistics: %v", err)
	}
	defer stats.Close()
	egress, ingress := netsensor.Programs(ns)

	measure := func(b *testing.B, op func(b *testing.B)) {
		e0, err1 := egress.Stats()
		i0, err2 := ingress.Stats()
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		for b.Loop() {
			op(b)
		}
		e1, _ := egress.Stats()
		i1, _ := ingress.Stats()
		if n := e1.RunCount - e0.RunCount; n > 0 {
			b.ReportMetric(float64(e1.Runtime-e0.Runtime)/float64(n), "egress-ns/run")
		}
		if n := i1.RunCount - i0.RunCount; n > 0 {
			b.ReportMetric(float64(i1.Runtime-i0.Runtime)/float64(n), "ingress-ns/run")
		}
	}
	sendTo := func(b *testing.B, to string) {
		dst, err := net.ListenPacket("udp4", to)
		if err != nil {
			b.Fatal(err)
		}
		defer dst.Close()
		src, err := net.Dial("udp4", dst.LocalAddr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer src.Close()
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := dst.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		msg := make([]byte, 100)
		measure(b, func(b *testing.B) {
			if _, err := src.Write(msg); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("udp", func(b *testing.B) {
		local := benchLocalAddr(b)
		sendTo(b, netip.AddrPortFrom(local, 0).String())
	})
	b.Run("udp-loopback", func(b *testing.B) { sendTo(b, "127.0.0.1:0") })
	b.Run("dns-query-answer", func(b *testing.B) {
		srv, err := net.ListenPacket("udp4", "127.0.0.1:53")
		if err != nil {
			testenv.Skipf(b, "needs to serve DNS on 127.0.0.1:53: %v", err)
		}
		defer srv.Close()
		go serveDNS(srv, "files.vigil-test.example", netip.MustParseAddr("192.0.2.2"))
		c, err := net.Dial("udp4", "127.0.0.1:53")
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 1500)
		var id uint16
		measure(b, func(b *testing.B) {
			id++
			q := dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true},
				Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName("files.vigil-test.example."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}}}
			msg, err := q.Pack()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(buf); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// benchLocalAddr is a non-loopback address of this machine.
func benchLocalAddr(b *testing.B) netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
			return p.Addr()
		}
	}
	testenv.Skip(b, "needs a non-loopback IPv4 address")
	return netip.Addr{}
}
