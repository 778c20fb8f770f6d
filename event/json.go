package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends ev's JSON to dst: byte for byte what json.Marshal
// produces (TestAppendJSONMatchesMarshal holds it to that), without
// reflection. The agent encodes every event it emits, so this is on its hot
// path; receivers read it with Decode (event/decode.go), which matches
// json.Unmarshal.
func AppendJSON(dst []byte, ev *Event) ([]byte, error) {
	var e enc
	e.b = dst
	e.byte('{')
	e.str("id", ev.ID, false)
	e.time("time", ev.Time, false)
	e.str("kind", string(ev.Kind), false)
	e.str("site", ev.Site, false)
	e.str("host", ev.Host, false)
	e.str("agent_id", ev.AgentID, false)
	e.str("boot_id", ev.BootID, false)
	e.uint("seq", ev.Seq, false)
	if len(ev.Labels) > 0 {
		e.key("labels")
		e.stringMap(ev.Labels)
	}
	if p := ev.Process; p != nil {
		e.key("process")
		e.process(p)
	}
	if x := ev.Exit; x != nil {
		e.key("exit")
		e.open()
		e.int("code", int64(x.Code), false)
		e.int("signal", int64(x.Signal), true)
		e.str("reason", x.Reason, true)
		e.byte('}')
	}
	if f := ev.File; f != nil {
		e.key("file")
		e.file(f)
	}
	if n := ev.Net; n != nil {
		e.key("net")
		e.net(n)
	}
	if d := ev.DB; d != nil {
		e.key("db")
		e.db(d)
	}
	// The rare payloads go through encoding/json.
	if ev.Loss != nil {
		e.marshal("loss", ev.Loss)
	}
	if ev.Heartbeat != nil {
		e.marshal("heartbeat", ev.Heartbeat)
	}
	if ev.Alert != nil {
		e.marshal("alert", ev.Alert)
	}
	e.byte('}')
	if e.err != nil {
		return dst, e.err
	}
	return e.b, nil
}

type enc struct {
	b     []byte
	first bool // no field written yet in the current object
	err   error
}

func (e *enc) byte(c byte) {
	e.b = append(e.b, c)
	e.first = c == '{'
}

func (e *enc) open() { e.byte('{') }

func (e *enc) key(k string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.b = append(e.b, '"')
	e.b = append(e.b, k...) // keys are constant ASCII names needing no escape
	e.b = append(e.b, '"', ':')
}

// mapKey writes a map's key, which may need escaping.
func (e *enc) mapKey(k string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.b = appendString(e.b, k)
	e.b = append(e.b, ':')
}

func (e *enc) str(k, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	e.key(k)
	e.b = appendString(e.b, v)
}

func (e *enc) uint(k string, v uint64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	e.key(k)
	e.b = strconv.AppendUint(e.b, v, 10)
}

func (e *enc) int(k string, v int64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	e.key(k)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *enc) bool(k string, v, omitEmpty bool) {
	if omitEmpty && !v {
		return
	}
	e.key(k)
	e.b = strconv.AppendBool(e.b, v)
}

func (e *enc) float(k string, v float64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	e.key(k)
	e.b = appendFloat(e.b, v, &e.err)
}

func (e *enc) time(k string, t time.Time, omitZero bool) {
	if omitZero && t.IsZero() {
		return
	}
	e.key(k)
	if y := t.Year(); y < 0 || y >= 10000 {
		if e.err == nil {
			e.err = fmt.Errorf("json: error calling MarshalJSON for type time.Time: year %d outside of range [0,9999]", y)
		}
		e.b = append(e.b, `null`...)
		return
	}
	e.b = append(e.b, '"')
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	e.b = append(e.b, '"')
}

func (e *enc) strings(k string, v []string, omitEmpty bool) {
	if omitEmpty && len(v) == 0 {
		return
	}
	e.key(k)
	e.stringSlice(v)
}

func (e *enc) stringSlice(v []string) {
	if v == nil {
		e.b = append(e.b, `null`...)
		return
	}
	e.b = append(e.b, '[')
	for i, s := range v {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, s)
	}
	e.b = append(e.b, ']')
}

func (e *enc) stringMap(m map[string]string) {
	e.open()
	for _, k := range sortedKeys(m) {
		e.mapKey(k)
		e.b = appendString(e.b, m[k])
	}
	e.byte('}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (e *enc) marshal(k string, v any) {
	b, err := json.Marshal(v)
	if err != nil && e.err == nil {
		e.err = err
	}
	e.key(k)
	e.b = append(e.b, b...)
}

func (e *enc) process(p *Process) {
	e.open()
	e.uint("pid", uint64(p.PID), false)
	e.uint("ppid", uint64(p.PPID), false)
	e.str("exe", p.Exe, true)
	e.str("comm", p.Comm, true)
	e.str("cmdline", p.Cmdline, true)
	e.uint("uid", uint64(p.UID), false)
	e.str("user", p.User, true)
	e.uint("loginuid", uint64(p.LoginUID), false)
	e.str("login_user", p.LoginUser, true)
	e.uint("session", uint64(p.Session), false)
	e.str("tty", p.TTY, true)
	e.time("start_time", p.StartTime, true)
	e.byte('}')
}

func (e *enc) file(f *File) {
	e.open()
	e.str("path", f.Path, false)
	e.str("old_path", f.OldPath, true)
	e.uint("bytes", f.Bytes, false)
	e.uint("writes", f.Writes, true)
	e.strings("flags", f.Flags, true)
	e.str("mount", f.Mount, true)
	e.str("fstype", f.FSType, true)
	e.bool("removable", f.Removable, false)
	e.bool("network", f.Network, false)
	e.bool("created", f.Created, true)
	e.str("reason", f.Reason, true)
	e.uint("duration_ms", f.DurationMS, true)
	e.byte('}')
}

func (e *enc) net(n *Net) {
	e.open()
	e.str("proto", n.Proto, false)
	e.str("family", n.Family, true)
	e.str("direction", n.Direction, true)
	e.str("src_ip", n.SrcIP, true)
	e.uint("src_port", uint64(n.SrcPort), true)
	e.str("dst_ip", n.DstIP, false)
	e.uint("dst_port", uint64(n.DstPort), false)
	e.str("dst_name", n.DstName, true)
	e.uint("bytes_sent", n.BytesSent, false)
	e.uint("bytes_received", n.BytesReceived, false)
	e.uint("packets", n.Packets, true)
	e.uint("duration_ms", n.DurationMS, true)
	e.bool("loopback", n.Loopback, true)
	e.str("reason", n.Reason, true)
	e.byte('}')
}

func (e *enc) db(d *DB) {
	e.open()
	e.str("engine", d.Engine, false)
	e.str("side", d.Side, true)
	e.str("server", d.Server, true)
	e.str("client", d.Client, true)
	e.str("user", d.User, true)
	e.str("database", d.Database, true)
	e.str("statement", d.Statement, true)
	e.str("fingerprint", d.Fingerprint, true)
	e.strings("tables", d.Tables, true)
	e.strings("columns", d.Columns, true)
	e.str("command", d.Command, true)
	e.uint("rows", d.Rows, false)
	e.bool("partial", d.Partial, true)
	e.uint("bytes", d.Bytes, false)
	e.float("duration_ms", d.DurationMS, false)
	e.uint("executions", d.Executions, true)
	e.time("first_time", d.FirstTime, true)
	e.str("error", d.Error, true)
	e.str("error_code", d.ErrorCode, true)
	if len(d.Identifiers) > 0 {
		e.key("identifiers")
		e.open()
		for _, k := range sortedKeys(d.Identifiers) {
			e.mapKey(k)
			e.stringSlice(d.Identifiers[k])
		}
		e.byte('}')
	}
	e.bool("tls", d.TLS, true)
	e.bool("encrypted", d.Encrypted, true)
	e.byte('}')
}

// appendFloat formats like encoding/json: shortest representation, %f
// notation between 1e-6 and 1e21, exponent without a leading zero beyond.
func appendFloat(b []byte, f float64, errp *error) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if *errp == nil {
			*errp = errors.New("json: unsupported value: " + strconv.FormatFloat(f, 'g', -1, 64))
		}
		return append(b, `null`...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does: HTML-safe (<, > and & as
// \u escapes), invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
