package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// startSession starts a session for user and returns a request carrying
// its cookie, and the cookie.
func startSession(t *testing.T, s *Sessions, user string) (*http.Request, *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := s.Start(rec, user); err != nil {
		t.Fatal(err)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies %v", cs)
	}
	r := httptest.NewRequest("GET", "/alerts", nil)
	r.AddCookie(cs[0])
	return r, cs[0]
}

// The cookie is HttpOnly, Secure and SameSite=Strict; a session ends when
// idle too long, when too old however busy, and when ended; a made-up
// cookie is no session.
func TestSessions(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	s := NewSessions()
	s.now = func() time.Time { return now }
	r, c := startSession(t, s, "ana")
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || len(c.Value) != 64 {
		t.Errorf("cookie %+v", c)
	}
	if u, ok := s.User(r); !ok || u != "ana" {
		t.Errorf("User: %q %v", u, ok)
	}
	forged := httptest.NewRequest("GET", "/", nil)
	forged.AddCookie(&http.Cookie{Name: CookieName, Value: "ana"})
	if _, ok := s.User(forged); ok {
		t.Error("a made-up cookie is a session")
	}
	now = now.Add(SessionIdle + time.Second)
	if _, ok := s.User(r); ok {
		t.Error("an idle session lives on")
	}

	r, _ = startSession(t, s, "ana")
	start := now
	for now.Sub(start) < SessionMax-SessionIdle { // busy all along
		now = now.Add(SessionIdle - time.Minute)
		if _, ok := s.User(r); !ok {
			t.Fatalf("a busy session ended after %v", now.Sub(start))
		}
	}
	now = start.Add(SessionMax + time.Second)
	if _, ok := s.User(r); ok {
		t.Error("a session lives beyond SessionMax")
	}

	r, _ = startSession(t, s, "ana")
	rec := httptest.NewRecorder()
	s.End(rec, r)
	if _, ok := s.User(r); ok {
		t.Error("an ended session lives on")
	}
	if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Errorf("ending does not clear the cookie: %v", cs)
	}
}
