package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigilhq/vigil/collector/auth"
)

// A person whose password was given to them (generated, or reset by an
// admin) reaches only the password page and sign-out: the console sends
// them there, the API refuses them; once changed, they reach the rest. A
// disabled user's session stops at once.
func TestMustChangeAndDisabledSessions(t *testing.T) {
	s, _ := newServer(t)
	users, err := auth.OpenUsers(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pw, err := users.Add("ana", auth.RoleAnalyst, "")
	if err != nil {
		t.Fatal(err)
	}
	s.Users, s.Sessions = users, auth.NewSessions()
	s.Console = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	client := hs.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rec := httptest.NewRecorder()
	if err := s.Sessions.Start(rec, "ana"); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		req.AddCookie(cookie)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	if code, loc := get("/alerts"); code != http.StatusSeeOther || loc != ChangePasswordPath {
		t.Errorf("/alerts before the change: %d %q, want a redirect to %s", code, loc, ChangePasswordPath)
	}
	if code, _ := get("/api/alerts"); code != http.StatusForbidden {
		t.Errorf("/api/alerts before the change: %d, want 403", code)
	}
	if code, _ := get(ChangePasswordPath); code != http.StatusTeapot {
		t.Errorf("%s before the change: %d, want the console's answer", ChangePasswordPath, code)
	}
	if err := users.ChangePassword("ana", pw, "ana's own secret now"); err == nil {
		t.Error("a password containing the name was taken")
	}
	if err := users.ChangePassword("ana", pw, "a secret of her own"); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("/alerts"); code != http.StatusTeapot {
		t.Errorf("/alerts after the change: %d, want the console's answer", code)
	}
	if code, _ := get("/api/alerts"); code != http.StatusOK {
		t.Errorf("/api/alerts after the change: %d", code)
	}
	if err := users.SetDisabled("ana", true); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("/api/alerts"); code != http.StatusUnauthorized {
		t.Errorf("/api/alerts of a disabled user: %d, want 401", code)
	}
}
