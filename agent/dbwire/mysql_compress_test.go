package dbwire

import (
	"bytes"
	"database/sql"
	"math/rand"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/vigilhq/vigil/internal/testdb"
)

// myCompressedQueries are what the mariadb client runs with --compress: a
// result large enough to span compressed packets, and an error.
const myCompressedQueries = "SELECT id, email FROM customers WHERE email <> 'MARKER-7f3a9@example.com'; " +
	"SELECT COUNT(*) FROM customers; SELECT nope FROM customers"

func checkMySQLCompressed(t *testing.T, recs []Record, tr *Tracker) {
	t.Helper()
	assertNoMarker(t, recs)
	if s := tr.Session(); s.GaveUp || s.User != "vigil" || s.Database != "vigil" {
		t.Errorf("session %+v, want vigil's on vigil, followed", s)
	}
	// MariaDB offers zlib only: no zstd bit in its greeting.
	if m := tr.proto.(*mysql); m.compress != myClientCompress || m.srvCaps&myClientZstd != 0 {
		t.Errorf("compression %#x, server capabilities %#x: want zlib, and no zstd offered", m.compress, m.srvCaps)
	}
	r := findRecord(t, recs, "SELECT id, email FROM customers WHERE email <> ?")
	if r.DB.Rows != 1234 || r.Partial {
		t.Errorf("compressed select: rows %d partial %v, want 1234 whole", r.DB.Rows, r.Partial)
	}
	if r.DB.Bytes < 1234*20 {
		t.Errorf("compressed select: %d bytes, want the uncompressed rows' (over %d)", r.DB.Bytes, 1234*20)
	}
	if r = findRecord(t, recs, "SELECT COUNT(*) FROM customers"); r.DB.Rows != 1 {
		t.Errorf("compressed count: %+v", r.DB)
	}
	if r = findRecord(t, recs, "SELECT nope FROM customers"); r.DB.ErrorCode != "1054" {
		t.Errorf("compressed error: %+v", r.DB)
	}
}

// The mariadb client with --compress (CLIENT_COMPRESS, zlib: MariaDB offers
// no zstd) is followed through its compressed packets.
func TestMySQLCompressedLive(t *testing.T) {
	srv := testdb.StartMariaDB(t, testdb.Options{})
	db, err := sql.Open("mysql", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100))",
		"INSERT INTO customers SELECT seq, CONCAT('user', seq, '@example.com') FROM seq_1_to_1234",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	px := testdb.StartProxy(t, srv.Addr())
	host, port, _ := strings.Cut(px.Addr, ":")
	out, err := exec.Command("mariadb", "--no-defaults", "--skip-ssl", "--compress", "-h", host, "-P", port, "-uvigil", "-pvigil",
		"vigil", "-e", myCompressedQueries).CombinedOutput()
	if err == nil {
		t.Fatalf("mariadb --compress: expected an error from the last statement:\n%s", out)
	}
	px.Close()
	chunks := connChunks(px.Chunks(), 0)
	recs, tr := replay(t, EngineMySQL, chunks, nil)
	checkMySQLCompressed(t, recs, tr)
	for seed := int64(1); seed <= 3; seed++ {
		if again, _ := replay(t, EngineMySQL, chunks, rand.New(rand.NewSource(seed))); !sameRecords(recs, again) {
			t.Errorf("seed %d: random chunking changed the records", seed)
		}
	}
	if *update {
		saveFixture(t, "mysql_compressed_session.json", chunks)
	}
}

func TestMySQLCompressedFixture(t *testing.T) {
	chunks := loadFixture(t, "mysql_compressed_session.json")
	recs, tr := replay(t, EngineMySQL, chunks, nil)
	checkMySQLCompressed(t, recs, tr)
	if again, _ := replay(t, EngineMySQL, chunks, rand.New(rand.NewSource(7))); !sameRecords(recs, again) {
		t.Error("random chunking changed the records")
	}
}

// myCompressPackets wraps plain in compressed packets of at most size
// bytes of it each: zlib, zstd, or stored (sent as is) when algo is "".
func myCompressPackets(plain []byte, size int, algo string) []byte {
	var out []byte
	for seq := 0; len(plain) > 0; seq++ {
		part := plain[:min(size, len(plain))]
		plain = plain[len(part):]
		payload, ulen := part, 0
		switch algo {
		case "zlib":
			var b bytes.Buffer
			w := zlib.NewWriter(&b)
			w.Write(part)
			w.Close()
			payload, ulen = b.Bytes(), len(part)
		case "zstd":
			enc, err := zstd.NewWriter(nil)
			if err != nil {
				panic(err)
			}
			payload, ulen = enc.EncodeAll(part, nil), len(part)
		}
		n := len(payload)
		out = append(out, byte(n), byte(n>>8), byte(n>>16), byte(seq), byte(ulen), byte(ulen>>8), byte(ulen>>16))
		out = append(out, payload...)
	}
	return out
}

// The inflater hands on exactly the bytes inside compressed packets, zlib,
// zstd or stored, however the stream is cut; bytes not captured inside one
// packet cost that packet's contents and no more.
func TestMyInflater(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	plain := make([]byte, 100000)
	for i := range plain {
		plain[i] = "abcdefgh"[rng.Intn(8)]
	}
	for _, algo := range []string{"zlib", "zstd", ""} {
		stream := myCompressPackets(plain, 16384, algo)
		var got []byte
		missing := 0
		z := &myInflater{zstd: algo == "zstd", deliver: func(_ time.Time, data []byte, miss int) {
			got = append(got, data...)
			missing += miss
		}}
		for rest := stream; len(rest) > 0; {
			n := 1 + rng.Intn(min(len(rest), 3000))
			if err := z.feed(time.Time{}, rest[:n], 0); err != nil {
				t.Fatalf("%q: %v", algo, err)
			}
			rest = rest[n:]
		}
		if !bytes.Equal(got, plain) || missing != 0 {
			t.Errorf("%q: %d bytes out (%d missing), want the %d in", algo, len(got), missing, len(plain))
		}
		// The middle of the third packet not captured: its contents are
		// missing (or what inflates of its head), the rest comes whole.
		got, missing = nil, 0
		z = &myInflater{zstd: algo == "zstd", deliver: z.deliver}
		third := len(myCompressPackets(plain[:2*16384], 16384, algo))
		cut := third + myCompHeaderLen + 10
		if err := z.feed(time.Time{}, stream[:cut], 20); err != nil {
			t.Fatalf("%q: %v", algo, err)
		}
		if err := z.feed(time.Time{}, stream[cut+20:], 0); err != nil {
			t.Fatalf("%q after a gap: %v", algo, err)
		}
		if z.lost || len(got)+missing != len(plain) || !bytes.Equal(got[len(got)-(len(plain)-3*16384):], plain[3*16384:]) {
			t.Errorf("%q with a gap: %d bytes out, %d missing, lost %v; want %d in all, the packets after the gap whole",
				algo, len(got), missing, z.lost, len(plain))
		}
	}
}

// A compressed packet whose payload inflates to more than its header says
// is malformed: its contents are not handed on past the length the header
// gave, whichever algorithm.
func TestMyInflaterHeaderUnderstatesLength(t *testing.T) {
	plain := bytes.Repeat([]byte("SELECT email FROM customers; "), 100)
	for _, algo := range []string{"zlib", "zstd"} {
		stream := myCompressPackets(plain, len(plain), algo)
		stream[4], stream[5], stream[6] = 10, 0, 0 // the length once uncompressed: 10 bytes
		delivered := 0
		z := &myInflater{zstd: algo == "zstd", deliver: func(_ time.Time, data []byte, miss int) {
			if miss < 0 {
				t.Errorf("%s: %d bytes missing", algo, miss)
			}
			delivered += len(data) + miss
		}}
		_ = z.feed(time.Time{}, stream, 0)
		if delivered > 10 {
			t.Errorf("%s: %d bytes handed on from a packet that says it holds 10", algo, delivered)
		}
	}
}

// The inflater takes any bytes without panicking, handing on no more than
// one packet's length at a time, never a negative count of missing bytes.
func FuzzMyInflater(f *testing.F) {
	plain := []byte("\x05\x00\x00\x00\x03SELECT 1 FROM customers WHERE id = 42")
	for _, algo := range []string{"zlib", "zstd", ""} {
		f.Add(myCompressPackets(plain, 16, algo), algo == "zstd")
	}
	f.Fuzz(func(t *testing.T, b []byte, useZstd bool) {
		z := &myInflater{zstd: useZstd, deliver: func(_ time.Time, data []byte, miss int) {
			if miss < 0 || len(data)+miss > myMaxCompressed {
				t.Fatalf("handed on %d bytes and %d missing", len(data), miss)
			}
		}}
		half := len(b) / 2
		_ = z.feed(time.Time{}, b[:half], 3)
		_ = z.feed(time.Time{}, b[half:], 0)
	})
}
