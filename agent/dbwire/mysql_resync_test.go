package dbwire

import "testing"

func TestMySQLMidStream(t *testing.T) {
	chunks := loadFixture(t, "mysql_session.json")
	full, _ := replay(t, EngineMySQL, chunks, nil)
	for skip := 1; skip < len(chunks); skip++ {
		recs, _ := replay(t, EngineMySQL, chunks[skip:], nil)
		if !chunks[skip].FromClient {
			// Mid-response: MySQL answers carry no statement, so reporting
			// starts at the next command.
			assertNoMarker(t, recs)
			continue
		}
		assertNoMarker(t, recs)
		first := chunks[skip].Time
		var want []string
		for _, f := range full {
			if f.Start.After(first) {
				want = append(want, f.DB.Statement)
			}
		}
		j := 0
		var got []string
		for _, r := range recs {
			got = append(got, r.DB.Statement)
			if j < len(want) && (r.DB.Statement == want[j] || r.DB.Statement == "") {
				j++
			}
		}
		if j != len(want) {
			t.Errorf("skip %d: got %q, want to include %q", skip, got, want)
		}
	}
}
