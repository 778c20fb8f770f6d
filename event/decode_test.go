package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// decodeReference is Decode as it was before decodeFast: the reference the
// fast path must agree with, error messages included.
func decodeReference(data []byte) (*Event, error) {
	if len(data) > MaxWireSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(data), MaxWireSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrMalformed)
	}
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return &ev, nil
}

// sameAsUnmarshal checks decodeFast against json.Unmarshal on data, and
// Decode against decodeReference, and reports whether the fast path read it.
func sameAsUnmarshal(t *testing.T, data []byte) bool {
	t.Helper()
	var fast, slow Event
	ok := decodeFast(data, &fast)
	err := json.Unmarshal(data, &slow)
	if ok {
		if err != nil {
			t.Fatalf("decodeFast read what json.Unmarshal refuses (%v):\n%s", err, data)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decodeFast and json.Unmarshal differ on\n%s\nfast %s\nslow %s", data, dump(&fast), dump(&slow))
		}
		if !utf8.Valid(data) {
			t.Fatalf("decodeFast read invalid UTF-8: %q", data)
		}
	}
	got, gerr := Decode(data)
	want, werr := decodeReference(data)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode gives %v, %v; before decodeFast %v, %v; on\n%s", dump(got), gerr, dump(want), werr, data)
	}
	return ok
}

// dump shows an event with its pointers followed.
func dump(ev *Event) string {
	if ev == nil {
		return "<nil>"
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Sprintf("%+v", *ev)
	}
	return string(b)
}

// TestDecodeFastMatchesUnmarshal reads random events as AppendJSON writes
// them, which the fast path must take, and variants of them a peer could
// send: other white space, key order and escapes, unknown members, nulls,
// duplicate keys, other number spellings, keys in other case.
func TestDecodeFastMatchesUnmarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 3000
	if testing.Short() {
		n = 500
	}
	var variants, fast int
	for i := 0; i < n; i++ {
		var ev Event
		fill(r, reflect.ValueOf(&ev).Elem(), 0)
		data, err := AppendJSON(nil, &ev)
		if err != nil {
			continue // NaN and the like: no valid JSON to read
		}
		if !sameAsUnmarshal(t, data) {
			t.Fatalf("event %d: the fast path refused what AppendJSON wrote:\n%s", i, data)
		}
		tree := parseTree(t, data)
		for range 8 {
			variants++
			// One variant in eight has a key in other case, which the
			// fast path leaves to encoding/json.
			if sameAsUnmarshal(t, perturb(r, tree, r.IntN(8) == 0).emit(r, nil)) {
				fast++
			}
		}
	}
	t.Logf("%d of %d variants read by the fast path", fast, variants)
	if fast < variants/3 {
		t.Errorf("the fast path read only %d of %d variants", fast, variants)
	}
}

// TestDecodeFastEveryField sets each field of the schema alone, found by
// reflection so fields added later are covered, and checks the fast path
// reads it as json.Unmarshal does.
func TestDecodeFastEveryField(t *testing.T) {
	var walk func(path string, typ reflect.Type, at func(ev *Event) reflect.Value)
	walk = func(path string, typ reflect.Type, at func(ev *Event) reflect.Value) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			field := func(ev *Event) reflect.Value { return at(ev).Field(i) }
			if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
				walk(path+name+".", f.Type.Elem(), func(ev *Event) reflect.Value {
					p := field(ev)
					if p.IsNil() {
						p.Set(reflect.New(f.Type.Elem()))
					}
					return p.Elem()
				})
				continue
			}
			t.Run(path+name, func(t *testing.T) {
				ev := wireEvent()
				setNonZero(t, field(ev))
				data, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				if !sameAsUnmarshal(t, data) {
					t.Fatalf("the fast path refused %s; does decode_gen.go read %q (make generate-schema)?", data, path+name)
				}
				var got Event
				decodeFast(data, &got)
				g, w := field(&got).Interface(), field(ev).Interface()
				if tg, ok := g.(time.Time); ok && !tg.Equal(w.(time.Time)) || !ok && !reflect.DeepEqual(g, w) {
					t.Fatalf("%s read as %v, want %v", path+name, field(&got), field(ev))
				}
			})
		}
	}
	walk("", reflect.TypeFor[Event](), func(ev *Event) reflect.Value { return reflect.ValueOf(ev).Elem() })
}

// setNonZero sets v to a value json.Marshal writes out even with omitempty.
func setNonZero(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("v\u00e9\"")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(-7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(0.25)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		setNonZero(t, s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		setNonZero(t, k)
		e := reflect.New(v.Type().Elem()).Elem()
		setNonZero(t, e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() != reflect.TypeFor[time.Time]() {
			t.Fatalf("setNonZero: unhandled struct %s", v.Type())
		}
		v.Set(reflect.ValueOf(time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("", 3600))))
	default:
		t.Fatalf("setNonZero: unhandled kind %s", v.Kind())
	}
}

// TestDecodeFastCorners pins what encoding/json does at its corners and
// whether the fast path takes each or leaves it to encoding/json.
func TestDecodeFastCorners(t *testing.T) {
	const head = `"id":"a-1","site":"s","agent_id":"g","boot_id":"a","seq":1,"kind":"file.write","time":"2026-01-05T09:00:00Z"`
	for _, c := range []struct {
		json string
		fast bool
	}{
		{`{` + head + `,"file":{"path":"/a"}}`, true},
		{" \t\r\n{" + head + ",\"file\" : { \"path\" :\"/a\" } } \n", true},
		// Keys and strings with escapes, surrogate pairs and lone halves.
		{`{"\u0069d":"\u00e9\uD83D\uDE00\ud83d\u0041\udc00x\\\/\"\b\f\n\r\t"}`, true},
		{`{"id":"\uD83D"}`, true},
		{`{"id":"\uD83D\uD83D\uDE00"}`, true},
		{`{"id":"\uDE00\uD83D"}`, true},
		{`{"id":"\u0000\u001f"}`, true},
		{`{"id":"\'"}`, false},
		{`{"id":"\x41"}`, false},
		{`{"id":"\u12"}`, false},
		{"{\"id\":\"tab\tinside\"}", false},
		{"{\"id\":\"\xff\"}", false},
		// Case-insensitive keys: encoding/json matches them.
		{`{"ID":"x"}`, false},
		{`{"Process":{"PID":3}}`, false},
		{`{"i\u0044":"x"}`, false},
		{"{\"\u212a\":1}", false}, // Kelvin sign folds to k
		// Unknown members, empty keys.
		{`{"":1,"zz":{"a":[1,{"b":null},"c",true,false,-0.5e+3]},"id":"x","q":[]}`, true},
		{`{"process":{"zz":[[[]]],"pid":1}}`, true},
		// Duplicate keys: last wins; objects and maps merge.
		{`{"id":"a","id":"b"}`, true},
		{`{"process":{"pid":1,"exe":"x"},"process":{"ppid":2,"exe":"y"}}`, true},
		{`{"labels":{"a":"1","b":"2"},"labels":{"b":"3","c":"4"}}`, true},
		{`{"db":{"tables":["a","b","c"],"tables":["d"]}}`, true},
		{`{"db":{"tables":["a","b"]},"db":{"tables":[]}}`, true},
		{`{"process":{"pid":1},"process":null,"process":{"ppid":2}}`, true},
		// null: no change for scalars, nil for pointers, maps and slices;
		// a map value null stores the zero value.
		{`{"id":"a","id":null,"seq":5,"seq":null,"time":"2026-01-05T09:00:00Z","time":null}`, true},
		{`{"labels":{"a":"b"},"labels":null,"file":{"flags":["x"],"flags":null,"removable":true,"removable":null}}`, true},
		{`{"labels":{"a":null},"db":{"identifiers":{"c":null,"d":[],"e":["x"]}},"heartbeat":{"kernel_drops":{"x":null,"y":3}}}`, true},
		{`{"db":{"tables":[null]}}`, false},
		{`{"db":{"tables":["a",null]}}`, false},
		{`null`, false},
		// Numbers.
		{`{"seq":18446744073709551615}`, true},
		{`{"seq":18446744073709551616}`, false},
		{`{"seq":-1}`, false},
		{`{"seq":-0}`, false},
		{`{"seq":1.0}`, false},
		{`{"seq":1e2}`, false},
		{`{"seq":01}`, false},
		{`{"process":{"pid":4294967295,"uid":0}}`, true},
		{`{"process":{"pid":4294967296}}`, false},
		{`{"net":{"dst_port":65535}}`, true},
		{`{"net":{"dst_port":65536}}`, false},
		{`{"exit":{"code":-0,"signal":-2147483648}}`, true},
		{`{"exit":{"code":2147483647}}`, true},
		{`{"exit":{"code":2147483648}}`, false},
		{`{"exit":{"code":-2147483649}}`, false},
		{`{"exit":{"code":- 1}}`, false},
		{`{"exit":{"code":-}}`, false},
		{`{"exit":{"code":--1}}`, false},
		{`{"db":{"duration_ms":-0.0}}`, true},
		{`{"db":{"duration_ms":1E+2}}`, true},
		{`{"db":{"duration_ms":1e-400}}`, true},
		{`{"db":{"duration_ms":1e400}}`, false},
		{`{"db":{"duration_ms":.5}}`, false},
		{`{"db":{"duration_ms":1.}}`, false},
		{`{"db":{"duration_ms":"1"}}`, false},
		{`{"alert":{"value":123456789012345678901234567890}}`, true},
		// Times.
		{`{"time":"2026-01-05T09:00:00.123456789+05:30"}`, true},
		{`{"time":"2026-01-05T09:00:00Z","process":{"start_time":"2026-01-05T09:00:00-00:00"}}`, true},
		{`{"time":"2026-01-05T09:00:00\u005a"}`, false},
		{`{"time":"2026-01-05 09:00:00Z"}`, false},
		{`{"time":"2026-01-05T09:00:00Z"`, false},
		{`{"time":1}`, false},
		{`{"time":{}}`, false},
		{`{"db":{"first_time":"2026-01-05T09:00:00Z","executions":3}}`, true},
		// Type mismatches.
		{`{"id":1}`, false},
		{`{"id":true}`, false},
		{`{"process":[]}`, false},
		{`{"process":"x"}`, false},
		{`{"labels":{"a":1}}`, false},
		{`{"labels":[]}`, false},
		{`{"file":{"flags":"x"}}`, false},
		{`{"file":{"flags":[1]}}`, false},
		{`{"file":{"removable":"true"}}`, false},
		{`{"file":{"removable":nul}}`, false},
		// Syntax.
		{``, false},
		{`{`, false},
		{`{}`, true},
		{`{} {}`, false},
		{`{}x`, false},
		{`[]`, false},
		{`{"id":"a",}`, false},
		{`{,"id":"a"}`, false},
		{`{"id" "a"}`, false},
		{`{"id":"a" "site":"b"}`, false},
		{`{"zz":[1,]}`, false},
		{`{"zz":[,1]}`, false},
		{`{"zz":[1 2]}`, false},
		{`{"zz":tru}`, false},
		{`{"zz":truex}`, false},
		{`{"zz":nulll}`, false},
		{`{"zz":{"a"}}`, false},
		{`{"zz":+1}`, false},
		{`{"zz":1.5e}`, false},
		{"{\"zz\":1}\x00", false},
		{"\ufeff{}", false},
		{`{"zz":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, false},
		{`{"zz":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`, true},
	} {
		if fast := sameAsUnmarshal(t, []byte(c.json)); fast != c.fast {
			t.Errorf("fast path took %s: %v, want %v", c.json, fast, c.fast)
		}
	}
}

// FuzzDecodeMatchesUnmarshal checks Decode against encoding/json and that
// whatever it is sent, it fails only with ErrMalformed and what it accepts
// encodes again.
func FuzzDecodeMatchesUnmarshal(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		var ev Event
		fill(r, reflect.ValueOf(&ev).Elem(), 0)
		if data, err := AppendJSON(nil, &ev); err == nil {
			f.Add(data)
			f.Add(perturb(r, parseTree(f, data), r.IntN(2) == 0).emit(r, nil))
		}
	}
	b, _ := Encode(wireEvent())
	f.Add(b)
	f.Add([]byte(`{"ID":"x","process":{"pid":1},"process":{"ppid":2},"labels":{"a":null}}`))
	f.Add([]byte(`{"id":"x","kind":"alert","alert":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsUnmarshal(t, data)
		ev, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// What decodes re-encodes.
		if _, err := Encode(ev); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkDecodeUnmarshal(b *testing.B) {
	data, err := Encode(benchEvent())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeReference(data); err != nil {
			b.Fatal(err)
		}
	}
}
