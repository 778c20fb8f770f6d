package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/auth"
)

// An admin adds a user (whose generated password is shown once and must be
// changed), resets a password and disables a user, each in the audit log;
// an admin cannot disable themselves; the person changes their password
// only with the current one, and the failure is on record too; the change
// ends the user's other sessions and keeps this one.
func TestUserAdminAndPasswordChange(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	users, err := auth.OpenUsers(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sessions := auth.NewSessions()
	h, err := (&Server{Store: st, Users: users, Sessions: sessions}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	as := func(p auth.Principal) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
		})
	}
	admin := as(auth.Principal{Name: auth.FirstAdminName, Role: auth.RoleAdmin, Person: true})
	issuedPW := regexp.MustCompile(`<code id="issued-password">([^<]+)</code>`)

	w := do(admin, "POST", "/admin/users", url.Values{"action": {"create"}, "name": {"ana"}, "role": {"analyst"}})
	m := issuedPW.FindStringSubmatch(w.Body.String())
	if w.Code != 200 || m == nil {
		t.Fatalf("adding ana: %d\n%s", w.Code, w.Body)
	}
	if u, ok := users.Check("ana", m[1]); !ok || !u.MustChange || u.Role != auth.RoleAnalyst {
		t.Errorf("ana as added: %+v %v", u, ok)
	}
	if w := do(admin, "POST", "/admin/users", url.Values{"action": {"create"}, "name": {"ana"}, "role": {"analyst"}}); w.Code != 400 ||
		!strings.Contains(w.Body.String(), "exists") {
		t.Errorf("adding ana twice: %d", w.Code)
	}
	if w := do(admin, "POST", "/admin/users", url.Values{"action": {"create"}, "name": {"root"}, "role": {"god"}}); w.Code != 400 {
		t.Errorf("adding a user with a made-up role: %d", w.Code)
	}
	w = do(admin, "POST", "/admin/users", url.Values{"action": {"reset"}, "name": {"ana"}})
	reset := issuedPW.FindStringSubmatch(w.Body.String())
	if reset == nil || reset[1] == m[1] {
		t.Fatalf("resetting ana's password: %d", w.Code)
	}
	if _, ok := users.Check("ana", m[1]); ok {
		t.Error("ana's password before the reset still works")
	}
	if w := do(admin, "POST", "/admin/users", url.Values{"action": {"disable"}, "name": {auth.FirstAdminName}}); w.Code != 400 {
		t.Errorf("an admin disabling themselves: %d", w.Code)
	}
	if w := do(admin, "POST", "/admin/users", url.Values{"action": {"disable"}, "name": {"nobody"}}); w.Code != 404 {
		t.Errorf("disabling an unknown user: %d", w.Code)
	}

	ana := as(auth.Principal{Name: "ana", Role: auth.RoleAnalyst, Person: true, MustChange: true})
	if w := do(ana, "POST", "/account/password", url.Values{"current": {"wrong"}, "new": {"a secret of her own"}, "repeat": {"a secret of her own"}}); w.Code != 401 {
		t.Errorf("a change with the wrong current password: %d", w.Code)
	}
	if w := do(ana, "POST", "/account/password", url.Values{"current": {reset[1]}, "new": {"a secret of her own"}, "repeat": {"a secret of hers"}}); w.Code != 400 {
		t.Errorf("a change whose repetition differs: %d", w.Code)
	}
	elsewhere := httptest.NewRecorder() // a session of ana's on another device, with the given password
	if err := sessions.Start(elsewhere, "ana"); err != nil {
		t.Fatal(err)
	}
	w = do(ana, "POST", "/account/password", url.Values{"current": {reset[1]}, "new": {"a secret of her own"}, "repeat": {"a secret of her own"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/alerts" {
		t.Errorf("a forced change: %d %v", w.Code, w.Header())
	}
	for _, c := range []struct {
		cookies []*http.Cookie
		live    bool
	}{{elsewhere.Result().Cookies(), false}, {w.Result().Cookies(), true}} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, k := range c.cookies {
			r.AddCookie(k)
		}
		if _, ok := sessions.User(r); ok != c.live {
			t.Errorf("after the change, a session is live %v, want %v", ok, c.live)
		}
	}
	if u, ok := users.Check("ana", "a secret of her own"); !ok || u.MustChange {
		t.Errorf("ana after her change: %+v %v", u, ok)
	}
	if w := do(admin, "POST", "/admin/users", url.Values{"action": {"disable"}, "name": {"ana"}}); w.Code != 200 {
		t.Errorf("disabling ana: %d", w.Code)
	}
	if _, ok := users.Check("ana", "a secret of her own"); ok {
		t.Error("disabled, ana still signs in")
	}

	log, err := st.AuditLog(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Actor+" "+e.Action+" "+e.Target)
	}
	want := []string{"admin user_disable user:ana", "ana password_change user:ana", "ana password_change_failed user:ana",
		"admin user_reset user:ana", "admin user_create user:ana"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit log:\n got %q\nwant %q", got, want)
	}
}
