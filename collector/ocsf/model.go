package ocsf

// The OCSF 1.3.0 objects vigil fills, with the schema's types: integers
// and ports as numbers, identifiers (uid) as strings. Empty attributes are
// left out, so each class carries only what it defines.

// Activity is an event of one of the activity classes vigil renders
// evidence as; the fields of the other classes stay empty.
type Activity struct {
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	Time         int64  `json:"time"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	// Count, StartTime and EndTime: the repeats of a statement the agent
	// folded into one event, over the period they ran.
	Count     uint64   `json:"count,omitempty"`
	StartTime int64    `json:"start_time,omitempty"`
	EndTime   int64    `json:"end_time,omitempty"`
	Message   string   `json:"message,omitempty"`
	Metadata  Metadata `json:"metadata"`
	Device    *Device  `json:"device,omitempty"`
	Actor     *Actor   `json:"actor,omitempty"`

	// Datastore Activity (6005).
	Database  *Database  `json:"database,omitempty"`
	QueryInfo *QueryInfo `json:"query_info,omitempty"`
	// File System Activity (1001): FileResult is a renamed file's new name.
	File       *File `json:"file,omitempty"`
	FileResult *File `json:"file_result,omitempty"`
	// Network Activity (4001), and the ends of a Datastore Activity.
	SrcEndpoint    *Endpoint       `json:"src_endpoint,omitempty"`
	DstEndpoint    *Endpoint       `json:"dst_endpoint,omitempty"`
	ConnectionInfo *ConnectionInfo `json:"connection_info,omitempty"`
	Traffic        *Traffic        `json:"traffic,omitempty"`
	// Process Activity (1007).
	Process  *Process `json:"process,omitempty"`
	ExitCode *int32   `json:"exit_code,omitempty"`

	// Unmapped holds what vigil knows that OCSF 1.3.0 has no attribute for.
	Unmapped map[string]any `json:"unmapped,omitempty"`
}

// Metadata says which product wrote the event and by which schema.
type Metadata struct {
	Version  string   `json:"version"`
	UID      string   `json:"uid,omitempty"`
	Product  Product  `json:"product"`
	Profiles []string `json:"profiles,omitempty"`
	// LogName is the source the event came from, such as the agent's site.
	LogName string `json:"log_name,omitempty"`
}

// Product names vigil and its part.
type Product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// Device is the host an agent runs on.
type Device struct {
	Hostname string    `json:"hostname,omitempty"`
	UID      string    `json:"uid,omitempty"`
	TypeID   int       `json:"type_id"`
	Type     string    `json:"type,omitempty"`
	Location *Location `json:"location,omitempty"`
}

// Location carries the agent's site.
type Location struct {
	Desc string `json:"desc,omitempty"`
}

// Actor is who did it: the process and the person behind it.
type Actor struct {
	Process *Process `json:"process,omitempty"`
	User    *User    `json:"user,omitempty"`
	Session *Session `json:"session,omitempty"`
}

// User is an account.
type User struct {
	Name   string `json:"name,omitempty"`
	UID    string `json:"uid,omitempty"`
	TypeID int    `json:"type_id,omitempty"`
	Type   string `json:"type,omitempty"`
}

// Session is a login session.
type Session struct {
	UID      string `json:"uid,omitempty"`
	Terminal string `json:"terminal,omitempty"`
}

// Process is a running program.
type Process struct {
	PID         uint32   `json:"pid,omitempty"`
	Name        string   `json:"name,omitempty"`
	CmdLine     string   `json:"cmd_line,omitempty"`
	CreatedTime int64    `json:"created_time,omitempty"`
	File        *File    `json:"file,omitempty"`
	User        *User    `json:"user,omitempty"`
	Session     *Session `json:"session,omitempty"`
	Parent      *Process `json:"parent_process,omitempty"`
}

// File is a file by path.
type File struct {
	Name   string `json:"name"`
	Path   string `json:"path,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type,omitempty"`
	Size   uint64 `json:"size,omitempty"`
}

// Endpoint is one end of a connection.
type Endpoint struct {
	Hostname string `json:"hostname,omitempty"`
	IP       string `json:"ip,omitempty"`
	Port     uint16 `json:"port,omitempty"`
}

// ConnectionInfo is how a connection was made.
type ConnectionInfo struct {
	DirectionID   int    `json:"direction_id"`
	Direction     string `json:"direction,omitempty"`
	ProtocolName  string `json:"protocol_name,omitempty"`
	ProtocolNum   int    `json:"protocol_num,omitempty"`
	ProtocolVerID int    `json:"protocol_ver_id,omitempty"`
}

// Traffic is what a connection moved.
type Traffic struct {
	Bytes      uint64 `json:"bytes,omitempty"`
	BytesIn    uint64 `json:"bytes_in,omitempty"`
	BytesOut   uint64 `json:"bytes_out,omitempty"`
	PacketsOut uint64 `json:"packets_out,omitempty"`
}

// Database is the database a statement ran in.
type Database struct {
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	TypeID int    `json:"type_id"`
}

// QueryInfo is a statement, redacted as the agent sent it.
type QueryInfo struct {
	QueryString string `json:"query_string"`
	UID         string `json:"uid,omitempty"`
	Bytes       uint64 `json:"bytes,omitempty"`
}
