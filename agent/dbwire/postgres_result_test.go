package dbwire

import "testing"

// With truncated capture every statement is still reported; counts are exact
// where the server's count was captured and a lower bound (Partial) where not.
func TestPostgresTruncated(t *testing.T) {
	chunks := loadFixture(t, "postgres_session.json")
	full, _ := replay(t, EnginePostgres, chunks, nil)
	for _, limit := range []int{4096, 1024, 256} {
		recs, tr := truncatedReplay(t, EnginePostgres, chunks, limit)
		assertNoMarker(t, recs)
		if len(recs) != len(full) {
			t.Fatalf("limit %d: %d records, want %d", limit, len(recs), len(full))
		}
		for i, r := range recs {
			f := full[i]
			if r.DB.Statement != f.DB.Statement || r.DB.ErrorCode != f.DB.ErrorCode {
				t.Errorf("limit %d record %d: %q %q, want %q %q", limit, i, r.DB.Statement, r.DB.ErrorCode, f.DB.Statement, f.DB.ErrorCode)
			}
			if r.DB.Rows > f.DB.Rows || !r.Partial && r.DB.Rows != f.DB.Rows {
				t.Errorf("limit %d %q: rows %d partial %v, want %d", limit, r.DB.Statement, r.DB.Rows, r.Partial, f.DB.Rows)
			}
			if r.RowsFromServer && r.DB.Rows != f.DB.Rows {
				t.Errorf("limit %d %q: server rows %d, want %d", limit, r.DB.Statement, r.DB.Rows, f.DB.Rows)
			}
			if r.DB.Bytes != f.DB.Bytes && !r.Partial {
				t.Errorf("limit %d %q: bytes %d, want %d", limit, r.DB.Statement, r.DB.Bytes, f.DB.Bytes)
			}
		}
		t.Logf("limit %d: %+v", limit, tr.Stats())
	}
}
