package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// Triage moves an alert open → acknowledged → closed (with a reason) and
// back; each action is in the audit log with who and when; a note changes
// nothing but the log; bad actions and unknown alerts change nothing.
func TestTriage(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	putAlerts(t, st, t0, newAlert("al-1", "dump", event.SeverityHigh), newAlert("al-2", "usb", event.SeverityLow))
	if tr, err := st.TriageOf(ctx, "al-1"); err != nil || tr.Status != StatusOpen {
		t.Fatalf("an untriaged alert: %+v %v", tr, err)
	}
	steps := []struct {
		a    TriageAction
		want string
	}{
		{TriageAction{Action: ActAcknowledge}, StatusAcknowledged},
		{TriageAction{Action: ActNote, Note: "asked the customer"}, StatusAcknowledged},
		{TriageAction{Action: ActAssign, Assignee: "ben"}, StatusAcknowledged},
		{TriageAction{Action: ActClose, Reason: "benign", Note: "planned migration"}, StatusClosed},
	}
	for i, s := range steps {
		tr, err := st.Triage(ctx, "al-1", "ana", s.a, t0.Add(time.Duration(i)*time.Minute))
		if err != nil || tr.Status != s.want {
			t.Fatalf("%+v: %+v %v, want %s", s.a, tr, err, s.want)
		}
	}
	tr, _ := st.TriageOf(ctx, "al-1")
	if tr != (Triage{Status: StatusClosed, Reason: "benign", Assignee: "ben", By: "ana", At: t0.Add(3 * time.Minute)}) {
		t.Errorf("stored: %+v", tr)
	}
	for _, bad := range []TriageAction{{Action: ActClose}, {Action: ActClose, Reason: "meh"}, {Action: "delete"},
		{Action: ActNote}, {Action: ActAssign}, {Action: ActNote, Note: strings.Repeat("x", maxNote+1)}} {
		if _, err := st.Triage(ctx, "al-1", "ana", bad, t0); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := st.Triage(ctx, "al-1", "", TriageAction{Action: ActReopen}, t0); err == nil {
		t.Error("triage by no one accepted")
	}
	if _, err := st.Triage(ctx, "nope", "ana", TriageAction{Action: ActAcknowledge}, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown alert: %v, want not found", err)
	}
	log, err := st.AuditLog(ctx, "al-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.At.Format("15:04")+" "+e.Actor+" "+e.Action+" "+e.Detail)
	}
	want := "09:03 ana close benign: planned migration|09:02 ana assign ben|09:01 ana note asked the customer|09:00 ana acknowledge "
	if strings.Join(got, "|") != want {
		t.Errorf("audit log:\n got %q\nwant %q", strings.Join(got, "|"), want)
	}
	if all, _ := st.AuditLog(ctx, "", 0); len(all) != 4 {
		t.Errorf("%d audit entries in all, want 4", len(all))
	}
}

// The queue filters by status and counts by severity; a status filter
// that names no status is an error, not everything.
func TestAlertsByStatus(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	putAlerts(t, st, t0, newAlert("al-1", "dump", event.SeverityHigh), newAlert("al-2", "usb", event.SeverityLow),
		newAlert("al-3", "dump", event.SeverityHigh))
	if _, err := st.Triage(ctx, "al-1", "ana", TriageAction{Action: ActClose, Reason: "true_positive"}, t0); err != nil {
		t.Fatal(err)
	}
	ids := func(f AlertFilter) string {
		t.Helper()
		list, err := st.Alerts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.Event.ID+"="+a.Status)
		}
		return strings.Join(out, " ")
	}
	for f, want := range map[AlertFilter]string{
		{}:                     "al-3=open al-2=open al-1=closed",
		{Status: StatusOpen}:   "al-3=open al-2=open",
		{Status: StatusClosed}: "al-1=closed",
		{Status: StatusOpen, MinSeverity: "high"}: "al-3=open",
		{Status: StatusAcknowledged}:              "",
		{Tail: true, Status: StatusOpen}:          "al-2=open al-3=open",
	} {
		if got := ids(f); got != want {
			t.Errorf("%+v: %q, want %q", f, got, want)
		}
	}
	if _, err := st.Alerts(ctx, AlertFilter{Status: "gone"}); err == nil {
		t.Error("an unknown status selects")
	}
	counts, err := st.SeverityCounts(ctx, AlertFilter{Status: StatusOpen, MinSeverity: "critical"})
	if err != nil || counts["high"] != 1 || counts["low"] != 1 || len(counts) != 2 {
		t.Errorf("open alerts by severity: %v %v", counts, err)
	}
	d, err := st.AlertByID(ctx, "al-1")
	if err != nil || d.Status != StatusClosed {
		t.Errorf("AlertByID's status: %+v %v", d, err)
	}
}
