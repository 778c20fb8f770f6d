package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigilhq/vigil/collector"
	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testproc"
)

// t0 is when the seeded activity happened.
var t0 = time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)

// collectorHTTP serves the collector's real HTTP handler (API, console,
// guard) over a store in dir, seeded with one low alert; the hub is what
// the ingester notifies when it stores an alert.
func collectorHTTP(t *testing.T, dir string) (*store.Store, *httptest.Server, *api.Hub) {
	t.Helper()
	return collectorHTTPWith(t, dir, func(*api.Server) {})
}

// collectorHTTPWith is collectorHTTP with the API server's sources set by
// with before it serves.
func collectorHTTPWith(t *testing.T, dir string, with func(*api.Server)) (*store.Store, *httptest.Server, *api.Hub) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	old := &event.Event{ID: "al-old", Time: t0, Kind: event.KindAlert, Site: "manila", Host: "ws2", AgentID: "ag-2", BootID: "b2",
		Process: &event.Process{PID: 11, User: "ali", LoginUser: "ali"},
		Alert:   &event.Alert{Rule: "usb_write", Severity: event.SeverityLow, Summary: "ali wrote 2 files to a USB stick", Evidence: []string{}}}
	put(t, st, old)
	hub := api.NewHub()
	srv := &api.Server{Store: st, Liveness: liveness.New(liveness.Options{}), Metrics: metrics.New(nil), Hub: hub}
	with(srv)
	h, err := collector.HTTPHandler(collector.Config{DataDir: dir}, srv,
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return st, hs, hub
}

// put stores events (alerts as alerts) as the ingester would.
func put(t *testing.T, st *store.Store, evs ...*event.Event) {
	t.Helper()
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, ev := range evs {
		if ev.Kind == event.KindAlert {
			_, err = tx.PutAlert(ev, time.Now())
		} else {
			body, _ := json.Marshal(ev)
			_, err = tx.PutEvent(ev, body, time.Now())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// highAlert is a dump of the customers table by mona, with its evidence:
// the statement, the file it went to and the upload.
func highAlert() []*event.Event {
	proc := &event.Process{PID: 4242, PPID: 4200, Exe: "/usr/bin/psql", Comm: "psql", User: "mona", LoginUser: "mona", Session: 7, TTY: "pts1"}
	base := event.Event{Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1", Process: proc}
	q, f, n := base, base, base
	q.ID, q.Seq, q.Time, q.Kind = "b1-1", 1, t0.Add(time.Minute), event.KindDBQuery
	q.DB = &event.DB{Engine: "postgresql", Command: "COPY", Statement: "COPY customers TO STDOUT", Tables: []string{"customers"}, Rows: 250000, Bytes: 48 << 20, DurationMS: 900}
	f.ID, f.Seq, f.Time, f.Kind = "b1-2", 2, t0.Add(2*time.Minute), event.KindFileWrite
	f.File = &event.File{Path: "/home/mona/customers.csv", Bytes: 48 << 20, Mount: "/home", FSType: "ext4"}
	n.ID, n.Seq, n.Time, n.Kind = "b1-3", 3, t0.Add(3*time.Minute), event.KindNetTransfer
	n.Net = &event.Net{Proto: "tcp", Direction: "outbound", DstIP: "203.0.113.9", DstPort: 443, DstName: "files.example.net", BytesSent: 50 << 20}
	al := &event.Event{ID: "al-new", Time: t0.Add(3 * time.Minute), Kind: event.KindAlert, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Process: proc, Alert: &event.Alert{Rule: "db_copy_out", Severity: event.SeverityHigh,
			Summary:     "mona copied 250000 rows of customers out of postgresql",
			Description: "A bulk COPY TO of a customer table.", Tags: []string{"attack.exfiltration", "attack.t1005"},
			Evidence: []string{"b1-1", "b1-2", "b1-3"}}}
	return []*event.Event{&q, &f, &n, al}
}

// browser starts a headless Chromium with a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Skip(t, "no chromium (apt-get install chromium)")
	}
	// Chromium's helpers write to the profile while they wind down, so the
	// profile is removed once they have, not by t.TempDir's cleanup.
	profile, err := os.MkdirTemp("", "vigil-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testproc.Poll(context.Background(), 10*time.Second, 100*time.Millisecond, func() error {
			return os.RemoveAll(profile)
		}); err != nil {
			t.Errorf("removing the browser profile: %v", err)
		}
	})
	actx, cancel := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile), chromedp.WindowSize(1400, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it; a browser already gone has nothing to say
		cancel2()
	})
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// screenshot saves the whole page as dir/name, a PNG.
func screenshot(dir, name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var png []byte
		if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), png, 0o644)
	})
}

// run runs browser actions, failing the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// until waits for a JavaScript condition on the page, across page loads
// (an evaluation while the page navigates is an error, tried again).
func until(expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		return testproc.Poll(ctx, 20*time.Second, 100*time.Millisecond, func() error {
			var ok bool
			if err := chromedp.Evaluate(expr, &ok).Do(ctx); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s is false", expr)
			}
			return nil
		})
	})
}

// signIn fills the login form and sends it.
func signIn(base, name, password string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/alerts"), // not signed in: sent to the login page
		chromedp.WaitVisible("#name", chromedp.ByID),
		chromedp.SetValue("#name", name, chromedp.ByID),
		chromedp.SetValue("#password", password, chromedp.ByID),
		chromedp.Click("#signin", chromedp.ByID),
	}
}

// oneTimeAdmin reads the first admin's one-time credentials the collector
// wrote.
func oneTimeAdmin(t *testing.T, dir string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, auth.FirstAdminFile))
	if err != nil {
		t.Fatal(err)
	}
	var name, pw string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "user: "); ok {
			name = v
		} else if v, ok := strings.CutPrefix(line, "password: "); ok {
			pw = v
		}
	}
	return name, pw
}

// firstAdmin is the first admin with a password of their own, past the
// change the one-time password asks for (TestAccountsInBrowser makes it in
// the browser).
func firstAdmin(t *testing.T, dir string) (string, string) {
	t.Helper()
	name, pw := oneTimeAdmin(t, dir)
	users, err := auth.OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	const own = "a long secret of my own"
	if err := users.ChangePassword(name, pw, own); err != nil {
		t.Fatal(err)
	}
	return name, own
}

// The analyst's path from "new high alert" to "who did what, with which
// evidence", in a real browser: a wrong password is refused; the first
// admin signs in; a new alert appears in the open queue without a reload;
// the severity filter keeps it alone; its detail shows the evidence as a
// timeline; acknowledging and closing it with a reason is stored with who
// did it; the read and the actions are in the audit log. Then an analyst
// cannot reach the audit log, and signed out, the API wants a token.
func TestConsoleInBrowser(t *testing.T) {
	dir := t.TempDir()
	st, hs, hub := collectorHTTP(t, dir)
	ctx := browser(t)
	shots := t.ArtifactDir()
	shot := func(name string) chromedp.Action { return screenshot(shots, name) }
	admin, pw := firstAdmin(t, dir)

	var text string
	run(t, ctx, "signing in with a wrong password",
		signIn(hs.URL, admin, pw+"x"),
		chromedp.WaitVisible("#login-error", chromedp.ByID),
		chromedp.Text("#login-error", &text, chromedp.ByID))
	if !strings.Contains(text, "Wrong user name or password") {
		t.Errorf("after a wrong password the page says %q", text)
	}

	var marker bool
	run(t, ctx, "signing in as the first admin",
		signIn(hs.URL, admin, pw),
		chromedp.WaitVisible(`tr[data-id="al-old"]`),
		chromedp.Navigate(hs.URL+"/alerts?status=open"),
		chromedp.WaitVisible(`tr[data-id="al-old"]`),
		chromedp.Evaluate(`window.sameLoad = true`, &marker),
		until(`document.querySelector('#live-state').textContent === 'live'`))

	put(t, st, highAlert()...)
	hub.Notify()
	run(t, ctx, "waiting for the new alert to arrive without a reload",
		until(`document.querySelector('tr[data-id="al-new"]') !== null`),
		chromedp.Evaluate(`window.sameLoad === true`, &marker),
		chromedp.TextContent("#counts", &text, chromedp.ByID),
		shot("queue.png"))
	text = strings.Join(strings.Fields(text), " ")
	if !marker {
		t.Error("the page reloaded to show the new alert")
	}
	if !strings.Contains(text, "high 1") || !strings.Contains(text, "low 1") {
		t.Errorf("severity counts %q, want high 1 and low 1", text)
	}

	// The collector drops the page's stream (a restart, a proxy's timeout):
	// the page reconnects by itself, and an alert stored meanwhile shows.
	hs.CloseClientConnections()
	put(t, st, usbAlert()...)
	hub.Notify()
	run(t, ctx, "waiting for an alert stored while the stream was down, without a reload",
		until(`document.querySelector('tr[data-id="al-usb"]') !== null`),
		until(`document.querySelector('#live-state').textContent === 'live'`),
		chromedp.Evaluate(`window.sameLoad === true`, &marker))
	if !marker {
		t.Error("the page reloaded to show the alert stored while its stream was down")
	}

	run(t, ctx, "filtering by severity: only the high alert stays",
		chromedp.SetValue("#f-severity", "high", chromedp.ByID),
		chromedp.Click("#f-apply", chromedp.ByID),
		until(`location.search.includes('severity=high') && document.querySelectorAll('tr.alert').length === 1 &&
			document.querySelector('tr[data-id="al-new"]') !== null`))

	var evidence string
	run(t, ctx, "opening the alert",
		// Clicked in the page, not through a node handle: the live queue
		// may refetch its rows (a stream reconnecting) between a lookup and
		// a click, leaving the handle to a row that is gone.
		chromedp.Evaluate(`document.querySelector('tr[data-id="al-new"] a').click()`, nil),
		chromedp.WaitVisible("#evidence", chromedp.ByID),
		chromedp.Text("#evidence", &evidence, chromedp.ByID),
		shot("detail.png"))
	for _, want := range []string{"COPY customers TO STDOUT", "250000 rows", "/home/mona/customers.csv",
		"files.example.net (203.0.113.9):443", "logged in as mona, session 7"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("the evidence lacks %q:\n%s", want, evidence)
		}
	}

	run(t, ctx, "acknowledging and closing",
		chromedp.Click("#ack", chromedp.ByID),
		until(`document.querySelector('#d-status').textContent.includes('acknowledged')`),
		chromedp.SetValue("#close-reason", "true_positive", chromedp.ByID),
		chromedp.SetValue("#close-note", "confirmed with the customer", chromedp.ByID),
		chromedp.Click("#close", chromedp.ByID),
		until(`document.querySelector('#d-status').textContent.includes('closed (true_positive)')`),
		chromedp.Text("#history", &text, chromedp.ByID),
		shot("closed.png"))
	tr, err := st.TriageOf(context.Background(), "al-new")
	if err != nil || tr.Status != store.StatusClosed || tr.Reason != "true_positive" || tr.By != admin {
		t.Errorf("stored triage %+v %v, want closed as true_positive by %s", tr, err, admin)
	}
	for _, want := range []string{"close", "true_positive: confirmed with the customer", "acknowledge", "view_evidence"} {
		if !strings.Contains(text, want) {
			t.Errorf("the alert's history lacks %q:\n%s", want, text)
		}
	}

	run(t, ctx, "reading the audit log as admin",
		chromedp.Navigate(hs.URL+"/admin/audit"),
		chromedp.WaitVisible("#audit", chromedp.ByID),
		chromedp.Text("#audit", &text, chromedp.ByID))
	for _, want := range []string{"login_failed", "login", "view_evidence", "acknowledge", "close"} {
		if !strings.Contains(text, want) {
			t.Errorf("the audit log lacks %q:\n%s", want, text)
		}
	}

	users, err := auth.OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	anaPW, err := users.Add("ana", auth.RoleAnalyst, "a secret of her own")
	if err != nil {
		t.Fatal(err)
	}
	var links int
	run(t, ctx, "signing out and in as an analyst",
		chromedp.Navigate(hs.URL+"/alerts"),
		chromedp.Click(`header button`),
		chromedp.WaitVisible("#name", chromedp.ByID),
		signIn(hs.URL, "ana", anaPW),
		chromedp.WaitVisible(`tr[data-id="al-new"]`),
		chromedp.Evaluate(`document.querySelectorAll('a[href="/admin/audit"]').length`, &links),
		chromedp.Navigate(hs.URL+"/admin/audit"),
		chromedp.Text("body", &text))
	if links != 0 {
		t.Error("the analyst's page links to the audit log")
	}
	if !strings.Contains(text, "user ana has role analyst; this needs admin") {
		t.Errorf("an analyst at /admin/audit sees %q", text)
	}

	run(t, ctx, "signing out and reading the API",
		chromedp.Navigate(hs.URL+"/alerts"),
		chromedp.Click(`header button`),
		chromedp.WaitVisible("#name", chromedp.ByID),
		chromedp.Navigate(hs.URL+"/api/alerts"),
		chromedp.Text("body", &text))
	if !strings.Contains(text, "needs a bearer token") || strings.Contains(text, "al-new") {
		t.Errorf("signed out, /api/alerts says %q", text)
	}
	t.Log("screenshots:", fmt.Sprint(filepath.Join(shots, "queue.png"), " ", filepath.Join(shots, "detail.png")))
}

// usbAlert is mona, through sudo as root on another host 20 minutes after
// her dump, copying the file to a USB stick: the same person's case.
func usbAlert() []*event.Event {
	proc := &event.Process{PID: 777, PPID: 700, Exe: "/usr/bin/cp", Comm: "cp", User: "root", LoginUID: 1001, LoginUser: "mona", Session: 3, TTY: "pts0"}
	w := &event.Event{ID: "b3-1", Seq: 1, Time: t0.Add(20 * time.Minute), Kind: event.KindFileWrite, Site: "leeds", Host: "ws3",
		AgentID: "ag-3", BootID: "b3", Process: proc,
		File: &event.File{Path: "/media/usb0/customers.csv", Bytes: 48 << 20, Mount: "/media/usb0", FSType: "vfat", Removable: true}}
	al := &event.Event{ID: "al-usb", Time: t0.Add(20 * time.Minute), Kind: event.KindAlert, Site: "leeds", Host: "ws3", AgentID: "ag-3",
		BootID: "b3", Process: proc, Alert: &event.Alert{Rule: "usb_write", Severity: event.SeverityMedium,
			Summary: "mona wrote 48 MiB to a USB stick", Evidence: []string{"b3-1"}}}
	return []*event.Event{w, al}
}

// Two alerts about mona, on two hosts, one of them run through sudo, are
// one case on the Cases page (ali's alert another); the case page shows
// both alerts, each linked, and both alerts' evidence on one timeline.
func TestCasesInBrowser(t *testing.T) {
	dir := t.TempDir()
	st, hs, _ := collectorHTTP(t, dir)
	put(t, st, append(highAlert(), usbAlert()...)...)
	ctx := browser(t)
	admin, pw := firstAdmin(t, dir)

	var rows int
	var text string
	run(t, ctx, "opening the Cases page",
		signIn(hs.URL, admin, pw),
		chromedp.WaitVisible(`tr[data-id="al-old"]`),
		chromedp.Click(`nav a[href="/cases"]`),
		chromedp.WaitVisible("#cases", chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll('tr.case').length`, &rows),
		chromedp.Text(`tr.case[data-id="al-new"]`, &text))
	if rows != 2 {
		t.Errorf("%d cases, want mona's and ali's", rows)
	}
	for _, want := range []string{"mona", "ws1, ws3", "db_copy_out, usb_write", "high", "2"} {
		if !strings.Contains(strings.ToLower(text), want) { // the style shows severities in capitals
			t.Errorf("mona's case row %q lacks %q", text, want)
		}
	}

	var evidence string
	var links int
	run(t, ctx, "opening mona's case",
		chromedp.Click(`tr.case[data-id="al-new"] a`),
		chromedp.WaitVisible("#evidence", chromedp.ByID),
		chromedp.Text("#evidence", &evidence, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll('#case-alerts a[href="/alerts/al-new"], #case-alerts a[href="/alerts/al-usb"]').length`, &links))
	if links != 2 {
		t.Errorf("the case links %d of its 2 alerts", links)
	}
	for _, want := range []string{"COPY customers TO STDOUT", "files.example.net (203.0.113.9):443",
		"/media/usb0/customers.csv", "removable media", "logged in as mona, session 3"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("the case's evidence lacks %q:\n%s", want, evidence)
		}
	}
	var activity string
	run(t, ctx, "following the case to mona's page",
		chromedp.Click(`#c-person a`),
		chromedp.WaitVisible("#activity", chromedp.ByID),
		chromedp.Text("#activity", &activity, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll('#person-alerts tr.alert').length`, &links),
		until(`document.querySelectorAll('figure.chart.drawn').length === 4`))
	// Her 250000 rows are on her statement's day, the top of the rows
	// chart's scale.
	day := dayIndex(highAlert()[0].Time) - 16 // the person's 14 days end with the front page's 30
	var top float64
	rowsChart := readChart(t, ctx, "rows", nil)
	run(t, ctx, "reading the rows chart's scale",
		chromedp.Evaluate(`document.querySelector('#chart-rows').uplot.scales.y.max`, &top),
		screenshot(t.ArtifactDir(), "person.png"),
		chromedp.Navigate(hs.URL+"/cases/al-new"),
		chromedp.WaitVisible("#case-alerts", chromedp.ByID))
	if v := rowsChart.series(t, "person"); len(v) != 14 || v[day] != 250000 || top < 250000 {
		t.Errorf("mona's rows chart %v (scale to %v), want 14 days with her 250000 rows on day %d", v, top, day)
	}
	for _, want := range []string{"db.query", "file.write", "net.transfer"} {
		if !strings.Contains(activity, want) {
			t.Errorf("mona's activity lacks %s:\n%s", want, activity)
		}
	}
	if links != 2 {
		t.Errorf("mona's page lists %d alerts, want 2", links)
	}
	run(t, ctx, "following the case to an alert",
		chromedp.Click(`#case-alerts a[href="/alerts/al-usb"]`),
		until(`location.pathname === '/alerts/al-usb'`))
}
