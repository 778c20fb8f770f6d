package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// peerRule compares each person's rows per 8h with the people at the same
// site over two weeks, from a floor of 500.
const peerRule = `
threshold "above_peers" {
  severity = "high"
  when     = kind == "db.query"
  by       = [site, person]
  peers    = [site]
  sum      = db.rows
  window   = "8h"
  baseline = "14d"
  factor   = 5
  limit    = 500
  summary  = "${person} read ${value} rows, peers ${baseline}"
}
`

func siteRead(site, person string, at time.Duration, rows uint64) *event.Event {
	ev := dbq(fmt.Sprintf("%s-%s-%d", site, person, at), person, at, rows)
	ev.Site = site
	return ev
}

// history feeds three days of each person reading rows per 8h period
// (one read at the start of each period), and returns the engine.
func history(t *testing.T, src, site string, rows map[string]uint64) *Engine {
	t.Helper()
	e := NewEngine(mustLoad(t, src), Options{})
	for p := range 9 {
		for person, n := range rows {
			if got := e.Process(siteRead(site, person, time.Duration(p)*8*time.Hour, n)); got != nil {
				t.Fatalf("alert while learning: %v", got[0].Alert.Summary)
			}
		}
	}
	return e
}

var fourPeople = map[string]uint64{"ann": 100, "bob": 120, "cat": 80, "dan": 110}

func TestPeersFarAbove(t *testing.T) {
	e := history(t, peerRule, "leeds", fourPeople)
	at := 9*8*time.Hour + time.Hour
	if got := e.Process(siteRead("leeds", "bob", at, 400)); got != nil {
		t.Fatalf("400 rows, under the floor, alerted: %v", got[0].Alert.Summary)
	}
	got := e.Process(siteRead("leeds", "ann", at, 600))
	if len(got) != 1 {
		t.Fatalf("600 rows against a median of 105 raised %d alerts", len(got))
	}
	a := got[0].Alert
	if a.Value != 600 || a.Group["site"] != "leeds" || a.Group["person"] != "ann" || a.Summary != "ann read 600 rows, peers 105" {
		t.Errorf("alert %+v", a)
	}
}

func TestPeersNotFarAbove(t *testing.T) {
	// A site whose people read a lot: 600 is ordinary there.
	e := history(t, peerRule, "manila", map[string]uint64{"eve": 500, "fay": 700, "gus": 550, "hal": 650})
	if got := e.Process(siteRead("manila", "eve", 9*8*time.Hour+time.Hour, 900)); got != nil {
		t.Errorf("900 rows against a median of 600 alerted: %v", got[0].Alert.Summary)
	}
}

func TestPeersAreTheSameSite(t *testing.T) {
	e := history(t, peerRule, "leeds", fourPeople)
	// Nobody at manila has history: a heavy reader there has no peers yet.
	if got := e.Process(siteRead("manila", "ivy", 9*8*time.Hour+time.Hour, 5000)); got != nil {
		t.Errorf("a person at a site without peers alerted: %v", got[0].Alert.Summary)
	}
}

func TestPeersNeedEnoughPeopleAndHistory(t *testing.T) {
	// Two peers besides the one judged are not enough (min_peers is 3).
	e := history(t, peerRule, "leeds", map[string]uint64{"ann": 100, "bob": 120, "cat": 80})
	if got := e.Process(siteRead("leeds", "ann", 9*8*time.Hour+time.Hour, 5000)); got != nil {
		t.Errorf("alert with two peers: %v", got[0].Alert.Summary)
	}
	// One period of history is not the three windows min_history asks.
	e = NewEngine(mustLoad(t, peerRule), Options{})
	for person, n := range fourPeople {
		e.Process(siteRead("leeds", person, 0, n))
	}
	if got := e.Process(siteRead("leeds", "ann", 8*time.Hour+time.Hour, 5000)); got != nil {
		t.Errorf("alert after one period: %v", got[0].Alert.Summary)
	}
}

func TestPeersDistinct(t *testing.T) {
	src := `
threshold "customers_above_peers" {
  severity  = "high"
  when      = kind == "db.query"
  by        = [site, person]
  peers     = [site]
  distinct  = db.identifiers["customer_id"]
  window    = "8h"
  baseline  = "7d"
  factor    = 5
  min_peers = 2
  limit     = 20
}
`
	e := NewEngine(mustLoad(t, src), Options{})
	lookup := func(person string, at time.Duration, customer int) *event.Event {
		ev := siteRead("leeds", person, at, 1)
		ev.DB.Identifiers = map[string][]string{"customer_id": {fmt.Sprint(customer)}}
		return ev
	}
	for p := range 6 {
		for _, person := range []string{"ann", "bob", "cat"} {
			for c := range 5 {
				e.Process(lookup(person, time.Duration(p)*8*time.Hour+time.Duration(c)*time.Minute, p*100+c))
			}
		}
	}
	var got []event.Event
	for c := range 30 {
		got = append(got, e.Process(lookup("ann", 6*8*time.Hour+time.Duration(c)*time.Minute, 1000+c))...)
	}
	if len(got) != 1 || got[0].Alert.Value != 26 {
		t.Fatalf("want one alert at the 26th distinct customer (above 5 times the peers' 5), got %d: %+v", len(got), got[0].Alert)
	}
}

func TestPeersUpdateWithoutAllocating(t *testing.T) {
	e := history(t, peerRule, "leeds", fourPeople)
	ev := siteRead("leeds", "ann", 9*8*time.Hour, 1)
	e.Process(ev)
	if n := testing.AllocsPerRun(200, func() {
		ev.Time = ev.Time.Add(time.Second)
		if e.Process(ev) != nil {
			t.Fatal("unexpected alert")
		}
	}); n != 0 {
		t.Errorf("%.1f allocations per event", n)
	}
}

func TestPeersErrors(t *testing.T) {
	peers := func(attrs string) string {
		return "threshold \"t\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = [site, person]\n  window = \"8h\"\n  limit = 1\n" + attrs + "}\n"
	}
	checkRejects(t, []rejectCase{
		{"peers without a baseline", peers("  peers = [site]\n"),
			`t.hcl:7:3: error: Needs baseline; peers only applies to thresholds with a baseline.`},
		{"a key not in by", peers("  baseline = \"7d\"\n  peers = [host]\n"),
			`t.hcl:8:12: error: Invalid peers; "host" is not one of the by keys (site, person).`},
		{"every key", peers("  baseline = \"7d\"\n  peers = [site, person]\n"),
			`t.hcl:8:11: error: Invalid peers; peers must leave at least one by key to tell the peers apart`},
		{"min_peers without peers", peers("  baseline = \"7d\"\n  min_peers = 2\n"),
			`t.hcl:8:3: error: Needs peers; min_peers only applies to thresholds with peers.`},
		{"min_peers of none", peers("  baseline = \"7d\"\n  peers = [site]\n  min_peers = 0\n"),
			`t.hcl:9:15: error: Invalid min_peers; min_peers must be a whole number, 1 or more.`},
		{"distinct baseline of its own", peers("  baseline = \"7d\"\n  distinct = db.user\n"),
			`t.hcl:7:3: error: Unsupported baseline; baseline works with count and sum, not distinct (distinct works with peers).`},
	})
}

// A period's baseline keeps at most MaxGroups people; one more is counted,
// never dropped silently.
func TestPeersFullPeriodCounted(t *testing.T) {
	e := NewEngine(mustLoad(t, peerRule), Options{MaxGroups: 3})
	for _, person := range []string{"ann", "bob", "cat", "dan", "eve"} {
		e.Process(siteRead("leeds", person, time.Hour, 100))
	}
	if s := e.Stats().Rules["above_peers"]; s.PeersDropped == 0 {
		t.Errorf("five people in a period bounded to 3: stats %+v", s)
	}
}

// Sets of peers that come and go (a site per day, each read once) are
// forgotten once their people's values have left the baseline: the engine
// holds the peers of the baseline, not of every site ever seen.
func TestPeersForgottenWithTheirGroups(t *testing.T) {
	e := NewEngine(mustLoad(t, peerRule), Options{})
	const days = 60
	for d := range days {
		e.Process(siteRead(fmt.Sprintf("site-%d", d), "ann", time.Duration(d)*24*time.Hour, 10))
	}
	st := e.active[0].st
	// 14 days of baseline and an 8 h window: the sites of the last 15 days
	// at most may still be held.
	if len(st.cohorts) > 15 || len(st.groups) > 15 {
		t.Errorf("%d sets of peers and %d groups held after %d sites came and went, want at most 15",
			len(st.cohorts), len(st.groups), days)
	}
	// A site seen again later starts afresh and is judged as before.
	if got := e.Process(siteRead("site-0", "ann", days*24*time.Hour, 5000)); got != nil {
		t.Errorf("a returning site without history alerted: %v", got[0].Alert.Summary)
	}
}
