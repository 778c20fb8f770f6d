package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/store"
)

// send makes a request with token ("" sends none), the extra headers and
// the cookies, and returns the status and the body.
func send(t *testing.T, hs *httptest.Server, method, path, token, body string, hdr map[string]string, cookies ...*http.Cookie) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Triage through the API: only an analyst's or admin's token may; a close
// needs a known reason; the queue filters by status; each action and
// each read of evidence is in the audit log, which only admins read.
func TestTriageAPI(t *testing.T) {
	s, hs := newServer(t)
	scraper, _ := s.Auth.Add("prometheus", auth.RoleMetrics)
	ana, _ := s.Auth.Add("ana", auth.RoleAnalyst)
	const ack = `{"action":"acknowledge"}`
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {"vgl_nope", 401}, {scraper, 403}} {
		if code, b := send(t, hs, "POST", "/api/alerts/al-1/triage", c.token, ack, nil); code != c.want {
			t.Errorf("triage with token %q: %d %s, want %d", c.token, code, b, c.want)
		}
	}
	if code, b := send(t, hs, "POST", "/api/alerts/al-1/triage", ana, ack, nil); code != 200 || !strings.Contains(string(b), `"acknowledged"`) {
		t.Fatalf("acknowledge: %d %s", code, b)
	}
	for _, bad := range []struct {
		path, body string
		want       int
	}{
		{"/api/alerts/al-1/triage", `{"action":"close"}`, 400},
		{"/api/alerts/al-1/triage", `{"action":"close","reason":"bored"}`, 400},
		{"/api/alerts/al-1/triage", `{"action":"delete"}`, 400},
		{"/api/alerts/al-1/triage", `{"action":"note"}`, 400},
		{"/api/alerts/al-1/triage", `{"action":"acknowledge","by":"someone-else"}`, 400},
		{"/api/alerts/al-1/triage", `not json`, 400},
		{"/api/alerts/nope/triage", ack, 404},
	} {
		if code, b := send(t, hs, "POST", bad.path, ana, bad.body, nil); code != bad.want {
			t.Errorf("%s %s: %d %s, want %d", bad.path, bad.body, code, b, bad.want)
		}
	}
	var list []store.Alert
	_, _, b := get(t, hs, "/api/alerts?status=acknowledged")
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 1 || list[0].Event.ID != "al-1" || list[0].Status != "acknowledged" {
		t.Errorf("acknowledged alerts: %s %v", b, err)
	}
	if code, b := send(t, hs, "POST", "/api/alerts/al-1/triage", ana, `{"action":"close","reason":"true_positive","note":"confirmed with the customer"}`, nil); code != 200 {
		t.Fatalf("close: %d %s", code, b)
	}
	_, _, b = get(t, hs, "/api/alerts?status=open")
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 1 || list[0].Event.ID != "al-2" {
		t.Errorf("open alerts after closing al-1: %s %v", b, err)
	}
	if code, _ := send(t, hs, "GET", "/api/alerts?status=gone", ana, "", nil); code != 400 {
		t.Errorf("an unknown status: %d, want 400", code)
	}

	if code, _ := send(t, hs, "GET", "/api/alerts/al-1", ana, "", nil); code != 200 {
		t.Fatalf("reading al-1: %d", code)
	}
	if code, _ := send(t, hs, "GET", "/api/audit", ana, "", nil); code != 403 {
		t.Errorf("an analyst's token reads the audit log: %d, want 403", code)
	}
	code, b := send(t, hs, "GET", "/api/audit?target=al-1", adminToken, "", nil)
	var log []store.AuditEntry
	if err := json.Unmarshal(b, &log); code != 200 || err != nil {
		t.Fatalf("audit log: %d %s", code, b)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Actor+" "+e.Action+" "+e.Detail)
	}
	want := []string{"token:ana view_evidence ", "token:ana close true_positive: confirmed with the customer", "token:ana acknowledge "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit log of al-1:\n got %q\nwant %q", got, want)
	}
}

// A signed-in person's browser session triages; another site's page
// cannot make the browser do it (CSRF), and a removed user's session stops
// at once.
func TestSessionTriageAndCrossSite(t *testing.T) {
	s, _ := newServer(t)
	dir := t.TempDir()
	users, err := auth.OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Add("ana", auth.RoleAnalyst, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	s.Users, s.Sessions = users, auth.NewSessions()
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	rec := httptest.NewRecorder()
	if err := s.Sessions.Start(rec, "ana"); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	const ack = `{"action":"acknowledge"}`
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "same-site"},
	} {
		if code, b := send(t, hs, "POST", "/api/alerts/al-1/triage", "", ack, h, cookie); code != 403 {
			t.Errorf("a cross-origin POST %v with ana's cookie: %d %s, want 403", h, code, b)
		}
	}
	if tr, _ := s.Store.TriageOf(t.Context(), "al-1"); tr.Status != store.StatusOpen {
		t.Fatalf("a refused request triaged al-1: %+v", tr)
	}
	code, b := send(t, hs, "POST", "/api/alerts/al-1/triage", "", ack, map[string]string{"Sec-Fetch-Site": "same-origin"}, cookie)
	if code != 200 {
		t.Fatalf("a same-origin POST with ana's cookie: %d %s", code, b)
	}
	if tr, _ := s.Store.TriageOf(t.Context(), "al-1"); tr.By != "ana" {
		t.Errorf("triage recorded as %q, want ana", tr.By)
	}
	if code, _ := send(t, hs, "GET", "/api/audit", "", "", nil, cookie); code != 403 {
		t.Errorf("an analyst's session reads the audit log: %d, want 403", code)
	}
	if err := users.Remove("ana"); err != nil {
		t.Fatal(err)
	}
	if code, _ := send(t, hs, "GET", "/api/alerts", "", "", nil, cookie); code != 401 {
		t.Errorf("a removed user's session: %d, want 401", code)
	}
}
