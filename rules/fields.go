package rules

import (
	"slices"
	"sort"
	"time"

	"github.com/vigilhq/vigil/event"
)

// field is one event field a rule can read, by its JSON path. Accessors
// return the zero value when the event lacks the payload, so `db.rows > 10`
// is simply false for a file event; rules should still constrain `kind` so
// the engine can index them.
type field struct {
	typ vtype
	// kinds lists the event kinds that carry the field; nil means all.
	kinds []event.Kind
	b     func(*env) bool
	n     func(*env) float64
	s     func(*env) string
	l     func(*env) []string
	tm    func(*env) time.Time
	m     func(*env) map[string]string
	im    func(*env) map[string][]string
}

func (f *field) node() *node {
	return &node{typ: f.typ, b: f.b, n: f.n, s: f.s, l: f.l, tm: f.tm, m: f.m, im: f.im}
}

func fS(get func(*event.Event) string) field {
	return field{typ: tStr, s: func(e *env) string { return get(e.ev) }}
}

func pS(get func(*event.Process) string) field {
	return field{typ: tStr, s: func(e *env) string {
		if p := e.ev.Process; p != nil {
			return get(p)
		}
		return ""
	}}
}

func pN(get func(*event.Process) float64) field {
	return field{typ: tNum, n: func(e *env) float64 {
		if p := e.ev.Process; p != nil {
			return get(p)
		}
		return 0
	}}
}

func xS(get func(*event.Exit) string) field {
	return field{typ: tStr, kinds: []event.Kind{event.KindProcessExit}, s: func(e *env) string {
		if p := e.ev.Exit; p != nil {
			return get(p)
		}
		return ""
	}}
}

func xN(get func(*event.Exit) float64) field {
	return field{typ: tNum, kinds: []event.Kind{event.KindProcessExit}, n: func(e *env) float64 {
		if p := e.ev.Exit; p != nil {
			return get(p)
		}
		return 0
	}}
}

var fileKinds = []event.Kind{event.KindFileWrite, event.KindFileRename}

func flS(get func(*event.File) string) field {
	return field{typ: tStr, kinds: fileKinds, s: func(e *env) string {
		if p := e.ev.File; p != nil {
			return get(p)
		}
		return ""
	}}
}

func flN(get func(*event.File) float64) field {
	return field{typ: tNum, kinds: fileKinds, n: func(e *env) float64 {
		if p := e.ev.File; p != nil {
			return get(p)
		}
		return 0
	}}
}

func flB(get func(*event.File) bool) field {
	return field{typ: tBool, kinds: fileKinds, b: func(e *env) bool {
		if p := e.ev.File; p != nil {
			return get(p)
		}
		return false
	}}
}

var netKinds = []event.Kind{event.KindNetTransfer}

func nS(get func(*event.Net) string) field {
	return field{typ: tStr, kinds: netKinds, s: func(e *env) string {
		if p := e.ev.Net; p != nil {
			return get(p)
		}
		return ""
	}}
}

func nN(get func(*event.Net) float64) field {
	return field{typ: tNum, kinds: netKinds, n: func(e *env) float64 {
		if p := e.ev.Net; p != nil {
			return get(p)
		}
		return 0
	}}
}

var dbKinds = []event.Kind{event.KindDBQuery, event.KindDBSession}

func dS(get func(*event.DB) string) field {
	return field{typ: tStr, kinds: dbKinds, s: func(e *env) string {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return ""
	}}
}

func dN(get func(*event.DB) float64) field {
	return field{typ: tNum, kinds: dbKinds, n: func(e *env) float64 {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return 0
	}}
}

func dB(get func(*event.DB) bool) field {
	return field{typ: tBool, kinds: dbKinds, b: func(e *env) bool {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return false
	}}
}

func dL(get func(*event.DB) []string) field {
	return field{typ: tList, kinds: dbKinds, l: func(e *env) []string {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return nil
	}}
}

var lossKinds = []event.Kind{event.KindAgentLoss}

func lS(get func(*event.Loss) string) field {
	return field{typ: tStr, kinds: lossKinds, s: func(e *env) string {
		if p := e.ev.Loss; p != nil {
			return get(p)
		}
		return ""
	}}
}

var hbKinds = []event.Kind{event.KindHeartbeat}

func hS(get func(*event.Heartbeat) string) field {
	return field{typ: tStr, kinds: hbKinds, s: func(e *env) string {
		if p := e.ev.Heartbeat; p != nil {
			return get(p)
		}
		return ""
	}}
}

func lN(get func(*event.Loss) float64) field {
	return field{typ: tNum, kinds: lossKinds, n: func(e *env) float64 {
		if p := e.ev.Loss; p != nil {
			return get(p)
		}
		return 0
	}}
}

func hN(get func(*event.Heartbeat) float64) field {
	return field{typ: tNum, kinds: hbKinds, n: func(e *env) float64 {
		if p := e.ev.Heartbeat; p != nil {
			return get(p)
		}
		return 0
	}}
}

var alertKinds = []event.Kind{event.KindAlert}

func aS(get func(*event.Alert) string) field {
	return field{typ: tStr, kinds: alertKinds, s: func(e *env) string {
		if p := e.ev.Alert; p != nil {
			return get(p)
		}
		return ""
	}}
}

func aL(get func(*event.Alert) []string) field {
	return field{typ: tList, kinds: alertKinds, l: func(e *env) []string {
		if p := e.ev.Alert; p != nil {
			return get(p)
		}
		return nil
	}}
}

// fields maps every readable JSON path to its accessor. `person` is derived:
// the login user behind the process, else the user it runs as.
var fields = map[string]field{
	"id":       fS(func(e *event.Event) string { return e.ID }),
	"kind":     fS(func(e *event.Event) string { return string(e.Kind) }),
	"site":     fS(func(e *event.Event) string { return e.Site }),
	"host":     fS(func(e *event.Event) string { return e.Host }),
	"agent_id": fS(func(e *event.Event) string { return e.AgentID }),
	"boot_id":  fS(func(e *event.Event) string { return e.BootID }),
	"seq":      {typ: tNum, n: func(e *env) float64 { return float64(e.ev.Seq) }},
	"time":     {typ: tTime, tm: func(e *env) time.Time { return e.t }},
	"labels":   {typ: tMap, m: func(e *env) map[string]string { return e.ev.Labels }},
	"person":   {typ: tStr, s: func(e *env) string { return e.ev.Process.Person() }},

	"process.pid":        pN(func(p *event.Process) float64 { return float64(p.PID) }),
	"process.ppid":       pN(func(p *event.Process) float64 { return float64(p.PPID) }),
	"process.exe":        pS(func(p *event.Process) string { return p.Exe }),
	"process.comm":       pS(func(p *event.Process) string { return p.Comm }),
	"process.cmdline":    pS(func(p *event.Process) string { return p.Cmdline }),
	"process.uid":        pN(func(p *event.Process) float64 { return float64(p.UID) }),
	"process.user":       pS(func(p *event.Process) string { return p.User }),
	"process.loginuid":   pN(func(p *event.Process) float64 { return float64(p.LoginUID) }),
	"process.login_user": pS(func(p *event.Process) string { return p.LoginUser }),
	"process.session":    pN(func(p *event.Process) float64 { return float64(p.Session) }),
	"process.tty":        pS(func(p *event.Process) string { return p.TTY }),
	"process.start_time": {typ: tTime, tm: func(e *env) time.Time {
		if p := e.ev.Process; p != nil {
			return p.StartTime
		}
		return time.Time{}
	}},

	"exit.code":   xN(func(x *event.Exit) float64 { return float64(x.Code) }),
	"exit.signal": xN(func(x *event.Exit) float64 { return float64(x.Signal) }),
	"exit.reason": xS(func(x *event.Exit) string { return x.Reason }),

	"file.path":     flS(func(f *event.File) string { return f.Path }),
	"file.old_path": flS(func(f *event.File) string { return f.OldPath }),
	"file.bytes":    flN(func(f *event.File) float64 { return float64(f.Bytes) }),
	"file.writes":   flN(func(f *event.File) float64 { return float64(f.Writes) }),
	"file.flags": {typ: tList, kinds: fileKinds, l: func(e *env) []string {
		if f := e.ev.File; f != nil {
			return f.Flags
		}
		return nil
	}},
	"file.mount":       flS(func(f *event.File) string { return f.Mount }),
	"file.fstype":      flS(func(f *event.File) string { return f.FSType }),
	"file.removable":   flB(func(f *event.File) bool { return f.Removable }),
	"file.network":     flB(func(f *event.File) bool { return f.Network }),
	"file.created":     flB(func(f *event.File) bool { return f.Created }),
	"file.reason":      flS(func(f *event.File) string { return f.Reason }),
	"file.duration_ms": flN(func(f *event.File) float64 { return float64(f.DurationMS) }),

	"net.proto":          nS(func(n *event.Net) string { return n.Proto }),
	"net.family":         nS(func(n *event.Net) string { return n.Family }),
	"net.direction":      nS(func(n *event.Net) string { return n.Direction }),
	"net.src_ip":         nS(func(n *event.Net) string { return n.SrcIP }),
	"net.src_port":       nN(func(n *event.Net) float64 { return float64(n.SrcPort) }),
	"net.dst_ip":         nS(func(n *event.Net) string { return n.DstIP }),
	"net.dst_port":       nN(func(n *event.Net) float64 { return float64(n.DstPort) }),
	"net.dst_name":       nS(func(n *event.Net) string { return n.DstName }),
	"net.bytes_sent":     nN(func(n *event.Net) float64 { return float64(n.BytesSent) }),
	"net.bytes_received": nN(func(n *event.Net) float64 { return float64(n.BytesReceived) }),
	"net.packets":        nN(func(n *event.Net) float64 { return float64(n.Packets) }),
	"net.duration_ms":    nN(func(n *event.Net) float64 { return float64(n.DurationMS) }),
	"net.loopback": {typ: tBool, kinds: netKinds, b: func(e *env) bool {
		if n := e.ev.Net; n != nil {
			return n.Loopback
		}
		return false
	}},
	"net.reason": nS(func(n *event.Net) string { return n.Reason }),

	"db.engine":      dS(func(d *event.DB) string { return d.Engine }),
	"db.side":        dS(func(d *event.DB) string { return d.Side }),
	"db.server":      dS(func(d *event.DB) string { return d.Server }),
	"db.client":      dS(func(d *event.DB) string { return d.Client }),
	"db.user":        dS(func(d *event.DB) string { return d.User }),
	"db.database":    dS(func(d *event.DB) string { return d.Database }),
	"db.statement":   dS(func(d *event.DB) string { return d.Statement }),
	"db.fingerprint": dS(func(d *event.DB) string { return d.Fingerprint }),
	"db.tables":      dL(func(d *event.DB) []string { return d.Tables }),
	"db.columns":     dL(func(d *event.DB) []string { return d.Columns }),
	"db.command":     dS(func(d *event.DB) string { return d.Command }),
	"db.rows":        dN(func(d *event.DB) float64 { return float64(d.Rows) }),
	"db.partial":     dB(func(d *event.DB) bool { return d.Partial }),
	"db.bytes":       dN(func(d *event.DB) float64 { return float64(d.Bytes) }),
	"db.duration_ms": dN(func(d *event.DB) float64 { return d.DurationMS }),
	"db.executions":  dN(func(d *event.DB) float64 { return float64(d.Runs()) }),
	"db.first_time": {typ: tTime, kinds: dbKinds, tm: func(e *env) time.Time {
		d := e.ev.DB
		switch {
		case d == nil:
			return time.Time{}
		case d.FirstTime.IsZero():
			return e.t
		}
		return d.FirstTime
	}},
	"db.error":      dS(func(d *event.DB) string { return d.Error }),
	"db.error_code": dS(func(d *event.DB) string { return d.ErrorCode }),
	"db.identifiers": {typ: tIdents, kinds: dbKinds, im: func(e *env) map[string][]string {
		if d := e.ev.DB; d != nil {
			return d.Identifiers
		}
		return nil
	}},
	"db.tls":       dB(func(d *event.DB) bool { return d.TLS }),
	"db.encrypted": dB(func(d *event.DB) bool { return d.Encrypted }),

	"loss.sensor":   lS(func(l *event.Loss) string { return l.Sensor }),
	"loss.count":    lN(func(l *event.Loss) float64 { return float64(l.Count) }),
	"loss.reason":   lS(func(l *event.Loss) string { return l.Reason }),
	"loss.boot_id":  lS(func(l *event.Loss) string { return l.BootID }),
	"loss.from_seq": lN(func(l *event.Loss) float64 { return float64(l.FromSeq) }),
	"loss.to_seq":   lN(func(l *event.Loss) float64 { return float64(l.ToSeq) }),

	"heartbeat.interval_s":    hN(func(h *event.Heartbeat) float64 { return float64(h.IntervalS) }),
	"heartbeat.events":        hN(func(h *event.Heartbeat) float64 { return float64(h.Events) }),
	"heartbeat.spool_depth":   hN(func(h *event.Heartbeat) float64 { return float64(h.SpoolDepth) }),
	"heartbeat.spool_dropped": hN(func(h *event.Heartbeat) float64 { return float64(h.SpoolDropped) }),
	"heartbeat.sensors": {typ: tList, kinds: hbKinds, l: func(e *env) []string {
		if h := e.ev.Heartbeat; h != nil {
			return h.Sensors
		}
		return nil
	}},
	"heartbeat.rule_set_hash":  hS(func(h *event.Heartbeat) string { return h.RuleSetHash }),
	"heartbeat.cpu_percent":    hN(func(h *event.Heartbeat) float64 { return h.CPUPercent }),
	"heartbeat.rss_bytes":      hN(func(h *event.Heartbeat) float64 { return float64(h.RSSBytes) }),
	"heartbeat.version":        hS(func(h *event.Heartbeat) string { return h.Version }),
	"heartbeat.kernel_version": hS(func(h *event.Heartbeat) string { return h.KernelVersion }),

	"alert.rule":        aS(func(a *event.Alert) string { return a.Rule }),
	"alert.severity":    aS(func(a *event.Alert) string { return a.Severity }),
	"alert.summary":     aS(func(a *event.Alert) string { return a.Summary }),
	"alert.description": aS(func(a *event.Alert) string { return a.Description }),
	"alert.tags":        aL(func(a *event.Alert) []string { return a.Tags }),
	"alert.evidence":    aL(func(a *event.Alert) []string { return a.Evidence }),
	"alert.group": {typ: tMap, kinds: alertKinds, m: func(e *env) map[string]string {
		if a := e.ev.Alert; a != nil {
			return a.Group
		}
		return nil
	}},
	"alert.value": {typ: tNum, kinds: alertKinds, n: func(e *env) float64 {
		if a := e.ev.Alert; a != nil {
			return a.Value
		}
		return 0
	}},
	"alert.scope": aS(func(a *event.Alert) string { return a.Scope }),
}

// payloadRoots are the event's payload objects: reading one needs a field.
var payloadRoots = []string{"process", "exit", "file", "net", "db", "loss", "heartbeat", "alert"}

// fieldPaths returns every field path, sorted, for documentation and
// suggestions.
func fieldPaths() []string {
	out := make([]string, 0, len(fields))
	for k := range fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func fieldsUnder(root string) []string {
	var out []string
	for _, p := range fieldPaths() {
		if len(p) > len(root) && p[:len(root)+1] == root+"." {
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
