package console

import (
	"fmt"
	"net/http"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/store"
)

type usersData struct {
	Users []auth.User
	Roles []string
	Me    string
	// Issued is a password just made for Issued.Name, shown this once.
	Issued *issued
	Error  string
}

type issued struct{ Name, Password string }

// users lists the console's users for admins, with forms to add one,
// reset a password and disable or enable a user.
func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, nil, "")
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, code int, iss *issued, msg string) {
	list, err := s.Users.List()
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	p, _ := auth.From(r.Context())
	s.render(w, r, code, "users", "Users", usersData{Users: list, Roles: auth.PeopleRoles, Me: p.Name, Issued: iss, Error: msg})
}

// userAction adds a user, resets a password, or disables or enables a
// user, as an admin asked; every change done goes to the audit log, and a
// made password is shown once, never kept.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	action, name := r.PostForm.Get("action"), r.PostForm.Get("name")
	var detail string
	switch action {
	case "create":
		detail = "role " + r.PostForm.Get("role")
	case "reset", "disable", "enable":
		if _, ok := s.Users.Lookup(name); !ok {
			s.renderUsers(w, r, http.StatusNotFound, nil, fmt.Sprintf("No user is named %q.", name))
			return
		}
		if action == "disable" && name == p.Name {
			s.renderUsers(w, r, http.StatusBadRequest, nil, "You cannot disable yourself: ask another admin.")
			return
		}
	default:
		s.fail(w, http.StatusBadRequest, fmt.Errorf("user action %q: want create, reset, disable or enable", action))
		return
	}
	var iss *issued
	var err error
	switch action {
	case "create":
		var pw string
		if pw, err = s.Users.Add(name, r.PostForm.Get("role"), ""); err == nil {
			iss = &issued{name, pw}
		}
	case "reset":
		var pw string
		if pw, err = s.Users.Reset(name); err == nil {
			iss = &issued{name, pw}
			s.Sessions.EndUser(name)
		}
	case "disable":
		if err = s.Users.SetDisabled(name, true); err == nil {
			s.Sessions.EndUser(name)
		}
	case "enable":
		err = s.Users.SetDisabled(name, false)
	}
	if err != nil {
		s.renderUsers(w, r, http.StatusBadRequest, nil, "Not done: "+err.Error()+".")
		return
	}
	if err := s.Store.Audit(r.Context(), store.AuditEntry{At: s.now(), Actor: p.Who(), Action: "user_" + action,
		Target: "user:" + clip(name), Detail: detail}); err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	s.renderUsers(w, r, http.StatusOK, iss, "")
}
