package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Each case feeds one agent's events and loss reports to the store, as
// ingest does, and checks the loss rows left: every missing seq is in one
// row, under the reason that explains it.
//
// A step is "BOOT SEQ" (an event stored and tracked), "BOOT REASON
// FROM-TO" (a report naming the seqs it lost), "BOOT REASON xCOUNT" (a
// report naming none, as older agents send), "commit" or "rollback" (end
// the batch and start another). Rows and gaps read "BOOT REASON FROM-TO"
// ("BOOT REASON xCOUNT" unranged); gaps are those TrackSeq and ExplainLoss
// returned, in order; explained is what each ranged report explained.
func TestLossAccounting(t *testing.T) {
	for _, c := range []struct {
		name      string
		steps     []string
		rows      string
		gaps      []string
		explained []uint64
	}{
		{name: "in order", steps: []string{"b1 1", "b1 2", "b1 3"}},
		{name: "seq 0 is not numbered", steps: []string{"b1 0", "b1 1", "b1 0"}},
		{name: "first seq past 1", steps: []string{"b1 4"},
			rows: "b1 seq_gap 1-3", gaps: []string{"b1 seq_gap 1-3"}},
		{name: "gap", steps: []string{"b1 1", "b1 2", "b1 6"},
			rows: "b1 seq_gap 3-5", gaps: []string{"b1 seq_gap 3-5"}},
		{name: "two gaps in one batch", steps: []string{"b1 1", "b1 3", "b1 6"},
			rows: "b1 seq_gap 2-2, b1 seq_gap 4-5", gaps: []string{"b1 seq_gap 2-2", "b1 seq_gap 4-5"}},
		{name: "late event at the start of a gap", steps: []string{"b1 1", "b1 6", "b1 2"},
			rows: "b1 seq_gap 3-5", gaps: []string{"b1 seq_gap 2-5"}},
		{name: "late event at the end of a gap", steps: []string{"b1 1", "b1 6", "b1 5"},
			rows: "b1 seq_gap 2-4", gaps: []string{"b1 seq_gap 2-5"}},
		{name: "late event in the middle of a gap", steps: []string{"b1 1", "b1 6", "b1 3"},
			rows: "b1 seq_gap 2-2, b1 seq_gap 4-5", gaps: []string{"b1 seq_gap 2-5"}},
		{name: "late events fill a gap", steps: []string{"b1 1", "b1 4", "b1 3", "commit", "b1 2"},
			gaps: []string{"b1 seq_gap 2-3"}},
		{name: "a seq tracked twice fills once", steps: []string{"b1 1", "b1 4", "b1 2", "b1 2"},
			rows: "b1 seq_gap 3-3", gaps: []string{"b1 seq_gap 2-3"}},
		{name: "each boot has its own seqs", steps: []string{"b1 1", "b1 2", "b2 1", "b2 3", "b1 3"},
			rows: "b2 seq_gap 2-2", gaps: []string{"b2 seq_gap 2-2"}},
		{name: "the highest seq outlives its batch", steps: []string{"b1 1", "b1 2", "commit", "b1 5"},
			rows: "b1 seq_gap 3-4", gaps: []string{"b1 seq_gap 3-4"}},
		{name: "a rolled back batch leaves no highest seq", steps: []string{"b1 1", "commit", "b1 9", "rollback", "b1 2"},
			gaps: []string{"b1 seq_gap 2-8"}},

		{name: "report inside a gap splits its row", steps: []string{"b1 1", "b1 10", "b1 spool_full 4-6"},
			rows: "b1 seq_gap 2-3, b1 seq_gap 7-9, b1 spool_full 4-6", gaps: []string{"b1 seq_gap 2-9"}, explained: []uint64{3}},
		{name: "report covering a whole gap", steps: []string{"b1 1", "b1 5", "b1 spool_full 2-4"},
			rows: "b1 spool_full 2-4", gaps: []string{"b1 seq_gap 2-4"}, explained: []uint64{3}},
		{name: "report over two gaps and seqs that arrived", steps: []string{"b1 1", "b1 4", "b1 5", "b1 8", "b1 spool_full 3-6"},
			rows: "b1 seq_gap 2-2, b1 seq_gap 7-7, b1 spool_full 3-3, b1 spool_full 6-6",
			gaps: []string{"b1 seq_gap 2-3", "b1 seq_gap 6-7"}, explained: []uint64{2}},
		{name: "report of seqs that all arrived", steps: []string{"b1 1", "b1 2", "b1 3", "b1 4", "b1 spool_full 2-4"},
			explained: []uint64{0}},
		{name: "the same report twice explains once", steps: []string{"b1 1", "b1 10", "b1 spool_full 4-6", "commit", "b1 spool_full 4-6"},
			rows: "b1 seq_gap 2-3, b1 seq_gap 7-9, b1 spool_full 4-6", gaps: []string{"b1 seq_gap 2-9"}, explained: []uint64{3, 0}},
		{name: "late event inside an explained range", steps: []string{"b1 1", "b1 10", "b1 spool_full 4-6", "b1 5"},
			rows: "b1 seq_gap 2-3, b1 seq_gap 7-9, b1 spool_full 4-4, b1 spool_full 6-6", gaps: []string{"b1 seq_gap 2-9"}, explained: []uint64{3}},

		{name: "report right after the highest seq", steps: []string{"b1 1", "b1 2", "b1 spool_full 3-5", "b1 6"},
			rows: "b1 spool_full 3-5", explained: []uint64{3}},
		{name: "report beyond the highest seq", steps: []string{"b1 1", "b1 2", "b1 3", "b1 spool_full 5-8", "b1 9"},
			rows: "b1 seq_gap 4-4, b1 spool_full 5-8", gaps: []string{"b1 seq_gap 4-4"}, explained: []uint64{4}},
		{name: "report straddling the highest seq", steps: []string{"b1 1", "b1 2", "b1 5", "b1 spool_full 4-7"},
			rows: "b1 seq_gap 3-3, b1 spool_full 4-4, b1 spool_full 6-7", gaps: []string{"b1 seq_gap 3-4"}, explained: []uint64{3}},
		{name: "report beyond the highest seq, then an event inside it", steps: []string{"b1 1", "b1 spool_full 2-5", "commit", "b1 3"},
			rows: "b1 spool_full 2-2, b1 spool_full 4-5", explained: []uint64{4}},

		{name: "report of an earlier boot never seen", steps: []string{"b2 1", "b2 2", "b1 spool_full 5-7", "b1 2"},
			rows: "b1 seq_gap 1-1, b1 seq_gap 3-4, b1 spool_full 5-7", gaps: []string{"b1 seq_gap 1-4"}, explained: []uint64{3}},
		{name: "report of an earlier boot inside its gap", steps: []string{"b1 1", "b1 9", "b2 1", "b1 spool_full 3-4"},
			rows: "b1 seq_gap 2-2, b1 seq_gap 5-8, b1 spool_full 3-4", gaps: []string{"b1 seq_gap 2-8"}, explained: []uint64{2}},

		{name: "unranged records are left as they are", steps: []string{"b1 ringbuf_full x7", "b1 1", "b1 3", "b1 2", "b1 spool_full x2"},
			rows: "b1 ringbuf_full x7, b1 spool_full x2", gaps: []string{"b1 seq_gap 2-2"}},
		{name: "unranged records do not explain gaps", steps: []string{"b1 1", "b1 5", "b1 ringbuf_full x3"},
			rows: "b1 ringbuf_full x3, b1 seq_gap 2-4", gaps: []string{"b1 seq_gap 2-4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			gaps, explained := runLossSteps(t, st, c.steps)
			if got := lossRows(t, st); got != c.rows {
				t.Errorf("loss rows\n  %s\nwant\n  %s", got, c.rows)
			}
			if !slices.Equal(gaps, c.gaps) {
				t.Errorf("gaps returned %q, want %q", gaps, c.gaps)
			}
			if !slices.Equal(explained, c.explained) {
				t.Errorf("explained %v, want %v", explained, c.explained)
			}
		})
	}
}

// A report needs a range of seqs from 1 up; a bad one stores nothing.
func TestExplainLossRefusesBadRanges(t *testing.T) {
	st := openStore(t)
	for _, r := range [][2]uint64{{0, 3}, {5, 4}, {0, 0}} {
		tx, err := st.Begin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		l := Loss{Time: t0, AgentID: "ag-1", BootID: "b1", Reason: "spool_full", FromSeq: r[0], ToSeq: r[1], Count: 1}
		if n, gap, err := tx.ExplainLoss(l, t0); err == nil || n != 0 || gap != nil {
			t.Errorf("range %d-%d: explained %d, gap %v, error %v; want an error", r[0], r[1], n, gap, err)
		} else if !strings.Contains(err.Error(), "ag-1") {
			t.Errorf("range %d-%d: error %q does not name the agent", r[0], r[1], err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if got := lossRows(t, st); got != "" {
		t.Errorf("loss rows %s after bad reports, want none", got)
	}
}

// A gap is recorded with the event that showed it: when it was found, and
// where the agent is.
func TestTrackSeqGapRecord(t *testing.T) {
	st := openStore(t)
	found := t0.Add(42e9)
	var gap *Loss
	write(t, st, func(tx *Tx) error {
		if _, err := tx.TrackSeq(newEvent(1), found); err != nil {
			return err
		}
		var err error
		gap, err = tx.TrackSeq(newEvent(5), found)
		return err
	})
	want := Loss{Time: found, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1", Reason: ReasonSeqGap,
		Count: 3, FromSeq: 2, ToSeq: 4}
	if gap == nil || *gap != want {
		t.Fatalf("gap %+v, want %+v", gap, want)
	}
	stored, err := st.Losses(context.Background(), "ag-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	want.Pending = true // until confirmed: it may still fill
	if len(stored) != 1 || stored[0] != want {
		t.Fatalf("stored %+v, want %+v", stored, want)
	}
}

// A gap is pending until it has stayed open past the time given to
// ConfirmGaps, which returns it once; a gap filled before is never
// confirmed, and what the agent explains is confirmed loss at once; the
// pieces of a split gap keep its state.
func TestConfirmGaps(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	write(t, st, func(tx *Tx) error {
		for _, seq := range []uint64{1, 5, 10} { // gaps 2-4 and 6-9
			if _, err := tx.TrackSeq(newEvent(seq), t0); err != nil {
				return err
			}
		}
		return nil
	})
	write(t, st, func(tx *Tx) error {
		for _, seq := range []uint64{2, 3, 4, 7} { // 2-4 filled, 6-9 split around 7
			if _, err := tx.TrackSeq(newEvent(seq), t0.Add(time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	if got, err := st.ConfirmGaps(ctx, t0); err != nil || len(got) != 0 {
		t.Fatalf("confirmed before the grace ended: %+v %v", got, err)
	}
	got, err := st.ConfirmGaps(ctx, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, l := range got {
		n += l.Count
		if l.Pending || l.Reason != ReasonSeqGap {
			t.Errorf("confirmed %+v", l)
		}
	}
	if len(got) != 2 || n != 3 {
		t.Errorf("confirmed %+v, want 6-6 and 8-9", got)
	}
	if again, _ := st.ConfirmGaps(ctx, t0.Add(time.Hour)); len(again) != 0 {
		t.Errorf("confirmed twice: %+v", again)
	}
	losses, _ := st.Losses(ctx, "", 0)
	for _, l := range losses {
		if l.Pending {
			t.Errorf("still pending after confirmation: %+v", l)
		}
	}
}

// runLossSteps applies steps (see TestLossAccounting) in batches and
// commits the last.
func runLossSteps(t *testing.T, st *Store, steps []string) (gaps []string, explained []uint64) {
	t.Helper()
	ctx := context.Background()
	begin := func() *Tx {
		tx, err := st.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	tx := begin()
	defer func() { tx.Rollback() }()
	for _, s := range steps {
		f := strings.Fields(s)
		switch {
		case s == "commit" || s == "rollback":
			var err error
			if s == "commit" {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			tx = begin()
		case len(f) == 2:
			seq, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("step %q: %v", s, err)
			}
			ev := newEvent(seq)
			ev.ID, ev.BootID = event.MakeID(f[0], seq), f[0]
			gap, err := tx.TrackSeq(ev, t0)
			if err != nil {
				t.Fatalf("step %q: %v", s, err)
			}
			if gap != nil {
				gaps = append(gaps, formatLoss(*gap))
			}
		case len(f) == 3:
			l := Loss{Time: t0, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: f[0], Reason: f[1], Sensor: "spool"}
			if n, ok := strings.CutPrefix(f[2], "x"); ok {
				l.Count, _ = strconv.ParseUint(n, 10, 64)
				if err := tx.AddLoss(l); err != nil {
					t.Fatalf("step %q: %v", s, err)
				}
				continue
			}
			if _, err := fmt.Sscanf(f[2], "%d-%d", &l.FromSeq, &l.ToSeq); err != nil {
				t.Fatalf("step %q: %v", s, err)
			}
			l.Count = l.ToSeq - l.FromSeq + 1
			n, gap, err := tx.ExplainLoss(l, t0)
			if err != nil {
				t.Fatalf("step %q: %v", s, err)
			}
			explained = append(explained, n)
			if gap != nil {
				gaps = append(gaps, formatLoss(*gap))
			}
		default:
			t.Fatalf("step %q: not a step", s)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return gaps, explained
}

// lossRows lists ag-1's loss rows, sorted, checking that each is whole.
func lossRows(t *testing.T, st *Store) string {
	t.Helper()
	losses, err := st.Losses(context.Background(), "ag-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range losses {
		if l.ToSeq != 0 && l.Count != l.ToSeq-l.FromSeq+1 {
			t.Errorf("row %+v: count is not its range's", l)
		}
		if l.Site != "leeds" || l.Host != "ws1" || !l.Time.Equal(t0) {
			t.Errorf("row %+v: lost its site, host or time", l)
		}
		rows = append(rows, formatLoss(l))
	}
	slices.Sort(rows)
	return strings.Join(rows, ", ")
}

func formatLoss(l Loss) string {
	if l.ToSeq == 0 {
		return fmt.Sprintf("%s %s x%d", l.BootID, l.Reason, l.Count)
	}
	return fmt.Sprintf("%s %s %d-%d", l.BootID, l.Reason, l.FromSeq, l.ToSeq)
}

// An agent's loss is summed over every record, confirmed ones only.
func TestLostByAgent(t *testing.T) {
	st, err := Open(storeTarget(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1500 {
		if err := tx.AddLoss(Loss{Time: time.Unix(int64(i), 0), AgentID: "ag-1", BootID: "b", Reason: "ringbuf_full", Count: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.AddLoss(Loss{Time: time.Unix(9999, 0), AgentID: "ag-1", BootID: "b", Reason: ReasonSeqGap, Count: 40, FromSeq: 1, ToSeq: 40}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := st.LostByAgent(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got["ag-1"] != 3000 {
		t.Errorf("ag-1 lost %d, want 3000 (1500 records of 2; the pending gap not counted)", got["ag-1"])
	}
}
