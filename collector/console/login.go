package console

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/collector/store"
)

type loginData struct {
	Name  string
	Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", "Sign in", loginData{})
}

// login signs a person in; both outcomes go to the audit log, so repeated
// guessing shows.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	name, password := r.PostForm.Get("name"), r.PostForm.Get("password")
	if wait := s.throttle.Wait(name); wait > 0 {
		if err := s.Store.Audit(r.Context(), store.AuditEntry{At: s.now(), Actor: clip(name), Action: "login_throttled",
			Target: "console", Detail: r.RemoteAddr}); err != nil {
			s.fail(w, http.StatusInternalServerError, err)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.render(w, r, http.StatusTooManyRequests, "login", "Sign in", loginData{Name: name,
			Error: fmt.Sprintf("Too many failed sign-ins for this name: try again in %s.", wait.Round(time.Second))})
		return
	}
	u, ok := s.Users.Check(name, password)
	if !ok {
		s.throttle.Failed(name)
		if err := s.Store.Audit(r.Context(), store.AuditEntry{At: s.now(), Actor: clip(name), Action: "login_failed",
			Target: "console", Detail: r.RemoteAddr}); err != nil {
			s.fail(w, http.StatusInternalServerError, err)
			return
		}
		s.render(w, r, http.StatusUnauthorized, "login", "Sign in", loginData{Name: name, Error: "Wrong user name or password."})
		return
	}
	s.throttle.Succeeded(name)
	if err := s.Sessions.Start(w, u.Name); err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	if err := s.Store.Audit(r.Context(), store.AuditEntry{At: s.now(), Actor: u.Name, Action: "login",
		Target: "console", Detail: r.RemoteAddr}); err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	http.Redirect(w, r, "/alerts", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.Sessions.End(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// clip bounds what a stranger typed before it goes to the audit log.
func clip(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}
