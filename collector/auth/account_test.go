package auth

import (
	"errors"
	"net/http/httptest"
	"testing"
)

// A generated password must be changed; a change needs the current
// password and a strong new one; a reset makes the old password useless
// and asks for a change again; a disabled user cannot sign in, even with
// the right password, until enabled.
func TestChangeResetDisable(t *testing.T) {
	u, err := OpenUsers(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := u.Lookup(FirstAdminName)
	if !admin.MustChange {
		t.Error("the first admin's generated password need not be changed")
	}
	pw, err := u.Add("ana", RoleAnalyst, "")
	if err != nil {
		t.Fatal(err)
	}
	if usr, _ := u.Lookup("ana"); !usr.MustChange {
		t.Error("a user added with a generated password need not change it")
	}
	if _, err := u.Add("ben", RoleAnalyst, "chosen by himself"); err != nil {
		t.Fatal(err)
	}
	if usr, _ := u.Lookup("ben"); usr.MustChange {
		t.Error("a user who chose their password must change it")
	}

	if err := u.ChangePassword("ana", pw+"x", "a brand new secret"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("a change with a wrong current password: %v", err)
	}
	for _, weak := range []string{"short", pw, "ana is my name ok"} {
		if err := u.ChangePassword("ana", pw, weak); err == nil {
			t.Errorf("a change to %q was allowed", weak)
		}
	}
	if err := u.ChangePassword("ana", pw, "a brand new secret"); err != nil {
		t.Fatal(err)
	}
	if usr, ok := u.Check("ana", "a brand new secret"); !ok || usr.MustChange {
		t.Errorf("after a change: %+v %v", usr, ok)
	}
	if _, ok := u.Check("ana", pw); ok {
		t.Error("the old password still works")
	}

	reset, err := u.Reset("ana")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Check("ana", "a brand new secret"); ok {
		t.Error("the password before a reset still works")
	}
	if usr, ok := u.Check("ana", reset); !ok || !usr.MustChange {
		t.Errorf("after a reset: %+v %v", usr, ok)
	}

	if err := u.SetDisabled("ana", true); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Check("ana", reset); ok {
		t.Error("a disabled user signs in")
	}
	if err := u.SetDisabled("ana", false); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Check("ana", reset); !ok {
		t.Error("an enabled user cannot sign in")
	}
	if err := u.SetDisabled("nobody", true); err == nil {
		t.Error("disabling an unknown user succeeded")
	}
}

// Ending a user's sessions ends all of theirs and nobody else's.
func TestEndUser(t *testing.T) {
	s := NewSessions()
	cookie := func(user string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		if err := s.Start(w, user); err != nil {
			t.Fatal(err)
		}
		return w
	}
	a1, a2, b := cookie("ana"), cookie("ana"), cookie("ben")
	s.EndUser("ana")
	for _, c := range []struct {
		w    *httptest.ResponseRecorder
		live bool
	}{{a1, false}, {a2, false}, {b, true}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(c.w.Result().Cookies()[0])
		if _, ok := s.User(r); ok != c.live {
			t.Errorf("session live %v, want %v", ok, c.live)
		}
	}
}
