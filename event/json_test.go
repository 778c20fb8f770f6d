package event

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// strs are strings that exercise every escape rule of encoding/json.
var strs = []string{
	"", "plain", "SELECT * FROM customers WHERE id = ?", `quote " and \ back`,
	"<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"bad utf8 \xff\xfe end", "\u2028 line sep \u2029 para sep", "ünïcödé 日本語 🙂",
	"trailing \xc3", "/home/alice/export.csv",
}

// fill sets every field reachable from v to a random value, so fields added
// to the schema later are covered without touching this test.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(strs[r.IntN(len(strs))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if r.IntN(3) > 0 {
			v.SetUint(r.Uint64() >> (r.UintN(64)))
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		if r.IntN(3) > 0 {
			v.SetInt(int64(r.Uint64()>>(r.UintN(64))) * int64(1-2*r.IntN(2)))
		}
	case reflect.Float64:
		floats := []float64{0, 1, -1, 0.5, 1e-7, 1.5e-7, 123456.789, 1e21, 3e22, -2.5e-9, math.MaxFloat64, math.SmallestNonzeroFloat64, r.Float64() * 1000}
		v.SetFloat(floats[r.IntN(len(floats))])
	case reflect.Slice:
		switch r.IntN(3) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := 1 + r.IntN(3)
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := 0; i < n; i++ {
				fill(r, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch r.IntN(3) {
		case 0:
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for i := 0; i < 1+r.IntN(4); i++ {
				k := reflect.New(v.Type().Key()).Elem()
				fill(r, k, depth+1)
				e := reflect.New(v.Type().Elem()).Elem()
				fill(r, e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Pointer:
		if depth > 0 && r.IntN(2) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			times := []time.Time{{}, time.Unix(1700000000, 123456789).UTC(), time.Unix(1700000000, 0).In(time.FixedZone("x", -5*3600)),
				time.Date(2026, 11, 22, 16, 0, 0, 120000000, time.UTC)}
			v.Set(reflect.ValueOf(times[r.IntN(len(times))]))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i), depth+1)
			}
		}
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func TestAppendJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var ev Event
		fill(r, reflect.ValueOf(&ev).Elem(), 0)
		want, werr := json.Marshal(&ev)
		got, gerr := AppendJSON([]byte("prefix"), &ev)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("event %d: json.Marshal error %v, AppendJSON error %v", i, werr, gerr)
		}
		if werr != nil {
			continue
		}
		if !bytes.Equal(got[len("prefix"):], want) || string(got[:len("prefix")]) != "prefix" {
			t.Fatalf("event %d differs (is json_gen.go stale? make generate-schema):\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestAppendJSONRefusesWhatMarshalRefuses(t *testing.T) {
	for _, ev := range []*Event{
		{DB: &DB{DurationMS: math.NaN()}},
		{DB: &DB{DurationMS: math.Inf(1)}},
		{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := json.Marshal(ev); err == nil {
			t.Fatalf("json.Marshal accepted %+v", ev)
		}
		if _, err := AppendJSON(nil, ev); err == nil {
			t.Errorf("AppendJSON accepted what json.Marshal refuses: %+v", ev)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range strs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, json.Marshal %s", s, got, want)
		}
	})
}

func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0, 1e-7, 1e21, -3.25, 123.456} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		want, werr := json.Marshal(v)
		var err error
		got := appendFloat(nil, v, &err)
		if (werr != nil) != (err != nil) || werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("appendFloat(%v) = %s (%v), json.Marshal %s (%v)", v, got, err, want, werr)
		}
	})
}

func benchEvent() *Event {
	return &Event{ID: "7f3c2a9e-12345", Time: time.Now().UTC(), Kind: KindDBQuery, Site: "lyon", Host: "ws-017",
		AgentID: "ws-017-a1", BootID: "7f3c2a9e", Seq: 12345, Labels: map[string]string{"desk": "tier1"},
		Process: &Process{PID: 4242, PPID: 4000, Exe: "/usr/bin/psql", Comm: "psql", Cmdline: "psql -h db1 crm",
			UID: 1001, User: "alice", LoginUID: 1001, LoginUser: "alice", Session: 3, TTY: "pts/1", StartTime: time.Now().UTC()},
		DB: &DB{Engine: "postgresql", Side: "client", Server: "10.0.0.5:5432", Client: "10.0.0.17:51234", User: "support",
			Database: "crm", Statement: "SELECT email, phone FROM customers WHERE id = ?", Fingerprint: "c0ffee12",
			Tables: []string{"customers"}, Columns: []string{"email", "phone"}, Command: "SELECT", Rows: 1, Bytes: 312,
			DurationMS: 0.412}}
}

func BenchmarkEncode(b *testing.B) {
	ev := benchEvent()
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = AppendJSON(buf[:0], ev)
		}
	})
	// Encode is what the publisher calls: a new slice per event.
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Encode(ev)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(ev)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data, err := Encode(benchEvent())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
