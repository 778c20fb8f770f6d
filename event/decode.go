package event

import (
	"math"
	"strconv"
	"time"
)

// decodeFast fills ev from data without reflection and reports whether it
// could. When it reports true, ev is exactly what json.Unmarshal(data, ev)
// gives a zero ev and json.Unmarshal would not fail; data is then also valid
// UTF-8. Whatever it is not sure of (a syntax or type error, a key that
// differs from a field name only in case, invalid UTF-8, a null in a list
// of strings, deep nesting) makes it report false, and the caller decodes with
// encoding/json instead, which sets the semantics and the error messages.
// Agents only send what AppendJSON writes, so that path is rare.
//
// The fields read here must follow the schema in event.go: TestDecodeFast*
// fill every field through reflection and fail for one missing here.
func decodeFast(data []byte, ev *Event) bool {
	d := decoder{data: data}
	if d.peek() != '{' {
		return false
	}
	d.pos++
	d.event(ev)
	d.space()
	return !d.bad && d.pos == len(d.data)
}

// The value readers below follow encoding/json: null leaves a string,
// number, bool or time as it was and sets a pointer, slice or map to nil;
// an object read into a non-nil pointer or map adds to what it points to
// (a duplicate key merges).

func (d *decoder) str(p *string) {
	switch d.peek() {
	case '"':
		if s := d.quoted(); !d.bad {
			*p = string(s)
		}
	case 'n':
		d.literal("null")
	default:
		d.fail()
	}
}

func (d *decoder) kind(p *Kind) {
	if d.peek() != '"' {
		d.str((*string)(p))
		return
	}
	s := d.quoted()
	if d.bad {
		return
	}
	// The kinds the agent sends, without a copy each.
	for _, k := range Kinds {
		if string(s) == string(k) {
			*p = k
			return
		}
	}
	*p = Kind(s)
}

// uint reads an unsigned integer up to max; ok is false for null.
func (d *decoder) uint(max uint64) (v uint64, ok bool) {
	switch c := d.peek(); {
	case c == 'n':
		d.literal("null")
		return 0, false
	case '0' <= c && c <= '9':
		v, ok = digits(d.number(), max)
		if !ok {
			d.fail()
		}
		return v, ok
	}
	d.fail() // a negative number too: encoding/json refuses it
	return 0, false
}

// digits reads s, a JSON number, as an unsigned integer up to max: false
// for a fraction, an exponent, a sign or overflow, as strconv.ParseUint.
func digits(s []byte, max uint64) (v uint64, ok bool) {
	if len(s) == 0 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' || v > math.MaxUint64/10 || v*10+uint64(c-'0') < v*10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, v <= max
}

func (d *decoder) uint64(p *uint64) {
	if v, ok := d.uint(math.MaxUint64); ok {
		*p = v
	}
}

func (d *decoder) uint32(p *uint32) {
	if v, ok := d.uint(math.MaxUint32); ok {
		*p = uint32(v)
	}
}

func (d *decoder) uint16(p *uint16) {
	if v, ok := d.uint(math.MaxUint16); ok {
		*p = uint16(v)
	}
}

func (d *decoder) int32(p *int32) {
	switch c := d.peek(); {
	case c == 'n':
		d.literal("null")
	case c == '-':
		s := d.number()
		if d.bad {
			return
		}
		v, ok := digits(s[1:], -math.MinInt32)
		if !ok {
			d.fail()
			return
		}
		*p = int32(-int64(v))
	case '0' <= c && c <= '9':
		v, ok := digits(d.number(), math.MaxInt32)
		if !ok {
			d.fail()
			return
		}
		*p = int32(v)
	default:
		d.fail()
	}
}

func (d *decoder) float64(p *float64) {
	switch c := d.peek(); {
	case c == 'n':
		d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		s := d.number()
		if d.bad {
			return
		}
		f, err := strconv.ParseFloat(string(s), 64)
		if err != nil {
			d.fail()
			return
		}
		*p = f
	default:
		d.fail()
	}
}

func (d *decoder) bool(p *bool) {
	switch d.peek() {
	case 't':
		d.literal("true")
		if !d.bad {
			*p = true
		}
	case 'f':
		d.literal("false")
		if !d.bad {
			*p = false
		}
	case 'n':
		d.literal("null")
	default:
		d.fail()
	}
}

// time hands the string, quotes and escapes included, to
// time.Time.UnmarshalJSON as encoding/json does.
func (d *decoder) time(p *time.Time) {
	switch d.peek() {
	case '"':
		start := d.pos
		d.quoted()
		if !d.bad && p.UnmarshalJSON(d.data[start:d.pos]) != nil {
			d.fail()
		}
	case 'n':
		d.literal("null")
	default:
		d.fail()
	}
}

// strings reads an array of strings into a new slice, empty and not nil for
// [] as encoding/json makes it.
func (d *decoder) strings(p *[]string) {
	switch d.peek() {
	case 'n':
		d.literal("null")
		*p = nil
		return
	case '[':
		d.pos++
	default:
		d.fail()
		return
	}
	var arr [16]string
	s := arr[:0]
	for first := true; d.element(first); first = false {
		if d.peek() != '"' {
			d.fail()
			return
		}
		s = append(s, string(d.quoted()))
	}
	if d.bad {
		return
	}
	*p = append(make([]string, 0, len(s)), s...)
}

// object reads the '{' of an object, or null; it reports whether an object
// follows.
func (d *decoder) object() (ok, null bool) {
	switch d.peek() {
	case '{':
		d.pos++
		return true, false
	case 'n':
		d.literal("null")
		return false, !d.bad
	}
	d.fail()
	return false, false
}

// open reads null, setting *p to nil, or the '{' of an object, allocating
// *p if nil; it reports whether the object's members follow.
func open[T any](d *decoder, p **T) bool {
	ok, null := d.object()
	if null {
		*p = nil
	}
	if ok && *p == nil {
		*p = new(T)
	}
	return ok
}

// openMap is open for a map: an object adds to the map there is.
func openMap[V any](d *decoder, p *map[string]V) bool {
	ok, null := d.object()
	if null {
		*p = nil
	}
	if ok && *p == nil {
		*p = make(map[string]V)
	}
	return ok
}

// Each map value is read into a zero value, so a null stores that.

func (d *decoder) stringMap(p *map[string]string) {
	if openMap(d, p) {
		for first := true; d.member(first); first = false {
			k, v := string(d.key), ""
			d.str(&v)
			(*p)[k] = v
		}
	}
}

func (d *decoder) uint64Map(p *map[string]uint64) {
	if openMap(d, p) {
		for first := true; d.member(first); first = false {
			k, v := string(d.key), uint64(0)
			d.uint64(&v)
			(*p)[k] = v
		}
	}
}

func (d *decoder) stringsMap(p *map[string][]string) {
	if openMap(d, p) {
		for first := true; d.member(first); first = false {
			k, v := string(d.key), []string(nil)
			d.strings(&v)
			(*p)[k] = v
		}
	}
}

func (d *decoder) event(ev *Event) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "id":
			d.str(&ev.ID)
		case "time":
			d.time(&ev.Time)
		case "kind":
			d.kind(&ev.Kind)
		case "site":
			d.str(&ev.Site)
		case "host":
			d.str(&ev.Host)
		case "agent_id":
			d.str(&ev.AgentID)
		case "boot_id":
			d.str(&ev.BootID)
		case "seq":
			d.uint64(&ev.Seq)
		case "labels":
			d.stringMap(&ev.Labels)
		case "process":
			if open(d, &ev.Process) {
				d.process(ev.Process)
			}
		case "exit":
			if open(d, &ev.Exit) {
				d.exit(ev.Exit)
			}
		case "file":
			if open(d, &ev.File) {
				d.file(ev.File)
			}
		case "net":
			if open(d, &ev.Net) {
				d.net(ev.Net)
			}
		case "db":
			if open(d, &ev.DB) {
				d.db(ev.DB)
			}
		case "loss":
			if open(d, &ev.Loss) {
				d.loss(ev.Loss)
			}
		case "heartbeat":
			if open(d, &ev.Heartbeat) {
				d.heartbeat(ev.Heartbeat)
			}
		case "alert":
			if open(d, &ev.Alert) {
				d.alert(ev.Alert)
			}
		default:
			d.unknown()
		}
	}
}

func (d *decoder) process(p *Process) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "pid":
			d.uint32(&p.PID)
		case "ppid":
			d.uint32(&p.PPID)
		case "exe":
			d.str(&p.Exe)
		case "comm":
			d.str(&p.Comm)
		case "cmdline":
			d.str(&p.Cmdline)
		case "uid":
			d.uint32(&p.UID)
		case "user":
			d.str(&p.User)
		case "loginuid":
			d.uint32(&p.LoginUID)
		case "login_user":
			d.str(&p.LoginUser)
		case "session":
			d.uint32(&p.Session)
		case "tty":
			d.str(&p.TTY)
		case "start_time":
			d.time(&p.StartTime)
		default:
			d.unknown()
		}
	}
}

func (d *decoder) exit(x *Exit) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "code":
			d.int32(&x.Code)
		case "signal":
			d.int32(&x.Signal)
		case "reason":
			d.str(&x.Reason)
		default:
			d.unknown()
		}
	}
}

func (d *decoder) file(f *File) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "path":
			d.str(&f.Path)
		case "old_path":
			d.str(&f.OldPath)
		case "bytes":
			d.uint64(&f.Bytes)
		case "writes":
			d.uint64(&f.Writes)
		case "flags":
			d.strings(&f.Flags)
		case "mount":
			d.str(&f.Mount)
		case "fstype":
			d.str(&f.FSType)
		case "removable":
			d.bool(&f.Removable)
		case "network":
			d.bool(&f.Network)
		case "created":
			d.bool(&f.Created)
		case "reason":
			d.str(&f.Reason)
		case "duration_ms":
			d.uint64(&f.DurationMS)
		default:
			d.unknown()
		}
	}
}

func (d *decoder) net(n *Net) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "proto":
			d.str(&n.Proto)
		case "family":
			d.str(&n.Family)
		case "direction":
			d.str(&n.Direction)
		case "src_ip":
			d.str(&n.SrcIP)
		case "src_port":
			d.uint16(&n.SrcPort)
		case "dst_ip":
			d.str(&n.DstIP)
		case "dst_port":
			d.uint16(&n.DstPort)
		case "dst_name":
			d.str(&n.DstName)
		case "bytes_sent":
			d.uint64(&n.BytesSent)
		case "bytes_received":
			d.uint64(&n.BytesReceived)
		case "packets":
			d.uint64(&n.Packets)
		case "duration_ms":
			d.uint64(&n.DurationMS)
		case "loopback":
			d.bool(&n.Loopback)
		case "reason":
			d.str(&n.Reason)
		default:
			d.unknown()
		}
	}
}

func (d *decoder) db(b *DB) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "engine":
			d.str(&b.Engine)
		case "side":
			d.str(&b.Side)
		case "server":
			d.str(&b.Server)
		case "client":
			d.str(&b.Client)
		case "user":
			d.str(&b.User)
		case "database":
			d.str(&b.Database)
		case "statement":
			d.str(&b.Statement)
		case "fingerprint":
			d.str(&b.Fingerprint)
		case "tables":
			d.strings(&b.Tables)
		case "columns":
			d.strings(&b.Columns)
		case "command":
			d.str(&b.Command)
		case "rows":
			d.uint64(&b.Rows)
		case "partial":
			d.bool(&b.Partial)
		case "bytes":
			d.uint64(&b.Bytes)
		case "duration_ms":
			d.float64(&b.DurationMS)
		case "executions":
			d.uint64(&b.Executions)
		case "first_time":
			d.time(&b.FirstTime)
		case "error":
			d.str(&b.Error)
		case "error_code":
			d.str(&b.ErrorCode)
		case "identifiers":
			d.stringsMap(&b.Identifiers)
		case "tls":
			d.bool(&b.TLS)
		case "encrypted":
			d.bool(&b.Encrypted)
		default:
			d.unknown()
		}
	}
}

func (d *decoder) loss(l *Loss) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "sensor":
			d.str(&l.Sensor)
		case "count":
			d.uint64(&l.Count)
		case "reason":
			d.str(&l.Reason)
		case "boot_id":
			d.str(&l.BootID)
		case "from_seq":
			d.uint64(&l.FromSeq)
		case "to_seq":
			d.uint64(&l.ToSeq)
		default:
			d.unknown()
		}
	}
}

func (d *decoder) heartbeat(h *Heartbeat) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "interval_s":
			d.uint32(&h.IntervalS)
		case "events":
			d.uint64(&h.Events)
		case "kernel_drops":
			d.uint64Map(&h.KernelDrops)
		case "spool_depth":
			d.uint64(&h.SpoolDepth)
		case "spool_dropped":
			d.uint64(&h.SpoolDropped)
		case "sensors":
			d.strings(&h.Sensors)
		case "rule_set_hash":
			d.str(&h.RuleSetHash)
		case "cpu_percent":
			d.float64(&h.CPUPercent)
		case "rss_bytes":
			d.uint64(&h.RSSBytes)
		case "version":
			d.str(&h.Version)
		case "kernel_version":
			d.str(&h.KernelVersion)
		default:
			d.unknown()
		}
	}
}

func (d *decoder) alert(a *Alert) {
	for first := true; d.member(first); first = false {
		switch string(d.key) {
		case "rule":
			d.str(&a.Rule)
		case "severity":
			d.str(&a.Severity)
		case "summary":
			d.str(&a.Summary)
		case "description":
			d.str(&a.Description)
		case "tags":
			d.strings(&a.Tags)
		case "evidence":
			d.strings(&a.Evidence)
		case "group":
			d.stringMap(&a.Group)
		case "value":
			d.float64(&a.Value)
		case "scope":
			d.str(&a.Scope)
		default:
			d.unknown()
		}
	}
}
