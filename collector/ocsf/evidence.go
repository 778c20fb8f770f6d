package ocsf

import (
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil/event"
)

// Version is the OCSF schema version the output follows.
const Version = "1.3.0"

// Classes and the activity ids vigil uses, from the 1.3.0 schema.
const (
	classFile      = 1001
	classProcess   = 1007
	classFinding   = 2004
	classNetwork   = 4001
	classDatastore = 6005
)

var categoryNames = map[int]string{1: "System Activity", 2: "Findings", 4: "Network Activity", 6: "Application Activity"}

var classNames = map[int]string{classFile: "File System Activity", classProcess: "Process Activity",
	classFinding: "Detection Finding", classNetwork: "Network Activity", classDatastore: "Datastore Activity"}

// activity fills the classification attributes of class with activity id
// act, named name.
func activity(ev *event.Event, class, act int, name string, profiles ...string) *Activity {
	cat := class / 1000
	return &Activity{
		ClassUID: class, ClassName: classNames[class], CategoryUID: cat, CategoryName: categoryNames[cat],
		ActivityID: act, ActivityName: name, TypeUID: class*100 + act, TypeName: classNames[class] + ": " + name,
		Time: ev.Time.UnixMilli(), SeverityID: 1, Severity: "Informational",
		Metadata: metadata(ev, "vigil-agent", profiles),
	}
}

func metadata(ev *event.Event, product string, profiles []string) Metadata {
	return Metadata{Version: Version, UID: ev.ID, Product: Product{Name: product, VendorName: "vigil"},
		Profiles: profiles, LogName: ev.Site}
}

// device is the agent's host: a workstation or server vigil watches.
func device(ev *event.Event) *Device {
	d := &Device{Hostname: ev.Host, UID: ev.AgentID, TypeID: 0, Type: "Unknown"}
	if ev.Site != "" {
		d.Location = &Location{Desc: ev.Site}
	}
	return d
}

// actor is the process and the person behind it: the login user, kept
// across sudo, else the user the process runs as.
func actor(p *event.Process) *Actor {
	if p == nil {
		return nil
	}
	a := &Actor{Process: process(p)}
	if p.LoginUID != event.NoLoginUID && p.LoginUser != "" {
		a.User = &User{Name: p.LoginUser, UID: strconv.FormatUint(uint64(p.LoginUID), 10)}
	} else if p.User != "" {
		a.User = &User{Name: p.User, UID: strconv.FormatUint(uint64(p.UID), 10)}
	}
	if p.Session != 0 && p.Session != event.NoLoginUID {
		a.Session = &Session{UID: strconv.FormatUint(uint64(p.Session), 10), Terminal: p.TTY}
	}
	return a
}

func process(p *event.Process) *Process {
	o := &Process{PID: p.PID, Name: p.Comm, CmdLine: p.Cmdline}
	if p.User != "" || p.UID != 0 {
		o.User = &User{Name: p.User, UID: strconv.FormatUint(uint64(p.UID), 10)}
	}
	if p.PPID != 0 {
		o.Parent = &Process{PID: p.PPID}
	}
	if p.Exe != "" {
		o.File = &File{Path: p.Exe, Name: path.Base(p.Exe), TypeID: 1, Type: "Regular File"}
	}
	if p.Session != 0 && p.Session != event.NoLoginUID {
		o.Session = &Session{UID: strconv.FormatUint(uint64(p.Session), 10), Terminal: p.TTY}
	}
	if !p.StartTime.IsZero() {
		o.CreatedTime = p.StartTime.UnixMilli()
	}
	return o
}

// endpoint parses "ip:port" (a Unix socket path stays a name).
func endpoint(addr, host string) *Endpoint {
	if addr == "" && host == "" {
		return nil
	}
	e := &Endpoint{Hostname: host}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		e.IP, e.Port = ap.Addr().Unmap().String(), ap.Port()
	} else if a, err := netip.ParseAddr(addr); err == nil {
		e.IP = a.Unmap().String()
	}
	return e
}

// datastoreActivities maps a statement's command to Datastore Activity's
// activity ids.
var datastoreActivities = map[string]struct {
	id   int
	name string
}{
	"SELECT": {4, "Query"}, "WITH": {4, "Query"}, "SHOW": {4, "Query"}, "FETCH": {1, "Read"}, "COPY": {1, "Read"},
	"UPDATE": {2, "Update"}, "INSERT": {6, "Create"}, "DELETE": {7, "Delete"}, "TRUNCATE": {7, "Delete"},
}

// Evidence renders one event as the OCSF class that fits its kind; nil for
// kinds with no fitting class.
func Evidence(ev *event.Event) *Activity {
	switch {
	case ev.DB != nil:
		return datastore(ev)
	case ev.File != nil:
		return file(ev)
	case ev.Net != nil:
		return network(ev)
	case ev.Process != nil && (ev.Kind == event.KindProcessExec || ev.Kind == event.KindProcessExit):
		return processActivity(ev)
	}
	return nil
}

// datastore is a statement or session as Datastore Activity (6005). The
// class has no device: the host is the client end's hostname when the
// agent saw the client, the server end's when it saw the server.
func datastore(ev *event.Event) *Activity {
	d := ev.DB
	act, name := 99, "Other"
	if ev.Kind == event.KindDBSession {
		act, name = 3, "Connect"
	} else if a, ok := datastoreActivities[strings.ToUpper(d.Command)]; ok {
		act, name = a.id, a.name
	}
	o := activity(ev, classDatastore, act, name)
	o.Actor = actor(ev.Process)
	if o.Actor == nil {
		o.Actor = &Actor{}
	}
	o.Database = &Database{Name: d.Database, Type: d.Engine, TypeID: 1} // relational
	if d.Statement != "" {
		o.QueryInfo = &QueryInfo{QueryString: d.Statement, UID: d.Fingerprint, Bytes: d.Bytes}
	}
	clientHost, serverHost := ev.Host, ""
	if d.Side == "server" {
		clientHost, serverHost = "", ev.Host
	}
	o.SrcEndpoint = endpoint(d.Client, clientHost)
	if o.SrcEndpoint == nil {
		o.SrcEndpoint = &Endpoint{Hostname: ev.Host}
	}
	o.DstEndpoint = endpoint(d.Server, serverHost)
	if d.Executions > 1 {
		o.Count = d.Executions
		o.StartTime = d.FirstTime.UnixMilli()
		o.EndTime = ev.Time.UnixMilli()
	}
	// OCSF 1.3.0 has no attribute for rows returned or the database
	// account a statement ran as.
	o.Unmapped = map[string]any{"rows": d.Rows, "db_user": d.User, "tables": d.Tables, "side": d.Side, "tls": d.TLS}
	if d.Error != "" {
		o.Unmapped["error"], o.Unmapped["error_code"] = d.Error, d.ErrorCode
	}
	if d.Encrypted {
		o.Unmapped["encrypted_unread"] = true
	}
	if len(d.Identifiers) > 0 {
		o.Unmapped["identifier_hashes"] = d.Identifiers
	}
	return o
}

// file is a write or rename as File System Activity (1001).
func file(ev *event.Event) *Activity {
	f := ev.File
	act, name := 3, "Update"
	switch {
	case ev.Kind == event.KindFileRename:
		act, name = 5, "Rename"
	case f.Created:
		act, name = 1, "Create"
	}
	o := activity(ev, classFile, act, name)
	o.Device, o.Actor = device(ev), actor(ev.Process)
	if o.Actor == nil {
		o.Actor = &Actor{}
	}
	o.File = &File{Path: f.Path, Name: path.Base(f.Path), TypeID: 1, Type: "Regular File", Size: f.Bytes}
	if f.OldPath != "" {
		o.FileResult = o.File
		o.File = &File{Path: f.OldPath, Name: path.Base(f.OldPath), TypeID: 1, Type: "Regular File"}
	}
	o.Unmapped = map[string]any{"bytes_written": f.Bytes, "writes": f.Writes, "removable": f.Removable,
		"network": f.Network, "mount": f.Mount, "fstype": f.FSType, "reason": f.Reason}
	return o
}

// network is a transfer as Network Activity (4001): Traffic while the
// connection is open, Close when it ended.
func network(ev *event.Event) *Activity {
	n := ev.Net
	act, name := 6, "Traffic"
	if n.Reason == "close" {
		act, name = 2, "Close"
	}
	o := activity(ev, classNetwork, act, name, "host")
	o.Device, o.Actor = device(ev), actor(ev.Process)
	o.SrcEndpoint = &Endpoint{IP: n.SrcIP, Port: n.SrcPort}
	o.DstEndpoint = &Endpoint{IP: n.DstIP, Port: n.DstPort, Hostname: n.DstName}
	ci := &ConnectionInfo{ProtocolName: n.Proto}
	switch n.Direction {
	case "inbound":
		ci.DirectionID, ci.Direction = 1, "Inbound"
	case "outbound":
		ci.DirectionID, ci.Direction = 2, "Outbound"
	}
	switch n.Proto {
	case "tcp":
		ci.ProtocolNum = 6
	case "udp":
		ci.ProtocolNum = 17
	}
	switch n.Family {
	case "ipv4":
		ci.ProtocolVerID = 4
	case "ipv6":
		ci.ProtocolVerID = 6
	}
	o.ConnectionInfo = ci
	o.Traffic = &Traffic{Bytes: n.BytesSent + n.BytesReceived, BytesOut: n.BytesSent, BytesIn: n.BytesReceived, PacketsOut: n.Packets}
	return o
}

// processActivity is an exec (Launch) or an exit (Terminate) as Process
// Activity (1007).
func processActivity(ev *event.Event) *Activity {
	act, name := 1, "Launch"
	if ev.Kind == event.KindProcessExit {
		act, name = 2, "Terminate"
	}
	o := activity(ev, classProcess, act, name)
	o.Device, o.Process = device(ev), process(ev.Process)
	// The actor is the parent that started it, as far as vigil knows it.
	o.Actor = &Actor{Process: &Process{PID: ev.Process.PPID}}
	if a := actor(ev.Process); a != nil {
		o.Actor.User, o.Actor.Session = a.User, a.Session
	}
	if ev.Exit != nil {
		code := ev.Exit.Code
		o.ExitCode = &code
	}
	return o
}
