package event

import (
	"strconv"
	"strings"
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
	KindDNSQuery    Kind = "dns.query"    // DNS
	KindDBQuery     Kind = "db.query"     // DB
	KindDBSession   Kind = "db.session"   // DB (a connection whose statements cannot be read)
	KindAgentLoss   Kind = "agent.loss"   // Loss
	KindHeartbeat   Kind = "agent.heartbeat"
	KindAlert       Kind = "alert" // Alert
)

// Kinds lists every kind, in documentation order.
var Kinds = []Kind{
	KindProcessExec, KindProcessExit, KindFileWrite, KindFileRename, KindNetTransfer, KindDNSQuery,
	KindDBQuery, KindDBSession, KindAgentLoss, KindHeartbeat, KindAlert,
}

// Event is one observation (or one alert) from one agent. (AgentID, BootID,
// Seq) identifies it; Seq counts from 1 within a BootID with no gaps, so a
// receiver that sees a gap knows events were lost.
type Event struct {
	ID      string            `json:"id" doc:"Unique id, '<boot_id>-<seq>': the same event always has the same id, so replays deduplicate."`
	Time    time.Time         `json:"time" rule:"derived" doc:"When the kernel saw the activity, in UTC (converted from the kernel's boot clock); for reports of bytes (file, network), the time of the report."`
	Kind    Kind              `json:"kind" doc:"What happened, one of the kinds below; it says which payload is present."`
	Site    string            `json:"site" doc:"The support site (vendor office) the agent belongs to, from 'site' in agent.hcl."`
	Host    string            `json:"host" doc:"Host name, or 'host' from agent.hcl."`
	AgentID string            `json:"agent_id" doc:"The agent's permanent id (kept in '/var/lib/vigil/agent-id')."`
	BootID  string            `json:"boot_id" doc:"Random id of this run of the agent, new at every agent start."`
	Seq     uint64            `json:"seq" doc:"Counts from 1 within a 'boot_id' with no gaps, so a receiver that sees a gap knows events were lost (the agent reports its own losses as 'agent.loss' events)."`
	Labels  map[string]string `json:"labels,omitempty" doc:"Host labels from agent.hcl ('labels = { team = \"payments\" }')."`

	// The payloads; kinds names the kinds that carry one (none: every kind).
	Process   *Process   `json:"process,omitempty" doc:"The process responsible (below), present on every kind except 'agent.*' and 'alert'."`
	Exit      *Exit      `json:"exit,omitempty" kinds:"process.exit" doc:"How the process ended."`
	File      *File      `json:"file,omitempty" kinds:"file.write,file.rename" doc:"The file written or renamed."`
	Net       *Net       `json:"net,omitempty" kinds:"net.transfer" doc:"The connection and the bytes it moved."`
	DNS       *DNS       `json:"dns,omitempty" kinds:"dns.query" doc:"The name a process looked up."`
	DB        *DB        `json:"db,omitempty" kinds:"db.query,db.session" doc:"The database statement or connection."`
	Loss      *Loss      `json:"loss,omitempty" kinds:"agent.loss" doc:"The events that could not be delivered."`
	Heartbeat *Heartbeat `json:"heartbeat,omitempty" kinds:"agent.heartbeat" doc:"The agent's state."`
	Alert     *Alert     `json:"alert,omitempty" kinds:"alert" doc:"The rule that fired and its evidence."`
	// Attribution is set by the collector on statements seen at the
	// database server, once it has joined them to their connection's
	// client end (or found it cannot).
	Attribution *Attribution `json:"attribution,omitempty" kinds:"db.query,db.session" doc:"Who the statement is the work of, for statements seen at the database server ('db.side' = 'server'): the client end of the connection (below)."`
}

// Process is the process an event is attributed to, with the person behind it.
type Process struct {
	PID     uint32 `json:"pid" doc:"Process id (thread group id)."`
	PPID    uint32 `json:"ppid" doc:"Parent's pid."`
	Exe     string `json:"exe,omitempty" doc:"Program path as executed."`
	Comm    string `json:"comm,omitempty" doc:"Kernel task name (15 characters at most)."`
	Cmdline string `json:"cmdline,omitempty" doc:"Arguments joined by spaces; the kernel side captures up to 512 bytes, a longer one ends in ' ...'."`
	UID     uint32 `json:"uid" doc:"The user id the process runs as."`
	User    string `json:"user,omitempty" doc:"The name of the user the process runs as."`
	// LoginUID is the audit login uid: who logged in, kept across sudo, su and
	// setuid. NoLoginUID (4294967295) means the process never passed a login
	// (a system service).
	LoginUID  uint32 `json:"loginuid" doc:"The audit login uid: the person who logged in, kept across 'sudo', 'su' and setuid programs; '4294967295' for processes not started from a login, such as services."`
	LoginUser string `json:"login_user,omitempty" doc:"The name of the login uid, empty for '4294967295'."`
	Session   uint32 `json:"session" doc:"Audit session id of the login."`
	TTY       string `json:"tty,omitempty" doc:"Controlling terminal ('pts0', 'tty1'), empty for none."`
	// StartTime is when the process started; with PID it names the process
	// uniquely across PID reuse.
	StartTime time.Time `json:"start_time,omitzero" doc:"When the process started; with 'pid' it identifies the process across pid reuse."`
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
	Code   int32  `json:"code" doc:"Exit status."`
	Signal int32  `json:"signal,omitempty" doc:"The signal that killed the process, if one did."`
	Reason string `json:"reason,omitempty" doc:"Why the process ended, when more is known than code and signal."`
}

// File is the payload of file.write and file.rename.
type File struct {
	Path string `json:"path" doc:"Absolute path, resolved in the kernel from the open file; paths over 512 bytes keep their end, prefixed '...'."`
	// OldPath is the name before a rename (file.rename only).
	OldPath string `json:"old_path,omitempty" doc:"The name before the rename ('file.rename' only)."`
	// Bytes written since the previous report for this open file.
	Bytes uint64 `json:"bytes" doc:"Bytes written since the previous report for this open file."`
	// Writes counts the write calls behind Bytes.
	Writes uint64 `json:"writes,omitempty" doc:"Write calls behind 'bytes'."`
	// Flags are the open(2) flags, e.g. ["O_WRONLY","O_CREAT","O_TRUNC"].
	Flags      []string `json:"flags,omitempty" doc:"Open flags, such as 'O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_TRUNC' and 'O_APPEND'."`
	Mount      string   `json:"mount,omitempty" doc:"Mount point of the file."`
	FSType     string   `json:"fstype,omitempty" doc:"File system type of the file."`
	Removable  bool     `json:"removable" doc:"The file is on media a person carries away: a disk on the USB bus or an SD card whatever its removable flag says (also under an encrypted or RAID volume), a file system mounted where desktops mount plugged-in media ('/media/<user>/...', '/run/media/<user>/...'), a phone or camera over MTP, gvfs or kio-fuse."`
	Network    bool     `json:"network" doc:"The file system is network-backed (NFS, SMB/CIFS, sshfs, rclone, ...), or the file is on a share a desktop session opened through gvfs or kio-fuse (smb, sftp, WebDAV, Google Drive, ...)."`
	Created    bool     `json:"created,omitempty" doc:"The open created the file."`
	Reason     string   `json:"reason,omitempty" doc:"'close', 'exit', 'interim' (file still open) or 'idle'."`
	DurationMS uint64   `json:"duration_ms,omitempty" doc:"From the first to the last write in this report."`
}

// Net is the payload of net.transfer.
type Net struct {
	Proto  string `json:"proto" doc:"'tcp' or 'udp'."`
	Family string `json:"family,omitempty" doc:"'ipv4' or 'ipv6'."`
	// Direction is outbound when this host opened the connection, inbound
	// when a local listener accepted it (no process is known for those).
	Direction     string `json:"direction,omitempty" doc:"'outbound' when this host connected (the process is the one that called connect), 'inbound' when a local listener accepted (no process)."`
	SrcIP         string `json:"src_ip,omitempty" doc:"Address of the local end."`
	SrcPort       uint16 `json:"src_port,omitempty" doc:"Port of the local end."`
	DstIP         string `json:"dst_ip" doc:"Address of the remote end."`
	DstPort       uint16 `json:"dst_port" doc:"Port of the remote end."`
	DstName       string `json:"dst_name,omitempty" doc:"The name the destination address was looked up as, from DNS answers over UDP that answer a query this host sent (same socket, server and id): a forged answer names nothing."`
	BytesSent     uint64 `json:"bytes_sent" doc:"Bytes sent since the previous report (TCP: acknowledged bytes)."`
	BytesReceived uint64 `json:"bytes_received" doc:"Bytes received since the previous report (TCP: acknowledged bytes)."`
	// Packets or datagrams sent (UDP) in the reporting interval.
	Packets    uint64 `json:"packets,omitempty" doc:"UDP datagrams in the interval."`
	DurationMS uint64 `json:"duration_ms,omitempty" doc:"Connection lifetime so far."`
	Loopback   bool   `json:"loopback,omitempty" doc:"Destination is a loopback address (reported only when 'net { include_loopback = true }')."`
	// Reason is close for a finished connection, interim for a long one still
	// open (bytes are then deltas since the previous report), interval for UDP.
	Reason string `json:"reason,omitempty" doc:"'close' (connection ended), 'interim' (long connection, still open), 'interval' (UDP totals)."`
}

// DNS is the payload of dns.query.
type DNS struct {
	Name         string `json:"name" doc:"The name looked up, lower case, without the trailing dot. Queries over UDP are seen; repeats of a name and type by one process within a minute are reported once."`
	Type         string `json:"type" doc:"The record type asked for: 'A', 'AAAA', 'TXT', ..."`
	Domain       string `json:"domain" doc:"The registered domain the name is under, by the public suffix list ('example.co.uk' for 'a.b.example.co.uk'); the name itself when it is a public suffix or has none."`
	Subdomain    string `json:"subdomain,omitempty" doc:"The part of the name below 'domain' ('a.b' for 'a.b.example.co.uk')."`
	LongestLabel uint16 `json:"longest_label" doc:"The length of the longest label of 'subdomain'."`
	Server       string `json:"server" doc:"The address the query was sent to (a local stub resolver such as 127.0.0.53, or a server chosen by the process)."`
}

// DB is the payload of db.query and db.session.
type DB struct {
	Engine string `json:"engine" doc:"'postgresql' or 'mysql' (MySQL and MariaDB)."`
	Side   string `json:"side,omitempty" doc:"'client' or 'server'."`
	Server string `json:"server,omitempty" doc:"'ip:port' of the database server, or for a Unix-domain socket connection the socket's path ('/run/postgresql/.s.PGSQL.5432'; 'unix' if it could not be read)."`
	Client string `json:"client,omitempty" doc:"'ip:port' of the client, or for a Unix-domain socket connection 'socket:[inode]': the client socket's inode, as 'ss -xp' and '/proc/<pid>/fd' show it."`
	User   string `json:"user,omitempty" doc:"Database user from the connection's startup."`
	// Database is the database (schema) the connection selected.
	Database string `json:"database,omitempty" doc:"Database from the connection's startup."`
	// Statement with literal values replaced by ? unless redaction is off.
	Statement   string   `json:"statement,omitempty" doc:"The statement with every literal replaced by '?' (text the lexer cannot parse becomes '<unparsable>' and a keyed hash): raw SQL never leaves the host unless redaction is turned off."`
	Fingerprint string   `json:"fingerprint,omitempty" doc:"Hash of the normalised statement: equal for statements that differ only in literals."`
	Tables      []string `json:"tables,omitempty" doc:"Tables the statement names, each by its identity whatever the spelling: the last part of a qualified name ('public.customers'), unquoted ('\"Customers\"'), lower case, so 'customers'; then the base tables of views and synonyms set in agent.hcl's 'db { views }'. For rows read through a cursor ('FETCH', 'HANDLER ... READ'), the tables of the cursor's query."`
	Columns     []string `json:"columns,omitempty" doc:"Columns the statement names; for rows read through a cursor, the columns its query names."`
	// ResultColumns are the names the server gave the result's columns on
	// the wire (PostgreSQL RowDescription, MySQL column definitions): never
	// values.
	ResultColumns []string `json:"result_columns,omitempty" doc:"Names of the columns the result returned, from the wire protocol (PostgreSQL RowDescription, MySQL column definitions): what 'SELECT *' or a view returned, whatever the statement's text names. Names only, never values."`
	Command       string   `json:"command,omitempty" doc:"'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'COPY', ..."`
	Rows          uint64   `json:"rows" doc:"Rows returned ('SELECT', 'COPY TO') or affected."`
	// Partial is set when bytes of the exchange were not captured: Rows is
	// then a lower bound.
	Partial    bool    `json:"partial,omitempty" doc:"Part of the exchange was not captured and the server's own count was not seen: 'rows' is a lower bound."`
	Bytes      uint64  `json:"bytes" doc:"Bytes of result data returned."`
	DurationMS float64 `json:"duration_ms" doc:"From the request to the completion."`
	// Executions is how many runs of the statement the event stands for;
	// absent (0) means one. The agent folds repeats of one statement on one
	// connection within its fold window into one event when they are equal
	// in everything else (identifiers included): Rows, Bytes and DurationMS
	// are then totals over the runs, and Partial is set if any run's was.
	// Rules read Runs().
	Executions uint64 `json:"executions,omitempty" rule:"derived" doc:"Runs of the statement this event stands for (folded repeats, below); absent means one."`
	// FirstTime is when the first of folded runs ended (the event's Time is
	// when the last did); zero for a single run. Rules read the event's time
	// then.
	FirstTime time.Time `json:"first_time,omitzero" rule:"derived" doc:"With 'executions': when the first folded run ended (the event's 'time' is when the last did)."`
	Error     string    `json:"error,omitempty" doc:"The error (without literal values), for failed statements."`
	ErrorCode string    `json:"error_code,omitempty" doc:"The error's SQLSTATE or MySQL code, for failed statements."`
	// Identifiers maps a configured identifier column to the keyed hashes of
	// the literal values the statement compared it with.
	Identifiers map[string][]string `json:"identifiers,omitempty" doc:"For configured identifier columns ('customers.id', 'email'), the keyed hashes (HMAC with the deployment key) of the literal values the statement compared them with."`
	TLS         bool                `json:"tls,omitempty" doc:"The connection is TLS; the statement was read from the TLS library's plaintext."`
	// Encrypted is set on db.session when the connection's plaintext could not
	// be observed (statically linked TLS and the like).
	Encrypted bool `json:"encrypted,omitempty" doc:"The connection's plaintext could not be observed (TLS the agent cannot see into), on 'db.session'."`
	// State, BytesToServer and BytesToClient describe, on db.session, an
	// unreadable connection while it is open: DurationMS is then its age.
	State         string `json:"state,omitempty" doc:"On 'db.session': 'start' when the connection is found unreadable, 'interim' while it stays open and moves bytes (every minute at most), 'end' when it closes; 'duration_ms' is then the connection's age."`
	BytesToServer uint64 `json:"bytes_to_server,omitempty" doc:"On 'db.session': bytes the client sent on the connection so far, as the socket carried them (encrypted)."`
	BytesToClient uint64 `json:"bytes_to_client,omitempty" doc:"On 'db.session': bytes the server sent on the connection so far, as the socket carried them (encrypted)."`
	// Reason says, on db.session, why the connection's statements cannot be
	// read.
	Reason string `json:"reason,omitempty" doc:"On 'db.session', why the connection's statements cannot be read: 'tls' (TLS whose plaintext no probe reads), 'direct_tls' (PostgreSQL 17 direct TLS, likewise), 'gss' (GSSAPI encryption), 'compressed' (a MySQL compressed packet that does not inflate, or a place in the compressed stream lost to bytes not captured), 'lost' (no message boundary found in 16 MiB)."`
}

// Attribution statuses.
const (
	// AttributionAttributed: the client end was found and its agent could
	// not read the statements; they count as the client's person's.
	AttributionAttributed = "attributed"
	// AttributionDuplicate: the client end's agent reported the statements
	// itself; this server-side copy is not counted again.
	AttributionDuplicate = "duplicate"
	// AttributionUnjoined: no client end was found; Reason says why.
	AttributionUnjoined = "unjoined"

	// AttributedByCollector is Attribution.By for a join the collector made.
	AttributedByCollector = "collector"
)

// Attribution ties a statement read at the database server to the client
// end of its connection: the host, process and person that opened it, as
// the client end's agent reported them. The process is spelt out field by
// field because payloads hold no objects.
type Attribution struct {
	Status string `json:"status" doc:"'attributed' (the client end's agent reported the connection but could not read its statements, as with Java's TLS: they count as the client's person's), 'duplicate' (the client end's agent reported these statements itself: this copy is not counted again) or 'unjoined' (no client end was found, see 'reason')."`
	Reason string `json:"reason,omitempty" doc:"Why an 'unjoined' statement has no client end: 'no_agent' (no agent reports from the client's address: it has none, or NAT, a proxy or a bastion host stands between), 'no_report' (an agent reports from that address but did not report this connection within the grace period), 'no_address' ('db.client' is not an 'ip:port') or 'queue_full' (the collector's queue of waiting statements was full, so it was judged before its grace period ended)."`
	// Site, Host and AgentID name the client end's agent.
	Site    string `json:"site,omitempty" doc:"The client end's site."`
	Host    string `json:"host,omitempty" doc:"The client end's host."`
	AgentID string `json:"agent_id,omitempty" doc:"The client end's agent."`
	// EventID is the report the join used; a statement joined on one host
	// has none.
	EventID string `json:"event_id,omitempty" doc:"The client end's report the join used: its 'db.query', 'db.session' or 'net.transfer' event."`
	By      string `json:"by,omitempty" doc:"Who made the join: 'collector' (from two agents' reports, or one agent's two ends of a loopback connection)."`
	// The client end's process, as Process.
	PID       uint32    `json:"pid,omitempty" doc:"The client process's id."`
	Exe       string    `json:"exe,omitempty" doc:"The client program's path."`
	Comm      string    `json:"comm,omitempty" doc:"The client process's task name."`
	Cmdline   string    `json:"cmdline,omitempty" doc:"The client process's arguments."`
	UID       uint32    `json:"uid,omitempty" doc:"The user id the client process runs as."`
	User      string    `json:"user,omitempty" doc:"The name of the user the client process runs as."`
	LoginUID  uint32    `json:"loginuid,omitempty" doc:"The client process's audit login uid ('4294967295' for a service)."`
	LoginUser string    `json:"login_user,omitempty" doc:"The name of the client process's login uid."`
	Session   uint32    `json:"session,omitempty" doc:"The client process's audit session id."`
	TTY       string    `json:"tty,omitempty" doc:"The client process's controlling terminal."`
	StartTime time.Time `json:"start_time,omitzero" doc:"When the client process started."`
}

// Joined reports whether a names a client end whose person the statement
// counts for.
func (a *Attribution) Joined() bool { return a != nil && a.Status == AttributionAttributed }

// Process is the client end's process, nil when a names none.
func (a *Attribution) Process() *Process {
	if a == nil || a.Status == AttributionUnjoined {
		return nil
	}
	return &Process{PID: a.PID, Exe: a.Exe, Comm: a.Comm, Cmdline: a.Cmdline, UID: a.UID, User: a.User,
		LoginUID: a.LoginUID, LoginUser: a.LoginUser, Session: a.Session, TTY: a.TTY, StartTime: a.StartTime}
}

// SetProcess copies p into a.
func (a *Attribution) SetProcess(p *Process) {
	if p == nil {
		return
	}
	a.PID, a.Exe, a.Comm, a.Cmdline, a.UID, a.User = p.PID, p.Exe, p.Comm, p.Cmdline, p.UID, p.User
	a.LoginUID, a.LoginUser, a.Session, a.TTY, a.StartTime = p.LoginUID, p.LoginUser, p.Session, p.TTY, p.StartTime
}

// Person is who to hold responsible for the event: the person an
// attributed statement counts for, else the process's person.
func (e *Event) Person() string {
	if e.Attribution.Joined() {
		return e.Attribution.Process().Person()
	}
	return e.Process.Person()
}

// AsClient is the event as rules see it: for an attributed statement, a
// copy whose site, host, agent and process are the client end's, so rules
// about a person and their host count it as the work of the person at
// that workstation; any other event is returned as it is.
func (e *Event) AsClient() *Event {
	a := e.Attribution
	if !a.Joined() {
		return e
	}
	c := *e
	c.Site, c.Host, c.AgentID, c.Process = a.Site, a.Host, a.AgentID, a.Process()
	return &c
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
	Sensor string `json:"sensor" doc:"The sensor whose events were lost, or 'spool' for the agent's spool."`
	Count  uint64 `json:"count" doc:"Events lost since the previous 'agent.loss' for the same sensor and reason."`
	Reason string `json:"reason" doc:"'ringbuf_full' (the kernel ring buffer was full), 'map_full' (a kernel map was full), 'spool_full' (the agent's spool overflowed), or for sensor 'db' 'parser_gave_up_' and the 'db.reason' of the 'db.session' each such connection was reported in ('parser_gave_up_lost', 'parser_gave_up_compressed'): connections whose statements from then on are lost (the count is of connections), or 'statements_evicted': prepared statements and cursors a connection's parser forgot to keep within its bound (1024 per connection), whose later executions are reported without their text (the count is of statements)."`
	// BootID, FromSeq and ToSeq name the range of seqs the lost events
	// had, numbered in BootID (which can be an earlier boot than the
	// record's own), when they had seqs: events dropped from the spool.
	// Some in the range may have been delivered before they were dropped.
	BootID  string `json:"boot_id,omitempty" doc:"The boot the range's seqs are numbered in, which can be earlier than the record's own ('spool_full' only)."`
	FromSeq uint64 `json:"from_seq,omitempty" doc:"First seq of the range the dropped events had ('spool_full' only)."`
	ToSeq   uint64 `json:"to_seq,omitempty" doc:"Last seq of the range the dropped events had ('spool_full' only)."`
}

// Heartbeat is the payload of agent.heartbeat.
type Heartbeat struct {
	IntervalS    uint32            `json:"interval_s" doc:"Seconds until the next heartbeat, 0 when the agent is stopping."`
	Events       uint64            `json:"events" doc:"Events the agent has emitted since it started."`
	KernelDrops  map[string]uint64 `json:"kernel_drops,omitempty" rule:"-" doc:"Records each sensor's kernel side dropped since the agent started, by sensor."`
	SpoolDepth   uint64            `json:"spool_depth" doc:"Events in the spool not yet delivered."`
	SpoolDropped uint64            `json:"spool_dropped" doc:"Events dropped from the full spool since the agent started."`
	// DNSRefused makes forged answers visible: any process can send a
	// packet from port 53, and the sensor refuses those silently otherwise.
	DNSRefused   map[string]uint64 `json:"dns_refused,omitempty" rule:"-" doc:"DNS answers arriving on the host that the net sensor refused since the agent started, by reason: 'unsolicited' (not from the server a query of this host went to, or not answering one: forged, or too late) and 'malformed' (answering one, but not readable as DNS). Either names no destination."`
	Sensors      []string          `json:"sensors" doc:"The sensors running."`
	RuleSetHash  string            `json:"rule_set_hash,omitempty" doc:"Hash of the host rules the agent runs."`
	RuleSetState string            `json:"rule_set_state,omitempty" doc:"Empty when the agent runs the host rules on disk; 'last_good' when those were rejected and it runs the last set that compiled; 'none' when they were rejected and no set ever compiled, so only the collector's rules judge this host's events."`
	RulesMode    string            `json:"rules_mode,omitempty" doc:"Where the host rules come from: 'local' (files in 'rules_dir') or 'bundle' (signed bundles the collector publishes, 'vigil rules publish')."`
	// BundleVersion lets the collector see an agent that runs anything but
	// its site's current bundle.
	BundleVersion uint64 `json:"bundle_version,omitempty" doc:"Version of the signed rule bundle the agent runs, 0 for none ('rules_mode' 'bundle' only)."`
	// BundleHash lets the collector tell a bundle that carries the right
	// version but not the content it published under it.
	BundleHash    string   `json:"bundle_hash,omitempty" doc:"SHA-256 (hex) of the signed rule bundle the agent runs, as it was served ('rules_mode' 'bundle' only)."`
	BundleRefused string   `json:"bundle_refused,omitempty" doc:"Why the agent refused the last bundle offered to it since it started (bad signature, older version, another site's, rules that do not compile), empty when it refused none."`
	Identifiers   []string `json:"identifiers,omitempty" doc:"The identifier names the agent hashes into 'db.identifiers' ('db.identifiers' in agent.hcl)."`
	// IdentifiersMissing makes a mismatch between the rules and the agent's
	// configuration visible at the collector instead of silent.
	IdentifiersMissing []string `json:"identifiers_missing,omitempty" doc:"Identifiers the agent's host rules read that it does not hash: rules counting them see nothing on this host."`
	CPUPercent         float64  `json:"cpu_percent" doc:"The agent's CPU use, in percent of the whole host."`
	RSSBytes           uint64   `json:"rss_bytes" doc:"The agent's resident memory in bytes."`
	Version            string   `json:"version,omitempty" doc:"The agent's version."`
	KernelVersion      string   `json:"kernel_version,omitempty" doc:"The host's kernel release."`
	// Starting keeps a heartbeat sent before the sensors run from reading
	// as every sensor gone.
	Starting bool `json:"starting,omitempty" doc:"The agent's sensors are not started yet, so 'sensors' is empty."`
	// Detached is the agent's own check of its probes, so a probe detached
	// by hand is reported within one heartbeat.
	Detached []string `json:"detached,omitempty" doc:"The agent's probes found detached from where it attached them, or running another program than the agent's, as 'sensor: link ID (attach type)', checked at every heartbeat."`
	// Blind catches what the link check cannot: programs still attached
	// and running that no longer deliver (a map emptied or rewritten, the
	// ring read by another).
	Blind []string `json:"blind,omitempty" doc:"The agent's sensor paths whose records of its own canary (a child shell that writes a file in the state directory, run at every heartbeat) did not come through the ring, as 'sensor: what'; the canary's records reach no rule and no collector."`
	// HostShutdown tells a clean host shutdown from an agent stopped on a
	// host that keeps running.
	HostShutdown bool `json:"host_shutdown,omitempty" doc:"On the agent's last heartbeat ('interval_s' 0): the host was shutting down or rebooting when the agent stopped (systemd's state 'stopping', or runlevel 0 or 6 without systemd)."`
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
	Rule        string   `json:"rule" doc:"The rule that fired."`
	Severity    string   `json:"severity" doc:"'info', 'low', 'medium', 'high' or 'critical'."`
	Summary     string   `json:"summary" doc:"The rule's summary, rendered for this alert."`
	Description string   `json:"description,omitempty" doc:"The rule's description."`
	Tags        []string `json:"tags,omitempty" doc:"The rule's tags."`
	// Evidence holds the ids of the events that made the rule fire.
	Evidence []string `json:"evidence" doc:"Ids of the events that made the rule fire."`
	// Group is the threshold or sequence grouping the alert is about,
	// e.g. {"login_user":"alice","table":"customers"}.
	Group map[string]string `json:"group,omitempty" doc:"The threshold or sequence keys the alert is about, such as '{\"person\":\"alice\",\"table\":\"customers\"}'."`
	// Value is the count, sum or distinct count that crossed a threshold.
	Value float64 `json:"value,omitempty" doc:"The count, sum or distinct count that crossed a threshold."`
	// Scope is host for agent rules and global for collector correlation.
	Scope string `json:"scope,omitempty" doc:"'host' for agent rules, 'global' for the collector's correlation rules."`
}

// MakeID returns the id of the event with the given boot id and sequence.
// Ids are deterministic so that a replay of the same event deduplicates.
func MakeID(bootID string, seq uint64) string {
	var buf [64]byte // on the stack: one allocation, the string
	b := append(append(buf[:0], bootID...), '-')
	return string(strconv.AppendUint(b, seq, 10))
}

// SplitID is MakeID undone: the boot id and seq of an event id, seq 0 when
// id is not one MakeID made.
func SplitID(id string) (bootID string, seq uint64) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", 0
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil {
		return "", 0
	}
	return id[:i], seq
}
