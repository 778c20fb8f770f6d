package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/vigilhq/vigil/event"
)

// measures are what the person page sums of one event, kept in columns of
// its row so that the page reads an index, not the events' bodies. They
// follow from the body, which the chain holds: verify derives them again
// and names a row whose columns say otherwise.
type measures struct {
	rows   int64 // a statement's rows
	upload int64 // an outbound connection's bytes sent
	export int64 // bytes written to removable media
	// idents is the statement's distinct identifier hashes as a sorted JSON
	// list, nil for none.
	idents any
}

// measureCols are the events columns measures fill, in values' order.
var measureCols = []string{"db_rows", "upload_bytes", "export_bytes", "idents"}

func (m measures) values() []any { return []any{m.rows, m.upload, m.export, m.idents} }

// clampInt64 keeps a counter that does not fit a SQLite integer at its
// largest rather than wrapping it negative.
func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// eventMeasures are ev's measures.
func eventMeasures(ev *event.Event) measures {
	var m measures
	switch {
	case ev.Kind == event.KindDBQuery && ev.DB != nil:
		m.rows = clampInt64(ev.DB.Rows)
		var ids []string
		for _, hs := range ev.DB.Identifiers {
			ids = append(ids, hs...)
		}
		if len(ids) > 0 {
			slices.Sort(ids)
			b, _ := json.Marshal(slices.Compact(ids)) // a list of strings always encodes
			m.idents = string(b)
		}
	case ev.Kind == event.KindNetTransfer && ev.Net != nil && ev.Net.Direction == "outbound":
		m.upload = clampInt64(ev.Net.BytesSent)
	case ev.Kind == event.KindFileWrite && ev.File != nil && ev.File.Removable:
		m.export = clampInt64(ev.File.Bytes)
	}
	return m
}

// bodyMeasures are the measures of a stored body; a body that does not
// parse (the collector stores none) measures nothing, both when the
// columns are filled and when verify checks them.
func bodyMeasures(body []byte) measures {
	var ev event.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return measures{}
	}
	return eventMeasures(&ev)
}

// measureMismatch names the first of vals (an events row's measure
// columns) that differs from the measures of its body (as read, a blob or
// a text), "" for none.
func measureMismatch(body any, vals []any) string {
	var b []byte
	switch body := body.(type) {
	case []byte:
		b = body
	case string:
		b = []byte(body)
	}
	want := bodyMeasures(b).values()
	for i, c := range measureCols {
		if string(appendValue(nil, vals[i])) != string(appendValue(nil, want[i])) {
			return fmt.Sprintf("its column %s holds %v, but its body says %v", c, shown(vals[i]), shown(want[i]))
		}
	}
	return ""
}

func shown(v any) any {
	if v == nil {
		return "nothing"
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// fillRun is how many events fillMeasures reads at a time.
var fillRun = 10000

// fillMeasures sets the measure columns of the events stored before they
// existed, from their bodies, a bounded run of rows at a time.
func fillMeasures(ctx context.Context, tx *sql.Tx) error {
	st, err := tx.PrepareContext(ctx, `UPDATE events SET db_rows = ?, upload_bytes = ?, export_bytes = ?, idents = ? WHERE n = ?`)
	if err != nil {
		return fmt.Errorf("measuring stored events: %w", err)
	}
	defer st.Close()
	type row struct {
		n int64
		m measures
	}
	for after := int64(math.MinInt64); ; {
		rows, err := tx.QueryContext(ctx, `SELECT n, body FROM events WHERE n > ? ORDER BY n LIMIT ?`, after, fillRun)
		if err != nil {
			return fmt.Errorf("reading events to measure: %w", err)
		}
		var todo []row
		read := 0
		for rows.Next() {
			var r row
			var body []byte
			if err := rows.Scan(&r.n, &body); err != nil {
				rows.Close()
				return fmt.Errorf("reading events to measure after row %d: %w", after, err)
			}
			read, after = read+1, r.n
			if r.m = bodyMeasures(body); r.m != (measures{}) {
				todo = append(todo, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading events to measure: %w", err)
		}
		for _, r := range todo {
			if _, err := st.ExecContext(ctx, append(r.m.values(), r.n)...); err != nil {
				return fmt.Errorf("measuring stored event %d: %w", r.n, err)
			}
		}
		if read == 0 {
			return nil
		}
	}
}
