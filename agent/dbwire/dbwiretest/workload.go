package dbwiretest

import (
	"encoding/binary"
	"fmt"
	"math/rand"
)

// Capture is the bytes of one send or receive.
type Capture struct {
	FromClient bool
	Data       []byte
}

// Exchange is one statement's request and response captures.
type Exchange struct {
	Request, Response Capture
}

// Literals of one pgbench transaction.
type tx struct {
	aid, bid, tid, delta int
}

func newTx(rng *rand.Rand) tx {
	const scale = 10
	return tx{aid: 1 + rng.Intn(100000*scale), bid: 1 + rng.Intn(scale), tid: 1 + rng.Intn(10*scale),
		delta: rng.Intn(10001) - 5000}
}

// PgbenchSQL returns the statements of n pgbench TPC-B-like transactions as
// pgbench's simple protocol sends them (with literals substituted and the
// trailing semicolon).
func PgbenchSQL(rng *rand.Rand, n int) []string {
	var out []string
	for range n {
		t := newTx(rng)
		out = append(out,
			"BEGIN;",
			fmt.Sprintf("UPDATE pgbench_accounts SET abalance = abalance + %d WHERE aid = %d;", t.delta, t.aid),
			fmt.Sprintf("SELECT abalance FROM pgbench_accounts WHERE aid = %d;", t.aid),
			fmt.Sprintf("UPDATE pgbench_tellers SET tbalance = tbalance + %d WHERE tid = %d;", t.delta, t.tid),
			fmt.Sprintf("UPDATE pgbench_branches SET bbalance = bbalance + %d WHERE bid = %d;", t.delta, t.bid),
			fmt.Sprintf("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (%d, %d, %d, %d, CURRENT_TIMESTAMP);",
				t.tid, t.bid, t.aid, t.delta),
			"END;")
	}
	return out
}

// pgbench's statements with placeholders, for the extended protocol, and
// the CommandComplete tag each gets.
var pgbenchExtended = []struct{ sql, tag string }{
	{"BEGIN;", "BEGIN"},
	{"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;", "UPDATE 1"},
	{"SELECT abalance FROM pgbench_accounts WHERE aid = $1;", "SELECT 1"},
	{"UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;", "UPDATE 1"},
	{"UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;", "UPDATE 1"},
	{"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);", "INSERT 0 1"},
	{"END;", "COMMIT"},
}

// PgMessage is a PostgreSQL message: its type, length and body.
func PgMessage(typ byte, body ...[]byte) []byte {
	n := 4
	for _, b := range body {
		n += len(b)
	}
	out := []byte{typ}
	out = binary.BigEndian.AppendUint32(out, uint32(n))
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// PgStartup is the startup exchange of a PostgreSQL connection (trust
// authentication).
func PgStartup(user, database string) Exchange {
	body := u32(196608)
	body = append(body, cstr("user")...)
	body = append(body, cstr(user)...)
	body = append(body, cstr("database")...)
	body = append(body, cstr(database)...)
	body = append(body, 0)
	req := append(u32(len(body)+4), body...)
	resp := PgMessage('R', u32(0))
	resp = append(resp, PgMessage('S', cstr("server_version"), cstr("15.18"))...)
	resp = append(resp, PgMessage('K', u32(1234), u32(5678))...)
	resp = append(resp, PgMessage('Z', []byte{'I'})...)
	return Exchange{Capture{true, req}, Capture{false, resp}}
}

func pgRowDescription(col string, typoid int) []byte {
	return PgMessage('T', u16(1), cstr(col), u32(16400), u16(3), u32(typoid), u16(4), u32(-1), u16(0))
}

func pgDataRow(v string) []byte { return PgMessage('D', u16(1), u32(len(v)), []byte(v)) }

func pgTag(sql string) string {
	switch sql[:3] {
	case "BEG":
		return "BEGIN"
	case "END":
		return "COMMIT"
	case "UPD":
		return "UPDATE 1"
	case "SEL":
		return "SELECT 1"
	case "INS":
		return "INSERT 0 1"
	}
	return "SELECT 0"
}

// PgbenchSimple returns n pgbench transactions over the simple query
// protocol: one Query per statement and its answer (RowDescription and a
// DataRow for the SELECT, CommandComplete, ReadyForQuery).
func PgbenchSimple(rng *rand.Rand, n int) []Exchange {
	var out []Exchange
	for _, sql := range PgbenchSQL(rng, n) {
		var resp []byte
		if sql[:3] == "SEL" {
			resp = append(resp, pgRowDescription("abalance", 23)...)
			resp = append(resp, pgDataRow(fmt.Sprint(rng.Intn(200000)-100000))...)
		}
		resp = append(resp, PgMessage('C', cstr(pgTag(sql)))...)
		status := byte('T')
		if sql == "END;" {
			status = 'I'
		}
		resp = append(resp, PgMessage('Z', []byte{status})...)
		out = append(out, Exchange{Capture{true, PgMessage('Q', cstr(sql))}, Capture{false, resp}})
	}
	return out
}

// PgbenchExtended returns n pgbench transactions over the extended query
// protocol with text parameters. Prepared names the statements and parses
// each once (pgbench -M prepared); otherwise every statement is parsed
// unnamed each time (pgbench -M extended). Each exchange is
// Parse/Bind/Describe/Execute/Sync in one send and its answers in one
// receive.
func PgbenchExtended(rng *rand.Rand, n int, prepared bool) []Exchange {
	var out []Exchange
	parsed := map[int]bool{}
	for range n {
		t := newTx(rng)
		params := [][]int{nil, {t.delta, t.aid}, {t.aid}, {t.delta, t.tid}, {t.delta, t.bid},
			{t.tid, t.bid, t.aid, t.delta}, nil}
		for i, st := range pgbenchExtended {
			name := ""
			if prepared {
				name = fmt.Sprintf("P0_%d", i)
			}
			var req, resp []byte
			if !prepared || !parsed[i] {
				parsed[i] = true
				req = append(req, PgMessage('P', cstr(name), cstr(st.sql), u16(0))...)
				resp = append(resp, PgMessage('1')...)
			}
			bind := append(cstr(""), cstr(name)...)
			bind = append(bind, u16(0)...)
			bind = append(bind, u16(len(params[i]))...)
			for _, v := range params[i] {
				s := fmt.Sprint(v)
				bind = append(bind, u32(len(s))...)
				bind = append(bind, s...)
			}
			bind = append(bind, u16(0)...)
			req = append(req, PgMessage('B', bind)...)
			req = append(req, PgMessage('D', []byte{'P'}, cstr(""))...)
			req = append(req, PgMessage('E', cstr(""), u32(0))...)
			req = append(req, PgMessage('S')...)
			resp = append(resp, PgMessage('2')...)
			if i == 2 {
				resp = append(resp, pgRowDescription("abalance", 23)...)
				resp = append(resp, pgDataRow(fmt.Sprint(rng.Intn(200000)-100000))...)
			} else {
				resp = append(resp, PgMessage('n')...)
			}
			resp = append(resp, PgMessage('C', cstr(st.tag))...)
			status := byte('T')
			if i == len(pgbenchExtended)-1 {
				status = 'I'
			}
			resp = append(resp, PgMessage('Z', []byte{status})...)
			out = append(out, Exchange{Capture{true, req}, Capture{false, resp}})
		}
	}
	return out
}

// MySQL capabilities of the generated connection.
const (
	myCaps = 0x00000200 | 0x00008000 | 0x00080000 | 0x00000008 | 0x01000000 | 0x00000001
)

// MySQLPacket is a MySQL packet: its length, sequence id and body.
func MySQLPacket(seq byte, body ...[]byte) []byte {
	n := 0
	for _, b := range body {
		n += len(b)
	}
	out := []byte{byte(n), byte(n >> 8), byte(n >> 16), seq}
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

func le16(v int) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
func le32(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func lenencStr(s string) []byte { return append([]byte{byte(len(s))}, s...) }

// MySQLHandshake is the greeting, handshake response and OK of a MySQL
// connection (protocol 41, deprecated EOF).
func MySQLHandshake(user, database string) []Capture {
	g := []byte{10}
	g = append(g, cstr("8.0.36")...)
	g = append(g, le32(7)...)
	g = append(g, "abcdefgh"...)
	g = append(g, 0)
	g = append(g, le16(myCaps&0xffff)...)
	g = append(g, 0xff)
	g = append(g, le16(2)...)
	g = append(g, le16(myCaps>>16)...)
	g = append(g, 21)
	g = append(g, make([]byte, 10)...)
	g = append(g, "ijklmnopqrst\x00"...)
	g = append(g, cstr("caching_sha2_password")...)
	r := le32(myCaps)
	r = append(r, le32(1<<24)...)
	r = append(r, 0xff)
	r = append(r, make([]byte, 23)...)
	r = append(r, cstr(user)...)
	r = append(r, 20)
	r = append(r, "01234567890123456789"...)
	r = append(r, cstr(database)...)
	r = append(r, cstr("caching_sha2_password")...)
	ok := []byte{0, 0, 0}
	ok = append(ok, le16(2)...)
	ok = append(ok, le16(0)...)
	return []Capture{{false, MySQLPacket(0, g)}, {true, MySQLPacket(1, r)}, {false, MySQLPacket(2, ok)}}
}

// MySQLQueries returns n pgbench-like transactions over MySQL COM_QUERY
// (statements without the trailing semicolon), with OK packets and a result
// set for the SELECT.
func MySQLQueries(rng *rand.Rand, n int) []Exchange {
	var out []Exchange
	for _, sql := range PgbenchSQL(rng, n) {
		sql = sql[:len(sql)-1]
		if sql == "END" {
			sql = "COMMIT"
		}
		req := MySQLPacket(0, []byte{3}, []byte(sql))
		var resp []byte
		okBody := func(affected byte) []byte {
			b := []byte{0, affected, 0}
			b = append(b, le16(3)...)
			return append(b, le16(0)...)
		}
		if sql[:3] == "SEL" {
			resp = append(resp, MySQLPacket(1, []byte{1})...)
			col := append(lenencStr("def"), lenencStr("bench")...)
			col = append(col, lenencStr("pgbench_accounts")...)
			col = append(col, lenencStr("pgbench_accounts")...)
			col = append(col, lenencStr("abalance")...)
			col = append(col, lenencStr("abalance")...)
			col = append(col, 0x0c, 0x3f, 0, 11, 0, 0, 0, 3, 0, 0, 0, 0, 0)
			resp = append(resp, MySQLPacket(2, col)...)
			resp = append(resp, MySQLPacket(3, lenencStr(fmt.Sprint(rng.Intn(200000)-100000)))...)
			eof := []byte{0xfe, 0, 0}
			eof = append(eof, le16(2)...)
			eof = append(eof, le16(0)...)
			resp = append(resp, MySQLPacket(4, eof)...)
		} else {
			affected := byte(1)
			if sql == "BEGIN" || sql == "COMMIT" {
				affected = 0
			}
			resp = MySQLPacket(1, okBody(affected))
		}
		out = append(out, Exchange{Capture{true, req}, Capture{false, resp}})
	}
	return out
}
