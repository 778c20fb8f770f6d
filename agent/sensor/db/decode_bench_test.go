package db

import "testing"

// A pgbench Query and a server answer, as the ring buffer delivers them.
func BenchmarkDecodeData(b *testing.B) {
	var recs [][]byte
	for _, p := range []string{
		"Q\x00\x00\x00\x50UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 56789;\x00",
		"C\x00\x00\x00\x0dUPDATE 1\x00Z\x00\x00\x00\x05T",
	} {
		recs = append(recs, dataRecord([]byte(p), uint32(len(p)), 0))
	}
	var sink int
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r, err := Decode(RecData, recs[i&1])
		if err != nil {
			b.Fatal(err)
		}
		sink += len(r.(*Data).Data)
	}
	_ = sink
}
