package db

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"structs"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"

	"github.com/vigilhq/vigil/agent/sensor"
)

// Record types, as enum rec_type in bpf/events.h.
const (
	RecData  = 8
	RecClose = 9
	RecUnix  = 10
)

// MaxCapture is the most bytes captured of one send or receive.
const MaxCapture = 16384

// Conn identifies a connection by its kernel socket and its two ends: a TCP
// connection by their addresses, a Unix-domain one by its socket's inode
// and its peer socket (Local and Remote are then zero).
type Conn struct {
	Sock   uint64
	Local  netip.AddrPort
	Remote netip.AddrPort
	// Ino is a Unix socket's inode number (0 for TCP): no other socket has
	// it while the system runs, though another may take its address.
	Ino uint64
	// Peer is the struct sock address of a Unix socket's other end.
	Peer uint64
}

// Unix reports whether c is a Unix-domain connection.
func (c Conn) Unix() bool { return c.Ino != 0 }

// UnixEnds names the ends of a Unix-domain database connection, sent once
// before its first Data.
type UnixEnds struct {
	sensor.Header
	Conn Conn
	// Path is the address the socket is bound to: a server's socket path
	// (an accepted socket has its listener's); empty for a client's.
	Path string
	// PeerPath is the other end's, and PeerIno its inode number.
	PeerPath string
	PeerIno  uint64
}

// Data is the bytes one send or receive moved on a database connection.
type Data struct {
	sensor.Header
	Conn Conn
	// Len is what the call moved; Data holds its first bytes (all of them
	// unless Len exceeds the capture size). Decode does not copy them: see
	// Decode for how long they stay valid.
	Len  int
	Data []byte
	// Tail is how many of Data's last bytes are the end of the call's bytes
	// rather than the continuation of its head (long calls are captured as
	// head and tail).
	Tail int
	Sent bool // this process sent the bytes (else received)
	TLS  bool // read from the TLS library's plaintext
}

// Close says a database connection ended.
type Close struct {
	sensor.Header
	Conn Conn
}

// Config sets what the database sensor captures.
type Config struct {
	// Ports are database server ports (default 5432 and 3306). Connections
	// on other ports are recognised by their first bytes.
	Ports []uint16
	// CaptureBytes is how much of each send or receive is captured, at most
	// MaxCapture (the default).
	CaptureBytes uint32
	// LibSSL lists libssl files to probe besides those found in running
	// processes and the usual library directories.
	LibSSL []string
	// Logger says which TLS libraries are probed and why some cannot be
	// (nil: silent; LibSSL and LibSSLErrors still say).
	Logger *slog.Logger
	// SocketPaths are database server Unix socket paths (default
	// DefaultSocketPaths). A trailing "*" stands for a port number, as in
	// PostgreSQL's ".s.PGSQL.5432". Connections to them are captured even
	// when their first bytes were missed (open before the agent started);
	// others are recognised by their first bytes wherever they live.
	SocketPaths []string
	// SweepEvery is how often the kernel's table of database connections
	// is swept for Unix-domain ones whose sockets are gone, whose close
	// no program sees (default DefaultSweepEvery; see Sweep).
	SweepEvery time.Duration
	// ProcNetUnix lists the host's Unix sockets (default /proc/net/unix).
	ProcNetUnix string
}

// DefaultSweepEvery is Config.SweepEvery when it is zero: a Unix
// connection's close is reported within two of it.
const DefaultSweepEvery = 2 * time.Second

// DefaultPorts are PostgreSQL's and MySQL's.
var DefaultPorts = []uint16{5432, 3306}

// Sensor captures database connections.
type Sensor struct {
	sensor.Loaded
	cfg Config

	disc *discovery

	build sensor.Builds // db or dbCompat

	sweepMu sync.Mutex
	gone    map[uint64]uint64 // Unix sockets found gone once: address -> inode
	// elsewhere names, for each open Unix end another network namespace
	// lists, the table that listed it last sweep: read first, so an open
	// container connection does not cost a walk of /proc every sweep.
	elsewhere map[uint64]string
}

// New returns the database sensor, not yet started.
func New(cfg Config) *Sensor {
	if len(cfg.Ports) == 0 {
		cfg.Ports = DefaultPorts
	}
	if cfg.CaptureBytes == 0 || cfg.CaptureBytes > MaxCapture {
		cfg.CaptureBytes = MaxCapture
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = DefaultSweepEvery
	}
	if cfg.SocketPaths == nil {
		cfg.SocketPaths = DefaultSocketPaths
	}
	if cfg.ProcNetUnix == "" {
		cfg.ProcNetUnix = "/proc/net/unix"
	}
	return &Sensor{cfg: cfg}
}

// Name implements sensor.Sensor.
func (s *Sensor) Name() string { return "db" }

// Builds says which build Start loaded.
func (s *Sensor) Builds() *sensor.Builds { return &s.build }

// Types implements sensor.Sensor.
func (s *Sensor) Types() []uint32 { return []uint32{RecData, RecClose, RecUnix} }

// Start implements sensor.Sensor. TLS capture is best effort: a host without
// OpenSSL still gets plaintext capture, and LibSSLErrors says why.
func (s *Sensor) Start(env sensor.Env) error {
	spec, err := s.build.Load(haveRdonlyCast, loadDb, loadDbCompat)
	if err != nil {
		return fmt.Errorf("loading db sensor spec: %w", err)
	}
	if err := spec.Variables["capture_bytes"].Set(s.cfg.CaptureBytes); err != nil {
		return fmt.Errorf("setting capture size: %w", err)
	}
	paths := make([][pathKeyLen]byte, 0, len(s.cfg.SocketPaths))
	for _, p := range s.cfg.SocketPaths {
		k, err := socketPathKey(p)
		if err != nil {
			return fmt.Errorf("setting database socket paths: %w", err)
		}
		paths = append(paths, k)
	}
	if err := spec.Variables["have_db_paths"].Set(uint8(min(len(paths), 1))); err != nil {
		return fmt.Errorf("setting database socket paths: %w", err)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return fmt.Errorf("counting CPUs: %w", err)
	}
	spec.Maps["db_scratch_map"].MaxEntries = uint32(cpus)
	if err := s.Load(spec, env); err != nil {
		return err
	}
	for i, k := range paths {
		if err := s.Coll.Maps["db_paths"].Update(k, uint8(1), ebpf.UpdateAny); err != nil {
			s.Close()
			return fmt.Errorf("setting database socket path %s: %w", s.cfg.SocketPaths[i], err)
		}
	}
	ports := s.Coll.Maps["db_ports"]
	for _, p := range s.cfg.Ports {
		if err := ports.Update(p, uint8(1), ebpf.UpdateAny); err != nil {
			s.Close()
			return fmt.Errorf("setting database port %d: %w", p, err)
		}
	}
	s.disc = newDiscovery(s.Coll.Programs, s.cfg.Logger)
	for _, path := range s.cfg.LibSSL {
		s.disc.judgePath(path)
	}
	for _, dir := range libSSLDirs {
		matches, _ := filepath.Glob(filepath.Join(dir, "libssl.so*"))
		for _, m := range matches {
			s.disc.judgePath(m)
		}
	}
	s.disc.start(env)
	return nil
}

// haveRdonlyCast says whether the kernel has the kfunc bpf_rdonly_cast
// (6.2+), which the db build reads kernel fields through. Older kernels get
// the dbCompat build of the same source, compiled with VIGIL_NO_RDONLY_CAST
// to read them with bpf_probe_read_kernel; its maps and programs have the
// same names.
func haveRdonlyCast() bool { return sensor.HaveKfunc("bpf_rdonly_cast") }

// libSSLDirs are where distributions install libssl: probed at start,
// before any process of the host loads it.
var libSSLDirs = []string{"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64"}

// CheckProcess has every TLS library the process maps probed, in the
// background: the agent calls it when it sees a TLS connection no probe
// read. A request that finds the queue full is counted in Drops.
func (s *Sensor) CheckProcess(pid uint32) {
	if s.disc != nil {
		s.disc.enqueue(candidate{pid: pid, scan: true})
	}
}

// AttachLibSSL probes one file, named by a host path, if its symbols say
// it is a TLS library (once per file, however many paths reach it).
// Errors are kept for LibSSLErrors.
func (s *Sensor) AttachLibSSL(path string) {
	if s.disc != nil {
		s.disc.judgePath(path)
	}
}

// StartAttacher hands attaching to a process of its own (the agent's binary
// re-executed, see RunAttacher) that keeps the capability uprobes take, so
// that this process can drop it and still have TLS libraries loaded later
// probed. It returns the attacher's pid. Call it before dropping
// capabilities: the attacher starts with what this process holds.
func (s *Sensor) StartAttacher() (int, error) {
	if s.disc == nil {
		return 0, errors.New("db sensor not started")
	}
	return s.disc.startAttacher("/proc/self/exe")
}

// LibSSL lists the TLS library files probed.
func (s *Sensor) LibSSL() []string {
	if s.disc == nil {
		return nil
	}
	return s.disc.probedPaths()
}

// LibSSLErrors says why TLS libraries could not be probed (the latest
// errors).
func (s *Sensor) LibSSLErrors() []string {
	if s.disc == nil {
		return nil
	}
	return s.disc.errors()
}

// Drops implements sensor.Sensor: the capture's losses, and library
// discovery's (libwatch_ringbuf_full, tls_check_queue_full,
// tls_probe_failed, mapped_file_unreachable).
func (s *Sensor) Drops() (map[string]uint64, error) {
	m, err := s.Loaded.Drops()
	if err != nil {
		return nil, err
	}
	if s.disc != nil {
		s.disc.drops(m)
	}
	return m, nil
}

// Close implements sensor.Sensor.
func (s *Sensor) Close() error {
	var err error
	if s.disc != nil {
		err = s.disc.close()
		s.disc = nil
	}
	return errors.Join(err, s.Loaded.Close())
}

// Decode implements sensor.Sensor.
func (s *Sensor) Decode(typ uint32, raw []byte) (any, error) { return Decode(typ, raw) }

// dataHead is a data record's fixed part: dbDbDataRec without the capture
// array, whose zeroing would cost more than the rest of decoding. Its layout
// is checked against the generated record below and in TestDataHeadLayout.
type dataHead struct {
	_ structs.HostLayout
	dbDbCloseRec
	Len  uint32
	Cap  uint32
	Tail uint32
	Dir  uint8
	Tls  uint8
	Pad  [2]uint8
}

// The capture array starts where dataHead ends (fails to compile if not).
var _ = [1]struct{}{}[unsafe.Sizeof(dataHead{})-unsafe.Offsetof(dbDbDataRec{}.Data)]

// Decode decodes a raw database record. Data records are sent trimmed to
// the captured bytes. A Data record's bytes are raw's: they are valid only
// until raw is reused (the agent handles each record before it reads the
// next), and whoever keeps them longer copies them.
func Decode(typ uint32, raw []byte) (any, error) {
	switch typ {
	case RecData:
		var r dataHead
		head := int(unsafe.Sizeof(r))
		if len(raw) < head {
			return nil, fmt.Errorf("db record of %d bytes is too short", len(raw))
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&r)), head), raw)
		if int(r.Cap) > len(raw)-head || r.Cap > MaxCapture || r.Tail > r.Cap || r.Cap > r.Len {
			return nil, fmt.Errorf("db record claims %d captured bytes (%d tail) of %d, has %d", r.Cap, r.Tail, r.Len, len(raw)-head)
		}
		return &Data{
			Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), Conn: conn(connRec(r.Conn)),
			Len: int(r.Len), Data: raw[head : head+int(r.Cap) : head+int(r.Cap)], Tail: int(r.Tail),
			Sent: r.Dir == 0, TLS: r.Tls != 0,
		}, nil
	case RecClose:
		r, err := sensor.Cast[dbDbCloseRec](raw)
		if err != nil {
			return nil, fmt.Errorf("decoding db close: %w", err)
		}
		return &Close{Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), Conn: conn(connRec(r.Conn))}, nil
	case RecUnix:
		r, err := sensor.Cast[dbDbUnixRec](raw)
		if err != nil {
			return nil, fmt.Errorf("decoding db unix ends: %w", err)
		}
		if int(r.PathLen) > len(r.Path) || int(r.PeerPathLen) > len(r.PeerPath) {
			return nil, fmt.Errorf("db unix record claims paths of %d and %d bytes, has room for %d", r.PathLen, r.PeerPathLen, len(r.Path))
		}
		return &UnixEnds{Header: sensor.HeaderAt(unsafe.Pointer(&r.Hdr)), Conn: conn(connRec(r.Conn)),
			Path: unixPath(r.Path[:r.PathLen]), PeerPath: unixPath(r.PeerPath[:r.PeerPathLen]), PeerIno: r.PeerIno}, nil
	}
	return nil, fmt.Errorf("db sensor has no record type %d", typ)
}

// connRec is struct db_conn as every record carries it.
type connRec = struct {
	_      structs.HostLayout
	Sock   uint64
	Family uint16
	Lport  uint16
	Rport  uint16
	Pad    uint16
	Laddr  [16]uint8
	Raddr  [16]uint8
	Ino    uint64
	Peer   uint64
}

func conn(r connRec) Conn {
	if r.Family == syscall.AF_UNIX {
		return Conn{Sock: r.Sock, Ino: r.Ino, Peer: r.Peer}
	}
	ip := func(b [16]uint8) netip.Addr {
		if r.Family == syscall.AF_INET {
			return netip.AddrFrom4([4]byte(b[:4]))
		}
		return netip.AddrFrom16(b).Unmap()
	}
	return Conn{Sock: r.Sock, Local: netip.AddrPortFrom(ip(r.Laddr), r.Lport), Remote: netip.AddrPortFrom(ip(r.Raddr), r.Rport)}
}

// unixPath renders a Unix socket address: an abstract one (a leading NUL)
// as "@name", as ss and /proc/net/unix show it.
func unixPath(b []int8) string {
	p := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
	if len(p) > 0 && p[0] == 0 {
		return "@" + string(p[1:])
	}
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return string(p)
}
