package netsensor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/net/dnscache"
)

// Config tunes the net sensor.
type Config struct {
	// IncludeLoopback reports traffic to and from 127.0.0.0/8 and ::1 too.
	// DNS answers from local stub resolvers are read either way.
	IncludeLoopback bool
	// InterimEvery is how often open TCP connections that moved bytes are
	// reported. Zero means 10 s; negative turns interim reports off.
	InterimEvery time.Duration
	// UDPEvery is how often RunUDP drains the UDP totals. Zero means 10 s.
	UDPEvery time.Duration
	// CgroupPath is the cgroup v2 directory the packet programs attach to.
	// Empty means the root of the cgroup v2 hierarchy, found in
	// /proc/self/mountinfo, which covers every process.
	CgroupPath string
	// Names resolves destinations to names; nil means a new cache with
	// dnscache's defaults. DNS answers the sensor decodes are added to it.
	Names *dnscache.Cache
}

// Sensor is the net sensor. Decode is meant to be called from one goroutine
// (sensor.Set.Read); DrainUDP and RunUDP may run beside it.
type Sensor struct {
	cfg   Config
	objs  netObjects
	links sensor.Links
	iter  *link.Iter

	stop chan struct{}
	done sync.WaitGroup

	udpMu     sync.Mutex
	udpActive int // 0: udp_sums_a takes the adds, 1: udp_sums_b

	build sensor.Builds // net or netCompat

	// malformed counts answers to a query of this host that could not be
	// read as DNS (Decode runs on the reader, RefusedAnswers on another).
	malformed atomic.Uint64
}

// New returns the net sensor, not yet started.
func New(cfg Config) *Sensor {
	if cfg.InterimEvery == 0 {
		cfg.InterimEvery = 10 * time.Second
	}
	if cfg.UDPEvery <= 0 {
		cfg.UDPEvery = 10 * time.Second
	}
	if cfg.Names == nil {
		cfg.Names = dnscache.New(dnscache.Options{})
	}
	return &Sensor{cfg: cfg}
}

// Name implements sensor.Sensor.
func (s *Sensor) Name() string { return "net" }

// Builds says which build Start loaded.
func (s *Sensor) Builds() *sensor.Builds { return &s.build }

// Types implements sensor.Sensor.
func (s *Sensor) Types() []uint32 {
	return []uint32{sensor.RecTCP, sensor.RecDNS, sensor.RecDNSQuery}
}

// Names is the cache that names destinations.
func (s *Sensor) Names() *dnscache.Cache { return s.cfg.Names }

// ErrNoCgroup2 is returned by Start when no cgroup v2 hierarchy is mounted.
var ErrNoCgroup2 = errors.New("no cgroup v2 hierarchy mounted (the UDP and DNS programs attach to one)")

// Start implements sensor.Sensor.
func (s *Sensor) Start(env sensor.Env) error {
	cgroup := s.cfg.CgroupPath
	if cgroup == "" {
		var err error
		if cgroup, err = cgroup2Root(); err != nil {
			return err
		}
	}
	spec, err := s.build.Load(defaultBuildRuns, loadNet, loadNetCompat)
	if err != nil {
		return fmt.Errorf("loading net sensor spec: %w", err)
	}
	opts, err := env.Prepare(spec)
	if err != nil {
		return err
	}
	if s.cfg.IncludeLoopback {
		if err := spec.Variables["include_loopback"].Set(uint8(1)); err != nil {
			return fmt.Errorf("setting include_loopback: %w", err)
		}
	}
	if err := spec.LoadAndAssign(&s.objs, opts); err != nil {
		return fmt.Errorf("loading net sensor: %w", err)
	}
	if err := s.attach(cgroup); err != nil {
		s.Close()
		return err
	}
	s.stop = make(chan struct{})
	if s.cfg.InterimEvery > 0 {
		s.done.Add(1)
		go s.interimLoop()
	}
	return nil
}

// defaultBuildRuns says whether the kernel can load the net build of
// bpf/net.bpf.c: its cgroup_skb egress program calls the kfunc
// bpf_rdonly_cast (6.2+), and bpf_get_current_pid_tgid and
// bpf_get_current_comm, which cgroup_skb programs get from 6.10 and later.
// Other kernels (5.17 on) get the netCompat build of the same source,
// compiled with VIGIL_NET_COMPAT to read the socket and the task with
// bpf_probe_read_kernel; its maps and programs have the same names.
func defaultBuildRuns() bool {
	if !sensor.HaveKfunc("bpf_rdonly_cast") {
		return false
	}
	for _, helper := range []asm.BuiltinFunc{asm.FnGetCurrentPidTgid, asm.FnGetCurrentComm} {
		if features.HaveProgramHelper(ebpf.CGroupSKB, helper) != nil {
			return false
		}
	}
	return true
}

func (s *Sensor) attach(cgroup string) error {
	l, err := link.AttachTracing(link.TracingOptions{Program: s.objs.HandleSetState})
	if err != nil {
		return fmt.Errorf("attaching tp_btf/inet_sock_set_state: %w", err)
	}
	s.links = append(s.links, l)
	if s.cfg.InterimEvery > 0 {
		it, err := link.AttachIter(link.IterOptions{Program: s.objs.TcpInterim})
		if err != nil {
			return fmt.Errorf("attaching iter/tcp: %w", err)
		}
		s.iter = it
		s.links = append(s.links, it)
	}
	for _, c := range []struct {
		prog   *ebpf.Program
		attach ebpf.AttachType
		what   string
	}{
		{s.objs.UdpEgress, ebpf.AttachCGroupInetEgress, "cgroup_skb/egress"},
		{s.objs.DnsIngress, ebpf.AttachCGroupInetIngress, "cgroup_skb/ingress"},
	} {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: cgroup, Attach: c.attach, Program: c.prog})
		if err != nil {
			return fmt.Errorf("attaching %s to %s: %w", c.what, cgroup, err)
		}
		s.links = append(s.links, l)
	}
	return nil
}

func (s *Sensor) interimLoop() {
	defer s.done.Done()
	t := time.NewTicker(s.cfg.InterimEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_ = s.ReportInterim() // fails only while closing
		}
	}
}

// ReportInterim reports now every open connection that moved bytes since its
// previous report, instead of waiting for the next InterimEvery tick.
func (s *Sensor) ReportInterim() error {
	if s.iter == nil {
		return errors.New("interim reports are off")
	}
	r, err := s.iter.Open()
	if err != nil {
		return fmt.Errorf("running tcp iterator: %w", err)
	}
	defer r.Close()
	// The program writes to the ring buffer, not to the iterator's output.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("running tcp iterator: %w", err)
	}
	return nil
}

// Decode implements sensor.Sensor. It names TCP destinations from the DNS
// answers decoded before them and adds each DNS answer's addresses to Names.
func (s *Sensor) Decode(typ uint32, raw []byte) (any, error) {
	r, err := Decode(typ, raw)
	if err != nil {
		return nil, err
	}
	switch r := r.(type) {
	case *sensor.TCP:
		r.DstName, _ = s.cfg.Names.Lookup(r.DstAddr)
	case *sensor.DNS:
		if r.Answers == nil {
			s.malformed.Add(1)
		}
		s.cfg.Names.Add(r.Answers)
	}
	return r, nil
}

// Decode decodes a raw net record, without naming destinations.
func Decode(typ uint32, raw []byte) (any, error) {
	switch typ {
	case sensor.RecTCP:
		r, err := sensor.Cast[netTcpRec](raw)
		if err != nil {
			return nil, fmt.Errorf("decoding tcp: %w", err)
		}
		return &sensor.TCP{
			Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), Reason: r.Reason, Family: r.Family,
			SrcPort: r.Sport, DstPort: r.Dport, Outbound: r.Outbound != 0,
			SrcAddr: addr(r.Family, r.Saddr), DstAddr: addr(r.Family, r.Daddr),
			StartTS: r.StartTs, BytesSent: r.BytesSent, BytesReceived: r.BytesReceived,
		}, nil
	case sensor.RecDNS:
		const dataOff = int(unsafe.Offsetof(netDnsRec{}.Data))
		if len(raw) < dataOff {
			return nil, fmt.Errorf("decoding dns: record of %d bytes", len(raw))
		}
		// The kernel cuts the record after the captured bytes.
		var r netDnsRec
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r)), raw)
		n := int(r.Len)
		if n > len(r.Data) || dataOff+n > len(raw) {
			return nil, fmt.Errorf("decoding dns: %d bytes captured, record of %d", n, len(raw))
		}
		d := &sensor.DNS{TS: r.Ts, Data: append([]byte(nil), r.Data[:n]...), OrigLen: int(r.OrigLen)}
		// An answer whose records cannot be read is still reported.
		d.Answers, _ = dnscache.Parse(d.Data)
		return d, nil
	case sensor.RecDNSQuery:
		const dataOff = int(unsafe.Offsetof(netDnsQueryRec{}.Data))
		if len(raw) < dataOff {
			return nil, fmt.Errorf("decoding dns query: record of %d bytes", len(raw))
		}
		var r netDnsQueryRec
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r)), raw)
		n := int(r.Len)
		if n > len(r.Data) || dataOff+n > len(raw) {
			return nil, fmt.Errorf("decoding dns query: %d bytes captured, record of %d", n, len(raw))
		}
		q := &sensor.DNSQuery{Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), Family: r.Family, DstPort: r.Dport,
			DstAddr: addr(r.Family, r.Daddr), OrigLen: int(r.OrigLen)}
		// A datagram to port 53 that is not a query is still reported.
		q.Question, _ = dnscache.ParseQuery(r.Data[:n])
		return q, nil
	}
	return nil, fmt.Errorf("net sensor has no record type %d", typ)
}

func addr(family uint16, b [16]uint8) netip.Addr {
	if family == afInet {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b).Unmap()
}

const afInet = 2

// DrainUDP returns the UDP sends summed since the previous drain, one total
// per sending process and destination, and starts new sums. Nothing is lost
// between drains: the kernel is switched to the other of two maps first, and
// that switch waits for programs still adding to the old one (the kernel
// synchronises RCU on map-in-map updates). Call it every interval (RunUDP
// does), from one goroutine at a time.
func (s *Sensor) DrainUDP() ([]sensor.UDP, error) {
	s.udpMu.Lock()
	defer s.udpMu.Unlock()
	full, empty := s.objs.UdpSumsA, s.objs.UdpSumsB
	if s.udpActive == 1 {
		full, empty = empty, full
	}
	if err := s.objs.UdpActive.Update(uint32(0), empty, ebpf.UpdateAny); err != nil {
		return nil, fmt.Errorf("switching udp sums: %w", err)
	}
	s.udpActive ^= 1

	var (
		out  []sensor.UDP
		keys []netUdpKey
		k    netUdpKey
		v    netUdpTotal
	)
	it := full.Iterate()
	for it.Next(&k, &v) {
		keys = append(keys, k)
		u := sensor.UDP{
			Header: sensor.Header{PID: k.Pid, TID: v.Tid, UID: v.Uid, LoginUID: v.Loginuid,
				SessionID: v.Sessionid, TS: v.LastTs, Comm: sensor.CString(v.Comm[:])},
			Family: k.Family, DstPort: k.Dport, DstAddr: addr(k.Family, k.Daddr),
			FirstTS: v.FirstTs, Bytes: v.Bytes, Packets: v.Packets,
		}
		if !sensor.IsCanaryUDP(&u) { // the agent's self-check, not user activity
			out = append(out, u)
		}
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("reading udp sums: %w", err)
	}
	for i := range keys {
		if err := full.Delete(&keys[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return out, fmt.Errorf("clearing udp sums: %w", err)
		}
	}
	for i := range out {
		out[i].DstName, _ = s.cfg.Names.Lookup(out[i].DstAddr)
	}
	return out, nil
}

// RunUDP drains the UDP totals every Config.UDPEvery and hands each non-empty
// batch to emit, until ctx is done; then it drains once more and returns.
func (s *Sensor) RunUDP(ctx context.Context, emit func([]sensor.UDP)) error {
	t := time.NewTicker(s.cfg.UDPEvery)
	defer t.Stop()
	for {
		var stop bool
		select {
		case <-ctx.Done():
			stop = true
		case <-t.C:
		}
		totals, err := s.DrainUDP()
		if len(totals) > 0 {
			emit(totals)
		}
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
}

// Drops implements sensor.Sensor.
func (s *Sensor) Drops() (map[string]uint64, error) { return sensor.ReadDrops(s.objs.Drops) }

// DNSRefused is how many DNS answers the kernel refused because no query of
// this host asked for them: forged or unsolicited answers, or answers to
// queries pushed out of its table of pending queries.
func (s *Sensor) DNSRefused() (uint64, error) {
	var perCPU []uint64
	if err := s.objs.DnsRefused.Lookup(uint32(0), &perCPU); err != nil {
		return 0, fmt.Errorf("reading refused dns answers: %w", err)
	}
	var sum uint64
	for _, v := range perCPU {
		sum += v
	}
	return sum, nil
}

// Reasons RefusedAnswers counts DNS answers under.
const (
	RefusedUnsolicited = "unsolicited"
	RefusedMalformed   = "malformed"
)

// RefusedAnswers is how many DNS answers the sensor took no name from since
// Start, by reason: RefusedUnsolicited (DNSRefused) and RefusedMalformed
// (answers to a query of this host that are not readable as DNS).
func (s *Sensor) RefusedAnswers() (map[string]uint64, error) {
	if s.objs.DnsRefused == nil {
		return nil, errors.New("reading refused dns answers: the net sensor is not running")
	}
	n, err := s.DNSRefused()
	if err != nil {
		return nil, err
	}
	return map[string]uint64{RefusedUnsolicited: n, RefusedMalformed: s.malformed.Load()}, nil
}

// Attachments implements sensor.Attacher.
func (s *Sensor) Attachments() sensor.Links { return s.links }

// Close implements sensor.Sensor: it stops interim reports and detaches every
// program. UDP sums not drained yet are lost; drain before closing.
func (s *Sensor) Close() error {
	if s.stop != nil {
		close(s.stop)
		s.done.Wait()
		s.stop = nil
	}
	err := s.links.Close()
	s.links, s.iter = nil, nil
	if cerr := s.objs.Close(); err == nil {
		err = cerr
	}
	return err
}

// cgroup2Root finds where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup
// on unified hosts, /sys/fs/cgroup/unified on hybrid ones.
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("finding cgroup v2: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		fields := strings.Fields(sc.Text())
		for i, fl := range fields {
			if fl == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 && fields[3] == "/" {
				return fields[4], nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("finding cgroup v2: %w", err)
	}
	return "", ErrNoCgroup2
}
