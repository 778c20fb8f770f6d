package rules

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

func TestFormatBytes(t *testing.T) {
	for n, want := range map[float64]string{
		0: "0 B", 1: "1 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 10240: "10 KiB",
		548683: "536 KiB", 1048576: "1 MiB", 3795576: "3.6 MiB", 12 << 20: "12 MiB", 1048575: "1024 KiB",
		10239: "10 KiB", 5 << 30: "5 GiB", -2048: "-2 KiB", 1 << 60: "1024 PiB",
	} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%v) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for sec, want := range map[float64]string{
		0: "0ms", 0.85: "850ms", 1: "1s", 4.5: "4.5s", 45: "45s", 59.96: "1m", 60: "1m", 185: "3m 5s",
		3599: "59m 59s", 3600: "1h", 45600: "12h 40m", 45629: "12h 40m", 86399: "24h", 86400: "1d",
		187200: "2d 4h", -90: "-1m 30s",
	} {
		if got := formatDuration(sec); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", sec, got, want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for n, want := range map[float64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 40000: "40,000", 1234567: "1,234,567", 2.5: "2.5",
		1234.56: "1,234.6", -12345: "-12,345", 0.04: "0", 12.656666666666666: "12.7",
	} {
		if got := formatNumber(n); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", n, got, want)
		}
	}
}

// The functions in a summary, where people read them.
func TestFormatFunctionsInSummaries(t *testing.T) {
	set, diags := Load(Source{Name: "f.hcl", Data: []byte(`
rule "r" {
  severity = "low"
  when     = kind == "db.query"
  summary  = "${number(db.rows)} rows, ${bytes(db.bytes)} in ${duration(db.duration_ms / 1000)} at ${clock(time, "Europe/London")} (${weekday(time, "UTC")} ${clock(time, "UTC")} UTC)"
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ev := event.Event{Kind: event.KindDBQuery, Time: time.Date(2026, 7, 7, 22, 39, 50, 0, time.UTC),
		DB: &event.DB{Rows: 40000, Bytes: 3795576, DurationMS: 45600500}}
	alerts := NewEngine(set, Options{}).Process(&ev)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts", len(alerts))
	}
	want := "40,000 rows, 3.6 MiB in 12h 40m at 23:39 (Tue 22:39 UTC)"
	if got := alerts[0].Alert.Summary; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestFormatFunctionArguments(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"bytes of a string", whenRule(`bytes(db.user) == "1 B"`),
			`t.hcl:3:20: error: Invalid function argument; Argument 1 of bytes must be a number, but this is a string. Usage: bytes(number): a byte count as text, such as "3.6 MiB".`},
		{"clock in no time zone", whenRule(`clock(time, "Mars/Olympus") == "10:00"`),
			`t.hcl:3:26: error: Unknown time zone; "Mars/Olympus" is not a time zone name like UTC or Europe/London.`},
	})
}
