package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// al is an alert for the grouping tests: id, person, host, rule, severity,
// minutes after t0; session is its login session.
func al(id, person, host, rule, sev string, minutes int, session uint32) Alert {
	ev := newAlert(id, rule, sev)
	ev.Host, ev.Time = host, t0.Add(time.Duration(minutes)*time.Minute)
	ev.Process = &event.Process{User: person, Session: session}
	return Alert{Person: person, Event: ev}
}

// show writes cases as "id[alert ids] person|session hosts rules severity".
func show(cases []Case) string {
	var out []string
	for _, c := range cases {
		who := c.Person
		if who == "" {
			who = "session " + c.Session
		}
		out = append(out, fmt.Sprintf("%s[%s] %s %s %s %s", c.ID, strings.Join(c.AlertIDs, ","), who,
			strings.Join(c.Hosts, ","), strings.Join(c.Rules, ","), c.Severity))
	}
	return strings.Join(out, "; ")
}

func TestGroupCases(t *testing.T) {
	for _, c := range []struct {
		name   string
		alerts []Alert
		want   string
	}{
		{"none", nil, ""},
		{"one pg_dump, five alerts, one case", []Alert{
			al("a1", "mona", "ws1", "db_dump", "high", 0, 7), al("a2", "mona", "ws1", "bulk_read", "medium", 0, 7),
			al("a3", "mona", "ws1", "csv_write", "low", 1, 7), al("a4", "mona", "ws1", "upload", "high", 2, 7),
			al("a5", "mona", "ws1", "dump_then_upload", "critical", 2, 7)},
			"a1[a1,a2,a3,a4,a5] mona ws1 db_dump,bulk_read,csv_write,upload,dump_then_upload critical"},
		{"two people at once are two cases, newest first", []Alert{
			al("a1", "mona", "ws1", "r", "high", 0, 7), al("a2", "ali", "ws1", "r", "low", 5, 9)},
			"a2[a2] ali ws1 r low; a1[a1] mona ws1 r high"},
		{"two quiet hours part the cases", []Alert{
			al("a1", "mona", "ws1", "r", "high", 0, 7), al("a2", "mona", "ws1", "r", "low", 120, 7)},
			"a2[a2] mona ws1 r low; a1[a1] mona ws1 r high"},
		// Spreading the work out, each step inside the gap of the last,
		// keeps it one case however long it runs.
		{"steps each under the gap chain into one case", []Alert{
			al("a1", "mona", "ws1", "r1", "low", 0, 7), al("a2", "mona", "ws1", "r2", "low", 110, 7),
			al("a3", "mona", "ws1", "r3", "medium", 220, 7), al("a4", "mona", "ws1", "r4", "low", 330, 7)},
			"a1[a1,a2,a3,a4] mona ws1 r1,r2,r3,r4 medium"},
		// Moving to another host does not start a new case.
		{"one person on two hosts is one case", []Alert{
			al("a1", "mona", "ws1", "dump", "high", 0, 7), al("a2", "mona", "jump2", "upload", "high", 30, 3)},
			"a1[a1,a2] mona ws1,jump2 dump,upload high"},
		{"out of arrival order, grouped by time", []Alert{
			al("a3", "mona", "ws1", "r", "low", 60, 7), al("a1", "mona", "ws1", "r", "high", 0, 7)},
			"a1[a1,a3] mona ws1 r high"},
		{"no person: by login session on the host", []Alert{
			al("a1", "", "ws1", "r", "low", 0, 7), al("a2", "", "ws1", "r", "low", 10, 7),
			al("a3", "", "ws1", "r", "low", 20, 8), al("a4", "", "ws2", "r", "low", 30, 7)},
			"a4[a4] session ws2/7 ws2 r low; a3[a3] session ws1/8 ws1 r low; a1[a1,a2] session ws1/7 ws1 r low"},
		{"no person, no session: each alone", []Alert{
			al("a1", "", "ws1", "r", "low", 0, 0), al("a2", "", "ws1", "r", "low", 1, 0)},
			"a2[a2] session  ws1 r low; a1[a1] session  ws1 r low"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := show(GroupCases(c.alerts, CaseGap)); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// A dump run through sudo as postgres is still the person who logged in:
// it joins their case, and the case's evidence holds each event once,
// oldest first, naming the rules that cite it.
func TestCaseOf(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	q := &event.Event{ID: "b1-1", Time: t0, Kind: event.KindDBQuery, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1", Seq: 1}
	f := &event.Event{ID: "b1-2", Time: t0.Add(time.Minute), Kind: event.KindFileWrite, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1", Seq: 2}
	putEvents(t, st, t0, f, q)
	dump := newAlert("al-1", "db_dump", "high", "b1-1")
	dump.Process = &event.Process{User: "postgres", LoginUID: 1001, LoginUser: "mona", Session: 7}
	write := newAlert("al-2", "csv_write", "medium", "b1-1", "b1-2", "b1-9")
	write.Time = t0.Add(time.Minute)
	write.Process = &event.Process{User: "mona", LoginUID: 1001, LoginUser: "mona", Session: 7}
	other := newAlert("al-3", "usb", "low")
	other.Process = &event.Process{User: "ali", LoginUID: 1002, LoginUser: "ali", Session: 9}
	later := newAlert("al-4", "usb", "low")
	later.Time = t0.Add(5 * time.Hour)
	putAlerts(t, st, t0, dump, write, other, later)

	cases, err := st.Cases(ctx, AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(cases), "al-4[al-4] mona ws1 usb low; al-1[al-1,al-2] mona ws1 db_dump,csv_write high; al-3[al-3] ali ws1 usb low"; got != want {
		t.Errorf("cases:\n got %s\nwant %s", got, want)
	}
	for _, id := range []string{"al-1", "al-2"} {
		d, err := st.CaseOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var ev []string
		for _, e := range d.Evidence {
			ev = append(ev, e.ID)
		}
		if d.ID != "al-1" || len(d.AlertList) != 2 || strings.Join(ev, ",") != "b1-1,b1-2" ||
			strings.Join(d.Missing, ",") != "b1-9" || strings.Join(d.CitedBy["b1-1"], ",") != "db_dump,csv_write" {
			t.Errorf("case of %s: id %s, %d alerts, evidence %v, missing %v, b1-1 cited by %v", id, d.ID, len(d.AlertList), ev, d.Missing, d.CitedBy["b1-1"])
		}
	}
	if _, err := st.CaseOf(ctx, "al-9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("case of an unknown alert: %v, want not found", err)
	}
}
