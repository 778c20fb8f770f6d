package console

import (
	"errors"
	"net/http"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/store"
)

type passwordData struct {
	MustChange bool
	Error      string
	Done       bool
}

// passwordPage is where a person changes their password; while it is one
// they were given, it is the only page they reach.
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	s.render(w, r, http.StatusOK, "password", "Change password", passwordData{MustChange: p.MustChange})
}

// changePassword changes the signed-in person's password, given their
// current one; both outcomes go to the audit log.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	if !p.Person {
		s.fail(w, http.StatusForbidden, errors.New("a token has no password: sign in to the console to change yours"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	current, next := r.PostForm.Get("current"), r.PostForm.Get("new")
	again := func(code int, msg string) {
		s.render(w, r, code, "password", "Change password", passwordData{MustChange: p.MustChange, Error: msg})
	}
	if wait := s.throttle.Wait(p.Name); wait > 0 {
		again(http.StatusTooManyRequests, "Too many wrong passwords: try again in a while.")
		return
	}
	if next != r.PostForm.Get("repeat") {
		again(http.StatusBadRequest, "The new password and its repetition differ.")
		return
	}
	err := s.Users.ChangePassword(p.Name, current, next)
	action := "password_change"
	if err != nil {
		action = "password_change_failed"
		if errors.Is(err, auth.ErrWrongPassword) {
			s.throttle.Failed(p.Name)
		}
	}
	if aerr := s.Store.Audit(r.Context(), store.AuditEntry{At: s.now(), Actor: p.Name, Action: action,
		Target: "user:" + p.Name, Detail: r.RemoteAddr}); aerr != nil {
		s.fail(w, http.StatusInternalServerError, aerr)
		return
	}
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, auth.ErrWrongPassword) {
			code = http.StatusUnauthorized
		}
		again(code, "Not changed: "+err.Error()+".")
		return
	}
	s.throttle.Succeeded(p.Name)
	// Whoever knew the old password is signed out; this browser stays in.
	s.Sessions.EndUser(p.Name)
	if err := s.Sessions.Start(w, p.Name); err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	if p.MustChange {
		http.Redirect(w, r, "/alerts", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "password", "Change password", passwordData{Done: true})
}
