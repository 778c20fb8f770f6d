package ocsf

import (
	"strings"

	"github.com/vigilhq/vigil/event"
)

// Version is the OCSF schema version the output follows.
const Version = "1.3.0"

// Object is one OCSF event.
type Object = map[string]any

var severityID = map[string]int{event.SeverityInfo: 1, event.SeverityLow: 2, event.SeverityMedium: 3,
	event.SeverityHigh: 4, event.SeverityCritical: 5}

func metadata(uid, product string) Object {
	return Object{"version": Version, "uid": uid,
		"product": Object{"name": product, "vendor_name": "vigil"}}
}

func device(ev *event.Event) Object {
	d := Object{"hostname": ev.Host, "uid": ev.AgentID, "type_id": 2, "type": "Desktop"}
	if ev.Site != "" {
		d["location"] = Object{"desc": ev.Site}
	}
	return d
}

func actor(p *event.Process) Object {
	if p == nil {
		return nil
	}
	a := Object{"process": process(p)}
	if person := p.Person(); person != "" {
		a["user"] = Object{"name": person}
	}
	return a
}

func process(p *event.Process) Object {
	o := Object{"pid": p.PID, "name": p.Comm, "cmd_line": p.Cmdline,
		"user": Object{"name": p.User, "uid": p.UID}, "parent_process": Object{"pid": p.PPID}}
	if p.Exe != "" {
		o["file"] = Object{"path": p.Exe, "name": p.Exe[strings.LastIndex(p.Exe, "/")+1:], "type_id": 1}
	}
	if p.Session != 0 {
		o["session"] = Object{"uid": p.Session, "terminal": p.TTY}
	}
	return o
}

func endpoint(ipPort string) Object {
	i := strings.LastIndex(ipPort, ":")
	if i < 0 {
		return Object{"ip": ipPort}
	}
	return Object{"ip": strings.Trim(ipPort[:i], "[]"), "port": ipPort[i+1:]}
}

func base(ev *event.Event, class, category, activity int, className, activityName string) Object {
	return Object{
		"class_uid": class, "class_name": className, "category_uid": category,
		"activity_id": activity, "activity_name": activityName, "type_uid": class*100 + activity,
		"time": ev.Time.UnixMilli(), "severity_id": 1, "metadata": metadata(ev.ID, "vigil-agent"),
		"device": device(ev), "actor": actor(ev.Process),
	}
}

// Evidence renders one event as the OCSF class that fits its kind; nil for
// kinds with no fitting class.
func Evidence(ev *event.Event) Object {
	switch {
	case ev.DB != nil:
		act, name := 99, "Other"
		switch strings.ToUpper(ev.DB.Command) {
		case "SELECT", "COPY":
			act, name = 2, "Read"
		case "UPDATE":
			act, name = 3, "Update"
		case "DELETE":
			act, name = 4, "Delete"
		case "INSERT":
			act, name = 1, "Create"
		}
		o := base(ev, 6005, 6, act, "Datastore Activity", name)
		o["database"] = Object{"name": ev.DB.Database, "type": ev.DB.Engine}
		o["query_info"] = Object{"query_string": ev.DB.Statement, "uid": ev.DB.Fingerprint}
		o["src_endpoint"] = endpoint(ev.DB.Client)
		o["dst_endpoint"] = endpoint(ev.DB.Server)
		o["unmapped"] = Object{"db_user": ev.DB.User, "rows": ev.DB.Rows, "bytes": ev.DB.Bytes, "tables": ev.DB.Tables}
		if ev.DB.Executions > 1 {
			// Repeats the agent folded: OCSF's own count over a period.
			o["count"] = ev.DB.Executions
			o["start_time"] = ev.DB.FirstTime.UnixMilli()
			o["end_time"] = ev.Time.UnixMilli()
		}
		return o
	case ev.File != nil:
		act, name := 3, "Update"
		if ev.Kind == event.KindFileRename {
			act, name = 5, "Rename"
		} else if ev.File.Created {
			act, name = 1, "Create"
		}
		o := base(ev, 1001, 1, act, "File System Activity", name)
		f := Object{"path": ev.File.Path, "name": ev.File.Path[strings.LastIndex(ev.File.Path, "/")+1:], "size": ev.File.Bytes, "type_id": 1}
		o["file"] = f
		if ev.File.OldPath != "" {
			o["file_result"] = f
			o["file"] = Object{"path": ev.File.OldPath, "type_id": 1}
		}
		o["unmapped"] = Object{"bytes_written": ev.File.Bytes, "removable": ev.File.Removable, "network": ev.File.Network, "mount": ev.File.Mount}
		return o
	case ev.Net != nil:
		o := base(ev, 4001, 4, 6, "Network Activity", "Traffic")
		o["src_endpoint"] = Object{"ip": ev.Net.SrcIP, "port": ev.Net.SrcPort}
		o["dst_endpoint"] = Object{"ip": ev.Net.DstIP, "port": ev.Net.DstPort, "hostname": ev.Net.DstName}
		o["traffic"] = Object{"bytes_out": ev.Net.BytesSent, "bytes_in": ev.Net.BytesReceived}
		o["connection_info"] = Object{"protocol_name": ev.Net.Proto}
		return o
	case ev.Kind == event.KindProcessExec && ev.Process != nil:
		o := base(ev, 1007, 1, 1, "Process Activity", "Launch")
		o["process"] = process(ev.Process)
		return o
	}
	return nil
}

// Finding renders an alert, with the evidence events found, as a
// Detection Finding. missing lists evidence ids not available.
func Finding(al *event.Event, evidence []*event.Event, missing []string) Object {
	a := al.Alert
	sev := severityID[a.Severity]
	f := Object{
		"class_uid": 2004, "class_name": "Detection Finding", "category_uid": 2, "category_name": "Findings",
		"activity_id": 1, "activity_name": "Create", "type_uid": 200401,
		"time": al.Time.UnixMilli(), "severity_id": sev, "severity": titleCase(a.Severity),
		"status_id": 1, "status": "New", "message": a.Summary,
		"metadata": metadata(al.ID, "vigil"),
		"finding_info": Object{
			"uid": al.ID, "title": a.Summary, "desc": a.Description, "types": a.Tags,
			"analytic":             Object{"name": a.Rule, "uid": a.Rule, "type_id": 1, "type": "Rule"},
			"related_events_count": len(a.Evidence),
		},
		"device": device(al),
		"unmapped": Object{"site": al.Site, "scope": a.Scope, "group": a.Group, "value": a.Value,
			"evidence_ids": a.Evidence, "missing_evidence": missing},
	}
	if act := actor(al.Process); act != nil {
		f["actor"] = act
	}
	var evs []Object
	for _, ev := range evidence {
		e := Object{"uid": ev.ID}
		if o := Evidence(ev); o != nil {
			e["data"] = o
			for _, k := range []string{"file", "src_endpoint", "dst_endpoint", "database", "query_info"} {
				if v, ok := o[k]; ok {
					e[k] = v
				}
			}
		}
		if ev.Process != nil {
			e["process"] = process(ev.Process)
			if p := ev.Process.Person(); p != "" {
				e["actor"] = Object{"user": Object{"name": p}}
			}
		}
		evs = append(evs, e)
	}
	if evs != nil {
		f["evidences"] = evs
	}
	return f
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
