package sensor

import (
	"net/netip"
	"unsafe"

	"github.com/vigilhq/vigil/agent/sensor/net/dnscache"
)

// Header is struct rec_hdr: who did it and when.
type Header struct {
	Type      uint32
	PID       uint32
	TID       uint32
	UID       uint32
	LoginUID  uint32
	SessionID uint32
	// TS is CLOCK_BOOTTIME nanoseconds.
	TS   uint64
	Comm string
}

// rawHeader mirrors struct rec_hdr.
type rawHeader struct {
	Type, PID, TID, UID, LoginUID, SessionID uint32
	TS                                       uint64
	Comm                                     [16]byte
}

// HeaderSize is sizeof(struct rec_hdr).
const HeaderSize = int(unsafe.Sizeof(rawHeader{}))

// HeaderAt decodes the rec_hdr that p points to (the Hdr field of a bpf2go
// record type).
func HeaderAt(p unsafe.Pointer) Header {
	r := (*rawHeader)(p)
	return Header{Type: r.Type, PID: r.PID, TID: r.TID, UID: r.UID, LoginUID: r.LoginUID,
		SessionID: r.SessionID, TS: r.TS, Comm: CString(r.Comm[:])}
}

// Exec is a program started by execve.
type Exec struct {
	Header
	PPID          uint32
	GID           uint32
	StartBoottime uint64
	TTY           string
	Filename      string
	Args          []string
	ArgsTruncated bool
}

// Fork is a new process (not a new thread).
type Fork struct {
	Header
	PPID          uint32
	StartBoottime uint64
}

// Exit is the end of a process (its last thread).
type Exit struct {
	Header
	PPID          uint32
	ExitCode      int32
	StartBoottime uint64
}

// FileWrite reports bytes written to one open file since the last report.
type FileWrite struct {
	Header
	Reason    uint32
	WriterPID uint32
	FirstTS   uint64
	LastTS    uint64
	Bytes     uint64
	Writes    uint64
	OpenFlags uint32
	Created   bool
	// FlagsFromOpen is false when the file was opened before the sensor
	// started and its flags come from the open file instead of open(2).
	FlagsFromOpen bool
	PathTruncated bool
	Dev           uint32
	FSMagic       uint32
	FSType        string
	Path          string
}

// File report reasons, as enum file_reason.
const (
	FileClose   = 1
	FileExit    = 2
	FileInterim = 3
	FileIdle    = 4
)

// File record bits, as enum file_bits.
const (
	FileCreated   = 1 // opened with O_CREAT and the file was new
	FilePathTrunc = 2 // path longer than the record holds: its tail kept
	FileOpenSeen  = 4 // open flags are from the open call, not the open file
)

// Rename is a successful rename. Names relative to a directory carry that
// directory in the Base fields.
type Rename struct {
	Header
	OldBase, OldName string
	NewBase, NewName string
}

// TCP reports a TCP connection's bytes since its previous report (the close
// report of a connection that had interim reports carries only the rest).
// Outbound connections name the process that called connect(); inbound ones
// (accepted by a listener) have PID 0.
type TCP struct {
	Header
	Reason  uint32 // TCPClose or TCPInterim
	Family  uint16 // AF_INET (2) or AF_INET6 (10), the socket's family
	SrcPort uint16
	DstPort uint16
	// Outbound is true when this host connected.
	Outbound bool
	// SrcAddr and DstAddr are unmapped: an IPv6 socket talking to an IPv4
	// peer shows the IPv4 address.
	SrcAddr netip.Addr
	DstAddr netip.Addr
	// DstName is the name DstAddr was resolved from on this host, when a DNS
	// answer for it was seen.
	DstName string
	// StartTS is when the connection was opened (CLOCK_BOOTTIME ns).
	StartTS       uint64
	BytesSent     uint64 // acknowledged by the peer
	BytesReceived uint64
}

// TCP report reasons, as enum tcp_reason.
const (
	TCPClose   = 1
	TCPInterim = 2
)

// UDP is the datagrams one process sent to one destination over one interval.
// Header.TS is the last send; Header.TID the thread that sent first; Type is 0
// (these totals are drained from a map, not read from the ring buffer).
type UDP struct {
	Header
	Family  uint16
	DstPort uint16
	DstAddr netip.Addr
	DstName string
	FirstTS uint64
	Bytes   uint64 // UDP payload bytes
	Packets uint64
}

// DNSQuery is a DNS query a process sent over UDP.
type DNSQuery struct {
	Header
	Family  uint16
	DstPort uint16
	// DstAddr is the server asked.
	DstAddr netip.Addr
	// Question is the query's first question; Name is empty when the
	// message could not be read as a query.
	Question dnscache.Question
	OrigLen  int
}

// DNS is a DNS answer packet seen arriving on the host, on the socket whose
// query it answers.
type DNS struct {
	TS uint64
	// Data is the start of the message, at most MAX_DNS bytes of OrigLen.
	Data    []byte
	OrigLen int
	// Answers are the addresses the message gave, nil when Data is not a
	// DNS response.
	Answers []dnscache.Answer
}
