package event

import (
	"strconv"
	"time"
)

// Kind names what an event reports. Every event has exactly one payload, and
// the kind says which.
type Kind string

// Event kinds. The payload each carries is named beside it.
const (
	KindProcessExec Kind = "process.exec" // Process only
	KindProcessExit Kind = "process.exit" // Process, Exit
	KindFileWrite   Kind = "file.write"   // File
	KindFileRename  Kind = "file.rename"  // File (Path is the new name, OldPath the old)
	KindNetTransfer Kind = "net.transfer" // Net
	KindDBQuery     Kind = "db.query"     // DB
	KindDBSession   Kind = "db.session"   // DB (a connection whose statements cannot be read)
	KindAgentLoss   Kind = "agent.loss"   // Loss
	KindHeartbeat   Kind = "agent.heartbeat"
	KindAlert       Kind = "alert" // Alert
)

// Kinds lists every kind, in documentation order.
var Kinds = []Kind{
	KindProcessExec, KindProcessExit, KindFileWrite, KindFileRename, KindNetTransfer,
	KindDBQuery, KindDBSession, KindAgentLoss, KindHeartbeat, KindAlert,
}

// Event is one observation (or one alert) from one agent. (AgentID, BootID,
// Seq) identifies it; Seq counts from 1 within a BootID with no gaps, so a
// receiver that sees a gap knows events were lost.
type Event struct {
	ID      string            `json:"id"`
	Time    time.Time         `json:"time"`
	Kind    Kind              `json:"kind"`
	Site    string            `json:"site"`
	Host    string            `json:"host"`
	AgentID string            `json:"agent_id"`
	BootID  string            `json:"boot_id"`
	Seq     uint64            `json:"seq"`
	Labels  map[string]string `json:"labels,omitempty"`

	Process   *Process   `json:"process,omitempty"`
	Exit      *Exit      `json:"exit,omitempty"`
	File      *File      `json:"file,omitempty"`
	Net       *Net       `json:"net,omitempty"`
	DB        *DB        `json:"db,omitempty"`
	Loss      *Loss      `json:"loss,omitempty"`
	Heartbeat *Heartbeat `json:"heartbeat,omitempty"`
	Alert     *Alert     `json:"alert,omitempty"`
}

// Process is the process an event is attributed to, with the person behind it.
type Process struct {
	PID     uint32 `json:"pid"`
	PPID    uint32 `json:"ppid"`
	Exe     string `json:"exe,omitempty"`
	Comm    string `json:"comm,omitempty"`
	Cmdline string `json:"cmdline,omitempty"`
	UID     uint32 `json:"uid"`
	User    string `json:"user,omitempty"`
	// LoginUID is the audit login uid: who logged in, kept across sudo, su and
	// setuid. NoLoginUID (4294967295) means the process never passed a login
	// (a system service).
	LoginUID  uint32 `json:"loginuid"`
	LoginUser string `json:"login_user,omitempty"`
	Session   uint32 `json:"session"`
	TTY       string `json:"tty,omitempty"`
	// StartTime is when the process started; with PID it names the process
	// uniquely across PID reuse.
	StartTime time.Time `json:"start_time,omitzero"`
}

// NoLoginUID is the loginuid of processes not started from a login session.
const NoLoginUID = ^uint32(0)

// Person is who to hold responsible for the process: the login user when the
// process descends from a login, else the user it runs as.
func (p *Process) Person() string {
	if p == nil {
		return ""
	}
	if p.LoginUID != NoLoginUID && p.LoginUser != "" {
		return p.LoginUser
	}
	return p.User
}

// Exit is the payload of process.exit.
type Exit struct {
	Code   int32  `json:"code"`
	Signal int32  `json:"signal,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// File is the payload of file.write and file.rename.
type File struct {
	Path string `json:"path"`
	// OldPath is the name before a rename (file.rename only).
	OldPath string `json:"old_path,omitempty"`
	// Bytes written since the previous report for this open file.
	Bytes uint64 `json:"bytes"`
	// Writes counts the write calls behind Bytes.
	Writes uint64 `json:"writes,omitempty"`
	// Flags are the open(2) flags, e.g. ["O_WRONLY","O_CREAT","O_TRUNC"].
	Flags      []string `json:"flags,omitempty"`
	Mount      string   `json:"mount,omitempty"`
	FSType     string   `json:"fstype,omitempty"`
	Removable  bool     `json:"removable"`
	Network    bool     `json:"network"`
	Created    bool     `json:"created,omitempty"`
	Reason     string   `json:"reason,omitempty"` // close, exit or interim
	DurationMS uint64   `json:"duration_ms,omitempty"`
}

// Net is the payload of net.transfer.
type Net struct {
	Proto  string `json:"proto"` // tcp or udp
	Family string `json:"family,omitempty"`
	// Direction is outbound when this host opened the connection, inbound
	// when a local listener accepted it (no process is known for those).
	Direction     string `json:"direction,omitempty"`
	SrcIP         string `json:"src_ip,omitempty"`
	SrcPort       uint16 `json:"src_port,omitempty"`
	DstIP         string `json:"dst_ip"`
	DstPort       uint16 `json:"dst_port"`
	DstName       string `json:"dst_name,omitempty"`
	BytesSent     uint64 `json:"bytes_sent"`
	BytesReceived uint64 `json:"bytes_received"`
	// Packets or datagrams sent (UDP) in the reporting interval.
	Packets    uint64 `json:"packets,omitempty"`
	DurationMS uint64 `json:"duration_ms,omitempty"`
	Loopback   bool   `json:"loopback,omitempty"`
	// Reason is close for a finished connection, interim for a long one still
	// open (bytes are then deltas since the previous report), interval for UDP.
	Reason string `json:"reason,omitempty"`
}

// DB is the payload of db.query and db.session.
type DB struct {
	Engine string `json:"engine"`           // postgresql or mysql
	Side   string `json:"side,omitempty"`   // client or server
	Server string `json:"server,omitempty"` // ip:port of the database server
	Client string `json:"client,omitempty"` // ip:port of the client
	User   string `json:"user,omitempty"`
	// Database is the database (schema) the connection selected.
	Database string `json:"database,omitempty"`
	// Statement with literal values replaced by ? unless redaction is off.
	Statement   string   `json:"statement,omitempty"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	Tables      []string `json:"tables,omitempty"`
	Columns     []string `json:"columns,omitempty"`
	Command     string   `json:"command,omitempty"` // SELECT, UPDATE, COPY ...
	Rows        uint64   `json:"rows"`
	// Partial is set when bytes of the exchange were not captured: Rows is
	// then a lower bound.
	Partial    bool    `json:"partial,omitempty"`
	Bytes      uint64  `json:"bytes"`
	DurationMS float64 `json:"duration_ms"`
	// Executions is how many runs of the statement the event stands for;
	// absent (0) means one. The agent folds repeats of one statement on one
	// connection within its fold window into one event when they are equal
	// in everything else (identifiers included): Rows, Bytes and DurationMS
	// are then totals over the runs, and Partial is set if any run's was.
	Executions uint64 `json:"executions,omitempty"`
	// FirstTime is when the first of folded runs ended (the event's Time is
	// when the last did); zero for a single run.
	FirstTime time.Time `json:"first_time,omitzero"`
	Error     string    `json:"error,omitempty"`
	ErrorCode string    `json:"error_code,omitempty"`
	// Identifiers maps a configured identifier column to the keyed hashes of
	// the literal values the statement compared it with.
	Identifiers map[string][]string `json:"identifiers,omitempty"`
	TLS         bool                `json:"tls,omitempty"`
	// Encrypted is set on db.session when the connection's plaintext could not
	// be observed (statically linked TLS and the like).
	Encrypted bool `json:"encrypted,omitempty"`
}

// Runs is how many statement runs d stands for: Executions, or 1 when it is
// not set; 0 for a nil d.
func (d *DB) Runs() uint64 {
	switch {
	case d == nil:
		return 0
	case d.Executions == 0:
		return 1
	}
	return d.Executions
}

// Loss is the payload of agent.loss: events that could not be delivered.
type Loss struct {
	Sensor string `json:"sensor"`
	Count  uint64 `json:"count"`
	Reason string `json:"reason"` // ringbuf_full, spool_full, ...
	// BootID, FromSeq and ToSeq name the range of seqs the lost events
	// had, numbered in BootID (which can be an earlier boot than the
	// record's own), when they had seqs: events dropped from the spool.
	// Some in the range may have been delivered before they were dropped.
	BootID  string `json:"boot_id,omitempty"`
	FromSeq uint64 `json:"from_seq,omitempty"`
	ToSeq   uint64 `json:"to_seq,omitempty"`
}

// Heartbeat is the payload of agent.heartbeat.
type Heartbeat struct {
	IntervalS     uint32            `json:"interval_s"`
	Events        uint64            `json:"events"`
	KernelDrops   map[string]uint64 `json:"kernel_drops,omitempty"`
	SpoolDepth    uint64            `json:"spool_depth"`
	SpoolDropped  uint64            `json:"spool_dropped"`
	Sensors       []string          `json:"sensors"`
	RuleSetHash   string            `json:"rule_set_hash,omitempty"`
	CPUPercent    float64           `json:"cpu_percent"`
	RSSBytes      uint64            `json:"rss_bytes"`
	Version       string            `json:"version,omitempty"`
	KernelVersion string            `json:"kernel_version,omitempty"`
}

// Severities, lowest first.
const (
	SeverityInfo     = "info"
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Severities lists the severities from lowest to highest.
var Severities = []string{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// SeverityRank orders severities; unknown ones rank -1.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return -1
}

// Alert is the payload of alert events.
type Alert struct {
	Rule        string   `json:"rule"`
	Severity    string   `json:"severity"`
	Summary     string   `json:"summary"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Evidence holds the ids of the events that made the rule fire.
	Evidence []string `json:"evidence"`
	// Group is the threshold or sequence grouping the alert is about,
	// e.g. {"login_user":"alice","table":"customers"}.
	Group map[string]string `json:"group,omitempty"`
	// Value is the count, sum or distinct count that crossed a threshold.
	Value float64 `json:"value,omitempty"`
	// Scope is host for agent rules and global for collector correlation.
	Scope string `json:"scope,omitempty"`
}

// MakeID returns the id of the event with the given boot id and sequence.
// Ids are deterministic so that a replay of the same event deduplicates.
func MakeID(bootID string, seq uint64) string {
	var buf [64]byte // on the stack: one allocation, the string
	b := append(append(buf[:0], bootID...), '-')
	return string(strconv.AppendUint(b, seq, 10))
}
