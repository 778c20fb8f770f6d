package rules

import (
	"maps"
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

// The accessors of fields_gen.go, one per payload and value type: each
// reads the payload when the event has it and the zero value when not.

func eventStr(get func(*event.Event) string) field {
	return field{typ: tStr, s: func(e *env) string { return get(e.ev) }}
}

func eventNum(get func(*event.Event) float64) field {
	return field{typ: tNum, n: func(e *env) float64 { return get(e.ev) }}
}

func eventMap(get func(*event.Event) map[string]string) field {
	return field{typ: tMap, m: func(e *env) map[string]string { return get(e.ev) }}
}

func processStr(get func(*event.Process) string) field {
	return field{typ: tStr, s: func(e *env) string {
		if p := e.ev.Process; p != nil {
			return get(p)
		}
		return ""
	}}
}

func processNum(get func(*event.Process) float64) field {
	return field{typ: tNum, n: func(e *env) float64 {
		if p := e.ev.Process; p != nil {
			return get(p)
		}
		return 0
	}}
}

func processTime(get func(*event.Process) time.Time) field {
	return field{typ: tTime, tm: func(e *env) time.Time {
		if p := e.ev.Process; p != nil {
			return get(p)
		}
		return time.Time{}
	}}
}

func exitStr(get func(*event.Exit) string) field {
	return field{typ: tStr, kinds: exitKinds, s: func(e *env) string {
		if p := e.ev.Exit; p != nil {
			return get(p)
		}
		return ""
	}}
}

func exitNum(get func(*event.Exit) float64) field {
	return field{typ: tNum, kinds: exitKinds, n: func(e *env) float64 {
		if p := e.ev.Exit; p != nil {
			return get(p)
		}
		return 0
	}}
}

func fileStr(get func(*event.File) string) field {
	return field{typ: tStr, kinds: fileKinds, s: func(e *env) string {
		if p := e.ev.File; p != nil {
			return get(p)
		}
		return ""
	}}
}

func fileNum(get func(*event.File) float64) field {
	return field{typ: tNum, kinds: fileKinds, n: func(e *env) float64 {
		if p := e.ev.File; p != nil {
			return get(p)
		}
		return 0
	}}
}

func fileBool(get func(*event.File) bool) field {
	return field{typ: tBool, kinds: fileKinds, b: func(e *env) bool {
		if p := e.ev.File; p != nil {
			return get(p)
		}
		return false
	}}
}

func fileList(get func(*event.File) []string) field {
	return field{typ: tList, kinds: fileKinds, l: func(e *env) []string {
		if p := e.ev.File; p != nil {
			return get(p)
		}
		return nil
	}}
}

func netStr(get func(*event.Net) string) field {
	return field{typ: tStr, kinds: netKinds, s: func(e *env) string {
		if p := e.ev.Net; p != nil {
			return get(p)
		}
		return ""
	}}
}

func netNum(get func(*event.Net) float64) field {
	return field{typ: tNum, kinds: netKinds, n: func(e *env) float64 {
		if p := e.ev.Net; p != nil {
			return get(p)
		}
		return 0
	}}
}

func netBool(get func(*event.Net) bool) field {
	return field{typ: tBool, kinds: netKinds, b: func(e *env) bool {
		if p := e.ev.Net; p != nil {
			return get(p)
		}
		return false
	}}
}

func dnsStr(get func(*event.DNS) string) field {
	return field{typ: tStr, kinds: dnsKinds, s: func(e *env) string {
		if p := e.ev.DNS; p != nil {
			return get(p)
		}
		return ""
	}}
}

func dnsNum(get func(*event.DNS) float64) field {
	return field{typ: tNum, kinds: dnsKinds, n: func(e *env) float64 {
		if p := e.ev.DNS; p != nil {
			return get(p)
		}
		return 0
	}}
}

func dbStr(get func(*event.DB) string) field {
	return field{typ: tStr, kinds: dbKinds, s: func(e *env) string {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return ""
	}}
}

func dbNum(get func(*event.DB) float64) field {
	return field{typ: tNum, kinds: dbKinds, n: func(e *env) float64 {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return 0
	}}
}

func dbBool(get func(*event.DB) bool) field {
	return field{typ: tBool, kinds: dbKinds, b: func(e *env) bool {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return false
	}}
}

func dbList(get func(*event.DB) []string) field {
	return field{typ: tList, kinds: dbKinds, l: func(e *env) []string {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return nil
	}}
}

func dbIdents(get func(*event.DB) map[string][]string) field {
	return field{typ: tIdents, kinds: dbKinds, im: func(e *env) map[string][]string {
		if p := e.ev.DB; p != nil {
			return get(p)
		}
		return nil
	}}
}

func lossStr(get func(*event.Loss) string) field {
	return field{typ: tStr, kinds: lossKinds, s: func(e *env) string {
		if p := e.ev.Loss; p != nil {
			return get(p)
		}
		return ""
	}}
}

func lossNum(get func(*event.Loss) float64) field {
	return field{typ: tNum, kinds: lossKinds, n: func(e *env) float64 {
		if p := e.ev.Loss; p != nil {
			return get(p)
		}
		return 0
	}}
}

func heartbeatStr(get func(*event.Heartbeat) string) field {
	return field{typ: tStr, kinds: heartbeatKinds, s: func(e *env) string {
		if p := e.ev.Heartbeat; p != nil {
			return get(p)
		}
		return ""
	}}
}

func heartbeatNum(get func(*event.Heartbeat) float64) field {
	return field{typ: tNum, kinds: heartbeatKinds, n: func(e *env) float64 {
		if p := e.ev.Heartbeat; p != nil {
			return get(p)
		}
		return 0
	}}
}

func heartbeatList(get func(*event.Heartbeat) []string) field {
	return field{typ: tList, kinds: heartbeatKinds, l: func(e *env) []string {
		if p := e.ev.Heartbeat; p != nil {
			return get(p)
		}
		return nil
	}}
}

func heartbeatBool(get func(*event.Heartbeat) bool) field {
	return field{typ: tBool, kinds: heartbeatKinds, b: func(e *env) bool {
		if p := e.ev.Heartbeat; p != nil {
			return get(p)
		}
		return false
	}}
}

func alertStr(get func(*event.Alert) string) field {
	return field{typ: tStr, kinds: alertKinds, s: func(e *env) string {
		if p := e.ev.Alert; p != nil {
			return get(p)
		}
		return ""
	}}
}

func alertNum(get func(*event.Alert) float64) field {
	return field{typ: tNum, kinds: alertKinds, n: func(e *env) float64 {
		if p := e.ev.Alert; p != nil {
			return get(p)
		}
		return 0
	}}
}

func alertList(get func(*event.Alert) []string) field {
	return field{typ: tList, kinds: alertKinds, l: func(e *env) []string {
		if p := e.ev.Alert; p != nil {
			return get(p)
		}
		return nil
	}}
}

func alertMap(get func(*event.Alert) map[string]string) field {
	return field{typ: tMap, kinds: alertKinds, m: func(e *env) map[string]string {
		if p := e.ev.Alert; p != nil {
			return get(p)
		}
		return nil
	}}
}

func attributionStr(get func(*event.Attribution) string) field {
	return field{typ: tStr, kinds: attributionKinds, s: func(e *env) string {
		if p := e.ev.Attribution; p != nil {
			return get(p)
		}
		return ""
	}}
}

func attributionNum(get func(*event.Attribution) float64) field {
	return field{typ: tNum, kinds: attributionKinds, n: func(e *env) float64 {
		if p := e.ev.Attribution; p != nil {
			return get(p)
		}
		return 0
	}}
}

func attributionTime(get func(*event.Attribution) time.Time) field {
	return field{typ: tTime, kinds: attributionKinds, tm: func(e *env) time.Time {
		if p := e.ev.Attribution; p != nil {
			return get(p)
		}
		return time.Time{}
	}}
}

// derivedFields are the fields rules read other than as the event carries
// them: those tagged rule:"derived" in event.go, and person: for a
// statement attributed to its connection's client end, that end's person,
// else the login user behind the process, else the user it runs as.
var derivedFields = map[string]field{
	"time":   {typ: tTime, tm: func(e *env) time.Time { return e.t }},
	"person": {typ: tStr, s: func(e *env) string { return e.ev.Person() }},
	// A folded statement stands for Runs() runs, one that is not for one.
	"db.executions": dbNum(func(d *event.DB) float64 { return float64(d.Runs()) }),
	// A statement that is not folded ran only at the event's time.
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
}

// fields maps every readable JSON path to its accessor.
var fields = joinFields(schemaFields, derivedFields)

func joinFields(schema, derived map[string]field) map[string]field {
	all := maps.Clone(schema)
	for path, f := range derived {
		if _, ok := all[path]; ok {
			panic("rules: field " + path + " is both derived and read as the event carries it")
		}
		all[path] = f
	}
	return all
}

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
