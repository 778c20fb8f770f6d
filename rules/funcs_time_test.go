package rules

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

func TestTimeFunctions(t *testing.T) {
	checkWhen(t, []whenCase{
		{`hour(time, "UTC") == 9.5`, event.Event{Time: t0.Add(30 * time.Minute)}, true},
		{`hour(time, "Asia/Kolkata") == 15`, event.Event{Time: t0.Add(30 * time.Minute)}, true},
		{`weekday(time, "UTC") == "Mon"`, event.Event{Time: t0}, true},
		{`weekday(time, "Pacific/Auckland") == "Mon"`, event.Event{Time: t0.Add(14 * time.Hour)}, false},
		{`within_hours(time, "08:00", "18:00", "UTC")`, event.Event{Time: t0}, true},
		{`within_hours(time, "22:00", "06:00", "UTC")`, event.Event{Time: t0.Add(-6 * time.Hour)}, true},
		{`within_hours(time, "22:00", "06:00", "UTC")`, event.Event{Time: t0}, false},
		{`within_hours(time, 9, 9.5, "UTC")`, event.Event{Time: t0.Add(29 * time.Minute)}, true},
		// The start is in the span and the end is not.
		{`within_hours(time, "09:00", "10:00", "UTC")`, event.Event{Time: t0}, true},
		{`within_hours(time, "08:00", "09:00", "UTC")`, event.Event{Time: t0}, false},
		{`within_hours(db.first_time, "08:00", "09:00", "UTC")`, event.Event{Time: t0, DB: &event.DB{FirstTime: t0.Add(-time.Hour)}}, true},
	})
}

func TestParseClock(t *testing.T) {
	for s, want := range map[string]float64{"08:30": 8.5, "0": 0, "24": 24, "23:59": 23 + 59.0/60, "7": 7} {
		if got, err := parseClock(s); err != nil || got != want {
			t.Errorf("parseClock(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "8:5", "25:00", "08:60", "-1", "8h", "08:30:00", "x:00"} {
		if _, err := parseClock(s); err == nil {
			t.Errorf("parseClock(%q) accepted", s)
		}
	}
}

func TestTimeFunctionArguments(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"empty time zone", whenRule(`hour(time, "") > 1`),
			`t.hcl:3:25: error: Unknown time zone; "" is not a time zone name like UTC or Europe/London.`},
		{"time zone read from the event", whenRule(`hour(time, db.user) > 1`),
			`t.hcl:3:25: error: Invalid function argument; Argument 2 of hour must be a constant time zone name (a literal, var or list), known when rules load.`},
		{"hour of a string", whenRule(`hour(db.user, "UTC") > 1`),
			`t.hcl:3:19: error: Invalid function argument; Argument 1 of hour must be a time (such as time), but this is a string.`},
		{"time of day read from the event", whenRule(`within_hours(time, db.user, "18:00", "UTC")`),
			`t.hcl:3:33: error: Invalid function argument; Argument 2 of within_hours must be a constant time of day (a literal, var or list), known when rules load.`},
		{"time of day as a bool", whenRule(`within_hours(time, "08:00", true, "UTC")`),
			`t.hcl:3:42: error: Invalid function argument; Argument 3 of within_hours must be a time of day like "08:30" or a number of hours, but this is a bool.`},
		{"minutes out of range", whenRule(`within_hours(time, "08:75", "18:00", "UTC")`),
			`t.hcl:3:33: error: Invalid time of day; "08:75" is not a time of day like "08:30".`},
	})
}
