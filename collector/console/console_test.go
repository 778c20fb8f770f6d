package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// serve returns the console's handler over a store holding one alert
// (al-1, high, citing a stored statement and a missing event), with every
// request made as principal p.
func serve(t *testing.T, p auth.Principal) (*store.Store, http.Handler) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q := &event.Event{ID: "b1-1", Time: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), Kind: event.KindDBQuery, Site: "leeds",
		Host: "ws1", AgentID: "ag-1", BootID: "b1", Seq: 1, Process: &event.Process{PID: 10, User: "mona"},
		DB: &event.DB{Engine: "postgresql", Command: "SELECT", Statement: "SELECT * FROM customers WHERE id = ?", Rows: 5000, Bytes: 2048}}
	al := &event.Event{ID: "al-1", Time: q.Time, Kind: event.KindAlert, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Process: &event.Process{PID: 10, User: "mona"}, Alert: &event.Alert{Rule: "dump", Severity: event.SeverityHigh,
			Summary: "mona read <5000> customers", Evidence: []string{"b1-1", "b1-99"}}}
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.PutEvent(q, body, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.PutAlert(al, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	h, err := (&Server{Store: st}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	return st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func do(h http.Handler, method, path string, form url.Values) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The detail page escapes what agents sent (a summary is not markup),
// shows the evidence and names the missing, records the read, and is not
// cached; a bad triage form is refused with why, and changes nothing.
func TestDetailAndTriageForm(t *testing.T) {
	st, h := serve(t, auth.Principal{Name: "ana", Role: auth.RoleAnalyst, Person: true})
	w := do(h, "GET", "/alerts/al-1", nil)
	body := w.Body.String()
	if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("detail: %d %v", w.Code, w.Header())
	}
	// Scripts and styles only from the collector, and no framing: a
	// summary that slipped through escaping still could not load or run
	// anything from elsewhere, nor the page be framed to trick a click.
	if csp := w.Header().Get("Content-Security-Policy"); csp != "default-src 'self'; frame-ancestors 'none'" ||
		w.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("detail page headers: CSP %q, X-Frame-Options %q", csp, w.Header().Get("X-Frame-Options"))
	}
	for _, want := range []string{"mona read &lt;5000&gt; customers", "SELECT * FROM customers WHERE id = ?", "5000 rows, 2.0 KiB",
		"b1-99"} {
		if !strings.Contains(body, want) {
			t.Errorf("the detail page lacks %q", want)
		}
	}
	if log, _ := st.AuditLog(context.Background(), "al-1", 0); len(log) != 1 || log[0].Actor != "ana" || log[0].Action != "view_evidence" {
		t.Errorf("audit after a read: %+v", log)
	}
	if w := do(h, "GET", "/alerts/nope", nil); w.Code != 404 {
		t.Errorf("an unknown alert: %d", w.Code)
	}
	if w := do(h, "POST", "/alerts/al-1/triage", url.Values{"action": {"close"}, "reason": {"bored"}}); w.Code != 400 ||
		!strings.Contains(w.Body.String(), "true_positive") {
		t.Errorf("a close with a made-up reason: %d %q", w.Code, w.Body)
	}
	if tr, _ := st.TriageOf(context.Background(), "al-1"); tr.Status != store.StatusOpen {
		t.Errorf("a refused form triaged: %+v", tr)
	}
	w = do(h, "POST", "/alerts/al-1/triage", url.Values{"action": {"assign"}, "assignee": {"ben"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/alerts/al-1" {
		t.Errorf("assign: %d %v", w.Code, w.Header())
	}
	if tr, _ := st.TriageOf(context.Background(), "al-1"); tr.Assignee != "ben" || tr.By != "ana" {
		t.Errorf("after assigning: %+v", tr)
	}
}

// The queue's rows fragment (what the page polls) filters by status and
// severity and refuses a filter it does not know.
func TestRowsFilter(t *testing.T) {
	_, h := serve(t, auth.Principal{Name: "ana", Role: auth.RoleAnalyst, Person: true})
	if w := do(h, "GET", "/alerts/rows?status=open&severity=high", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `data-id="al-1"`) {
		t.Errorf("open high alerts: %d %s", w.Code, w.Body)
	}
	if w := do(h, "GET", "/alerts/rows?status=closed", nil); w.Code != 200 || strings.Contains(w.Body.String(), `data-id="al-1"`) {
		t.Errorf("closed alerts: %d %s", w.Code, w.Body)
	}
	for _, bad := range []string{"status=gone", "severity=urgent", "since=yesterday"} {
		if w := do(h, "GET", "/alerts/rows?"+bad, nil); w.Code != 400 {
			t.Errorf("%s: %d, want 400", bad, w.Code)
		}
	}
}

// The templates' describe is the words collector/evidence uses.
func TestDescribe(t *testing.T) {
	describe := funcs["describe"].(func(*event.Event) string)
	for _, c := range []struct {
		ev   *event.Event
		want string
	}{
		{&event.Event{Kind: event.KindFileWrite, File: &event.File{Path: "/media/usb/x.csv", Bytes: 3 << 20, FSType: "vfat", Mount: "/media/usb", Removable: true}},
			"wrote 3.0 MiB to /media/usb/x.csv (vfat on /media/usb, removable media)"},
		{&event.Event{Kind: event.KindNetTransfer, Net: &event.Net{Proto: "tcp", Direction: "outbound", DstIP: "198.51.100.7", DstPort: 22, BytesSent: 10}},
			"outbound tcp to 198.51.100.7:22: 10 B sent, 0 B received"},
		{&event.Event{Kind: event.KindDBSession, DB: &event.DB{Engine: "mysql", Server: "10.0.0.5:3306", User: "app", Encrypted: true}},
			"mysql session to 10.0.0.5:3306 as app: encrypted, statements not readable"},
	} {
		if got := describe(c.ev); got != c.want {
			t.Errorf("describe: %q, want %q", got, c.want)
		}
	}
}

// Guessing is throttled: after MaxFailures wrong passwords for a name,
// even the right one is refused for a while, and each refusal is in the
// audit log.
func TestSignInThrottled(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	users, err := auth.OpenUsers(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pw, err := users.Add("ana", auth.RoleAnalyst, "")
	if err != nil {
		t.Fatal(err)
	}
	h, err := (&Server{Store: st, Users: users, Sessions: auth.NewSessions()}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	for range auth.MaxFailures {
		if w := do(h, "POST", "/login", url.Values{"name": {"ana"}, "password": {"guess-" + pw}}); w.Code != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d", w.Code)
		}
	}
	w := do(h, "POST", "/login", url.Values{"name": {"ana"}, "password": {pw}})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || len(w.Result().Cookies()) != 0 {
		t.Errorf("the right password after %d wrong ones: %d %v", auth.MaxFailures, w.Code, w.Header())
	}
	log, _ := st.AuditLog(context.Background(), "console", 0)
	if len(log) != auth.MaxFailures+1 || log[0].Action != "login_throttled" || log[1].Action != "login_failed" {
		t.Errorf("audit: %+v", log)
	}
}

// The agents view shows each agent's site, version, last heartbeat,
// sensors, rule set, liveness and confirmed loss; the loss view lists the
// records and says which are not yet confirmed.
func TestFleetViews(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	hb := &event.Event{ID: "b1-hb", Kind: event.KindHeartbeat, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Heartbeat: &event.Heartbeat{IntervalS: 10, Sensors: []string{"db", "file"}, Version: "1.4.2", RuleSetHash: "0123456789abcdef0123"}}
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SeenAgent(hb, t0); err != nil {
		t.Fatal(err)
	}
	for _, l := range []store.Loss{{Time: t0, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1", Reason: "ringbuf_full", Sensor: "db", Count: 7}} {
		if err := tx.AddLoss(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	live := liveness.New(liveness.Options{})
	live.Known("ag-1", "leeds", "ws1", "b1", hb.Heartbeat, t0)
	h, err := (&Server{Store: st, Liveness: live}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	w := do(h, "GET", "/agents", nil)
	for _, want := range []string{"leeds", "ws1", "1.4.2", "db, file", "0123456789ab<", "state-" + live.Status("ag-1"), `agent_id=ag-1">7<`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the agents view lacks %q:\n%s", want, w.Body)
		}
	}
	w = do(h, "GET", "/loss", nil)
	for _, want := range []string{"ringbuf_full", "<td>7</td>"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the loss view lacks %q", want)
		}
	}
}
