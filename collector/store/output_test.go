package store

import (
	"context"
	"testing"
	"time"
)

// An output's cursor is absent until set, moves when set, and outlives
// the store being closed and opened again.
func TestOutputCursor(t *testing.T) {
	path := storeTarget(t)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, ok, err := st.OutputCursor(ctx, "webhook"); err != nil || ok || n != 0 {
		t.Fatalf("new output: %d %v %v", n, ok, err)
	}
	now := time.Unix(1000, 0)
	for _, n := range []int64{5, 9} {
		if err := st.SetOutputCursor(ctx, "webhook", n, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetOutputCursor(ctx, "syslog", 2, now); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, ok, err := st.OutputCursor(ctx, "webhook"); err != nil || !ok || n != 9 {
		t.Errorf("after reopening: webhook at %d %v %v, want 9", n, ok, err)
	}
	if n, _, _ := st.OutputCursor(ctx, "syslog"); n != 2 {
		t.Errorf("syslog at %d, want 2", n)
	}
	if n, err := st.LastAlertN(ctx); err != nil || n != 0 {
		t.Errorf("newest alert of an empty store: %d %v", n, err)
	}
}
