package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// t0 is when the fixture's records were made; the server's clock reads
// an hour later.
var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// newServer serves a store holding two alerts (al-1 at leeds, high, citing
// a stored query and a missing event; al-2 at manila, low, 45 minutes
// later), their agents (ag-1 running, ag-2 stopped) and a loss record each.
func newServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q := &event.Event{ID: "b1-1", Time: t0, Kind: event.KindDBQuery, Site: "leeds", Host: "ws1", AgentID: "ag-1",
		BootID: "b1", Seq: 1, Process: &event.Process{PID: 10, User: "mona"},
		DB: &event.DB{Engine: "postgresql", Statement: "SELECT * FROM customers", Rows: 5000}}
	a1 := &event.Event{ID: "al-1", Time: t0, Kind: event.KindAlert, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Process: &event.Process{PID: 10, User: "mona"},
		Alert:   &event.Alert{Rule: "dump", Severity: event.SeverityHigh, Summary: "mona dumped customers", Evidence: []string{"b1-1", "b1-99"}}}
	a2 := &event.Event{ID: "al-2", Time: t0.Add(45 * time.Minute), Kind: event.KindAlert, Site: "manila", Host: "ws2",
		AgentID: "ag-2", BootID: "b2", Process: &event.Process{PID: 11, User: "ali"},
		Alert: &event.Alert{Rule: "usb", Severity: event.SeverityLow, Summary: "ali wrote to a USB stick", Evidence: []string{}}}
	hb := &event.Event{ID: "b1-hb", Kind: event.KindHeartbeat, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Heartbeat: &event.Heartbeat{IntervalS: 10, Sensors: []string{"db"}}}
	write(t, st, func(tx *store.Tx) error {
		body, _ := json.Marshal(q)
		if _, err := tx.PutEvent(q, body, t0); err != nil {
			return err
		}
		for _, al := range []*event.Event{a1, a2} {
			if _, err := tx.PutAlert(al, t0); err != nil {
				return err
			}
		}
		for _, ev := range []*event.Event{hb, a2} {
			if err := tx.SeenAgent(ev, t0); err != nil {
				return err
			}
		}
		for _, agent := range []string{"ag-1", "ag-2"} {
			if err := tx.AddLoss(store.Loss{Time: t0, AgentID: agent, BootID: "b", Reason: "ringbuf_full", Count: 3}); err != nil {
				return err
			}
		}
		return nil
	})
	live := liveness.New(liveness.Options{})
	live.Known("ag-1", "leeds", "ws1", "b1", hb.Heartbeat, t0)
	live.Known("ag-2", "manila", "ws2", "b2", &event.Heartbeat{IntervalS: 0}, t0)
	s := &Server{Auth: tokens(t), Store: st, Liveness: live, Metrics: metrics.New(nil), Hub: NewHub(),
		Now: func() time.Time { return t0.Add(time.Hour) }}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// adminToken is the token tokens made for the tests' requests.
var adminToken string

// tokens opens a token store whose first admin token the tests send.
func tokens(t *testing.T) *auth.Store {
	t.Helper()
	dir := t.TempDir()
	st, err := auth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, auth.AdminFile))
	if err != nil {
		t.Fatal(err)
	}
	adminToken = strings.TrimSpace(string(b))
	return st
}

func write(t *testing.T, st *store.Store, f func(tx *store.Tx) error) {
	t.Helper()
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// get fetches path and returns the status, the content type and the body.
func get(t *testing.T, hs *httptest.Server, path string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", hs.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// getJSON fetches path, wants 200 and decodes the body into v.
func getJSON(t *testing.T, hs *httptest.Server, path string, v any) {
	t.Helper()
	code, ctype, body := get(t, hs, path)
	if code != http.StatusOK || ctype != "application/json" {
		t.Fatalf("GET %s: %d %s %s", path, code, ctype, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

func alertIDs(list []store.Alert) string {
	var ids []string
	for _, a := range list {
		ids = append(ids, a.Event.ID)
	}
	return strings.Join(ids, " ")
}

func TestListAlerts(t *testing.T) {
	_, hs := newServer(t)
	for _, c := range []struct{ query, want string }{
		{"", "al-2 al-1"},
		{"?site=leeds", "al-1"},
		{"?host=ws2", "al-2"},
		{"?person=mona", "al-1"},
		{"?rule=usb", "al-2"},
		{"?agent_id=ag-1", "al-1"},
		{"?severity=medium", "al-1"},
		{"?since=30m", "al-2"},
		{"?since=2026-01-05T09:30:00Z", "al-2"},
		{"?since=2h", "al-2 al-1"},
		{"?limit=1", "al-2"},
		{"?after=0", "al-1 al-2"},
		{"?after=1", "al-2"},
		{"?site=leeds&rule=usb", ""},
	} {
		var list []store.Alert
		getJSON(t, hs, "/api/alerts"+c.query, &list)
		if got := alertIDs(list); got != c.want {
			t.Errorf("/api/alerts%s: %q, want %q", c.query, got, c.want)
		}
	}
	// No match is an empty list, not null: clients range over it.
	if _, _, body := get(t, hs, "/api/alerts?site=nowhere"); strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("no match: %s, want []", body)
	}
}

func TestBadQueryParameters(t *testing.T) {
	_, hs := newServer(t)
	for _, c := range []struct{ query, mention string }{
		{"severity=severe", "severity"},
		{"since=yesterday", "since"},
		{"limit=ten", "limit"},
		{"limit=-1", "limit"},
		{"after=last", "after"},
		{"wait=forever", "wait"},
	} {
		for _, path := range []string{"/api/alerts?", "/api/ocsf?"} {
			code, ctype, body := get(t, hs, path+c.query)
			var e struct{ Error string }
			json.Unmarshal(body, &e)
			if code != http.StatusBadRequest || ctype != "application/json" || !strings.Contains(e.Error, c.mention) {
				t.Errorf("%s%s: %d %s %s; want 400 with an error about %s", path, c.query, code, ctype, body, c.mention)
			}
		}
	}
}

func TestAlertDetail(t *testing.T) {
	_, hs := newServer(t)
	var d store.AlertDetail
	getJSON(t, hs, "/api/alerts/al-1", &d)
	if d.Event.ID != "al-1" || d.Person != "mona" || len(d.Evidence) != 1 || d.Evidence[0].ID != "b1-1" ||
		d.Evidence[0].DB.Statement != "SELECT * FROM customers" || strings.Join(d.Missing, " ") != "b1-99" {
		t.Fatalf("detail %+v, want al-1 with b1-1 stored and b1-99 missing", d)
	}
	code, ctype, body := get(t, hs, "/api/alerts/al-404")
	var e struct{ Error string }
	json.Unmarshal(body, &e)
	if code != http.StatusNotFound || ctype != "application/json" || !strings.Contains(e.Error, "al-404") {
		t.Fatalf("unknown alert: %d %s %s; want 404 naming al-404", code, ctype, body)
	}
}

func TestAgents(t *testing.T) {
	s, hs := newServer(t)
	var agents []store.Agent
	getJSON(t, hs, "/api/agents", &agents)
	var got []string
	for _, a := range agents {
		got = append(got, a.AgentID+" "+a.Status)
	}
	if strings.Join(got, ", ") != "ag-1 ok, ag-2 stopped" {
		t.Fatalf("agents %v, want ag-1 ok and ag-2 stopped", got)
	}
	if agents[0].Heartbeat == nil || agents[0].Heartbeat.IntervalS != 10 {
		t.Errorf("ag-1's heartbeat %+v, want the stored one", agents[0].Heartbeat)
	}
	// Without a tracker there is no status to give.
	bare := httptest.NewServer((&Server{Auth: s.Auth, Store: s.Store, Hub: NewHub()}).Handler())
	defer bare.Close()
	_, _, body := get(t, bare, "/api/agents")
	if bytes.Contains(body, []byte(`"status"`)) || bytes.Contains(body, []byte(`"site_bundle"`)) {
		t.Errorf("agents without a tracker or bundles: %s", body)
	}
}

// Each agent is listed beside its site's current rule bundle, and one not
// running it is said to be stale: ag-1 at leeds reports no rules mode (an
// agent too old to say) while leeds has bundle 3; manila has none, so ag-2
// is not stale.
func TestAgentsBundleState(t *testing.T) {
	s, _ := newServer(t)
	s.CurrentBundle = func(site string) uint64 { return map[string]uint64{"leeds": 3}[site] }
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	var agents []AgentState
	getJSON(t, hs, "/api/agents", &agents)
	var got []string
	for _, a := range agents {
		got = append(got, fmt.Sprintf("%s %d %v", a.AgentID, a.SiteBundle, a.BundleStale))
	}
	if strings.Join(got, ", ") != "ag-1 3 true, ag-2 0 false" {
		t.Errorf("agents %v, want ag-1 beside leeds's bundle 3, stale; ag-2 with none", got)
	}
}

func TestLoss(t *testing.T) {
	_, hs := newServer(t)
	for _, c := range []struct{ query, want string }{{"", "ag-2 ag-1"}, {"?agent_id=ag-1", "ag-1"}, {"?agent_id=ag-9", ""}} {
		var losses []store.Loss
		getJSON(t, hs, "/api/loss"+c.query, &losses)
		var got []string
		for _, l := range losses {
			got = append(got, l.AgentID)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("/api/loss%s: %v, want %s", c.query, got, c.want)
		}
	}
}

func TestOCSF(t *testing.T) {
	_, hs := newServer(t)
	findings := func(query string) []map[string]any {
		t.Helper()
		code, ctype, body := get(t, hs, "/api/ocsf"+query)
		if code != http.StatusOK || ctype != "application/x-ndjson" {
			t.Fatalf("/api/ocsf%s: %d %s %s", query, code, ctype, body)
		}
		var out []map[string]any
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			var f map[string]any
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Fatalf("line %s: %v", sc.Text(), err)
			}
			out = append(out, f)
		}
		return out
	}
	all := findings("")
	if len(all) != 2 {
		t.Fatalf("%d findings, want 2", len(all))
	}
	first := all[0]
	info, _ := first["finding_info"].(map[string]any)
	evidence, _ := first["evidences"].([]any)
	unmapped, _ := first["unmapped"].(map[string]any)
	if first["class_uid"] != float64(2004) || info["uid"] != "al-1" || len(evidence) != 1 ||
		fmt.Sprint(unmapped["missing_evidence"]) != "[b1-99]" {
		t.Errorf("first finding %v, want al-1 (oldest first) as class 2004 with its one stored event and b1-99 missing", first)
	}
	if got := findings("?after=1"); len(got) != 1 || got[0]["finding_info"].(map[string]any)["uid"] != "al-2" {
		t.Errorf("after 1: %v, want al-2 only", got)
	}
	if got := findings("?site=nowhere"); len(got) != 0 {
		t.Errorf("no match: %v", got)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s, hs := newServer(t)
	if code, _, body := get(t, hs, "/healthz"); code != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, _, body := get(t, hs, "/metrics"); code != http.StatusOK || !bytes.Contains(body, []byte("vigil_collector_messages_total")) {
		t.Errorf("/metrics: %d, body without vigil_collector_messages_total", code)
	}
	bare := httptest.NewServer((&Server{Auth: s.Auth, Store: s.Store, Hub: NewHub()}).Handler())
	defer bare.Close()
	if code, _, _ := get(t, bare, "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics without metrics: %d, want 404", code)
	}
}

func TestRoutes(t *testing.T) {
	_, hs := newServer(t)
	req, _ := http.NewRequest("POST", hs.URL+"/api/alerts", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/alerts: %d, want 405", resp.StatusCode)
	}
	if code, _, _ := get(t, hs, "/api/nothing"); code != http.StatusNotFound {
		t.Errorf("/api/nothing: %d, want 404", code)
	}
}

// A store that fails is a server error, said in JSON.
func TestStoreFailure(t *testing.T) {
	s, hs := newServer(t)
	s.Store.Close()
	for _, path := range []string{"/api/alerts", "/api/alerts/al-1", "/api/agents", "/api/loss", "/api/ocsf"} {
		code, ctype, body := get(t, hs, path)
		var e struct{ Error string }
		json.Unmarshal(body, &e)
		if code != http.StatusInternalServerError || ctype != "application/json" || e.Error == "" {
			t.Errorf("%s on a closed store: %d %s %s; want 500 with an error", path, code, ctype, body)
		}
	}
}

// A tailing request with nothing to return waits, and answers as soon as an
// alert is stored and announced.
func TestTailWaitsForAnAlert(t *testing.T) {
	s, hs := newServer(t)
	waiting := make(chan struct{})
	var once sync.Once
	s.waiting = func() { once.Do(func() { close(waiting) }) }
	type answer struct {
		list []store.Alert
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		// Well short of the 60 s wait: only the announcement can answer in time.
		client := &http.Client{Timeout: 20 * time.Second}
		req, _ := http.NewRequest("GET", hs.URL+"/api/alerts?after=2&wait=60s", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := client.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		var list []store.Alert
		err = json.NewDecoder(resp.Body).Decode(&list)
		got <- answer{list, err}
	}()
	select {
	case <-waiting:
	case a := <-got:
		t.Fatalf("answered %v, %v before any alert was stored", alertIDs(a.list), a.err)
	}
	a3 := &event.Event{ID: "al-3", Time: t0, Kind: event.KindAlert, Site: "leeds", Host: "ws1", AgentID: "ag-1",
		Alert: &event.Alert{Rule: "dump", Severity: event.SeverityHigh, Evidence: []string{}}}
	write(t, s.Store, func(tx *store.Tx) error { _, err := tx.PutAlert(a3, t0); return err })
	s.Hub.Notify()
	a := <-got
	if a.err != nil || alertIDs(a.list) != "al-3" {
		t.Fatalf("answered %q, %v; want al-3", alertIDs(a.list), a.err)
	}
}

// A wait that ends with nothing answers an empty list; a request that is
// not tailing never waits.
func TestTailWaitEnds(t *testing.T) {
	s, hs := newServer(t)
	s.waiting = func() {}
	var list []store.Alert
	getJSON(t, hs, "/api/alerts?after=2&wait=1ms", &list)
	if len(list) != 0 {
		t.Errorf("after the wait: %v", alertIDs(list))
	}
	s.waiting = func() { t.Error("a request that is not tailing waited") }
	getJSON(t, hs, "/api/alerts?site=nowhere&wait=60s", &list)
}

// A tailing request whose client goes away stops waiting and writes nothing.
func TestTailStopsWhenTheClientGoes(t *testing.T) {
	s, _ := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	s.waiting = cancel
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/alerts?after=2&wait=60s", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	done := make(chan struct{})
	go func() {
		s.Handler().ServeHTTP(rec, req)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler still waits after its client went")
	}
	if rec.Body.Len() != 0 {
		t.Errorf("wrote %q to a client that went", rec.Body.String())
	}
}

func TestParseFilter(t *testing.T) {
	now := t0.Add(time.Hour)
	r := httptest.NewRequest("GET", "/api/alerts?site=leeds&host=ws1&person=mona&rule=dump&agent_id=ag-1&severity=high&since=90m&limit=5&after=7&wait=10m", nil)
	f, wait, err := ParseFilter(r, now)
	if err != nil {
		t.Fatal(err)
	}
	want := store.AlertFilter{Site: "leeds", Host: "ws1", Person: "mona", Rule: "dump", AgentID: "ag-1", MinSeverity: "high",
		Since: now.Add(-90 * time.Minute), Tail: true, After: 7, Limit: 5}
	if f != want {
		t.Errorf("filter %+v, want %+v", f, want)
	}
	if wait != maxWait {
		t.Errorf("wait %v, want it held to %v", wait, maxWait)
	}
	f, wait, err = ParseFilter(httptest.NewRequest("GET", "/api/alerts", nil), now)
	if err != nil || f != (store.AlertFilter{}) || wait != 0 {
		t.Errorf("no parameters: %+v, %v, %v; want the zero filter", f, wait, err)
	}
}
