package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

type detailData struct {
	*store.AlertDetail
	Triage       store.Triage
	History      []store.AuditEntry
	CloseReasons []string
}

// detail shows an alert and its evidence; the read is recorded first.
func (s *Server) detail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, err := s.Store.AlertByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	if err := api.RecordView(r, s.Store, id, s.now()); err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	t, err := s.Store.TriageOf(r.Context(), id)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	hist, err := s.Store.AuditLog(r.Context(), id, 200)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	// Analysts see the triage trail; who read the evidence is for admins.
	if p, _ := auth.From(r.Context()); !auth.Allows(p.Role, auth.RoleAdmin) {
		hist = slices.DeleteFunc(hist, func(e store.AuditEntry) bool { return e.Action == api.ActViewEvidence })
	}
	slices.SortStableFunc(d.Evidence, func(a, b *event.Event) int { return a.Time.Compare(b.Time) })
	s.render(w, r, http.StatusOK, "detail", d.Event.Alert.Rule, detailData{AlertDetail: d, Triage: t, History: hist,
		CloseReasons: store.CloseReasons})
}

// triage applies the form's action and goes back to the alert.
func (s *Server) triage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	id := r.PathValue("id")
	a := store.TriageAction{Action: r.PostForm.Get("action"), Reason: r.PostForm.Get("reason"),
		Assignee: r.PostForm.Get("assignee"), Note: r.PostForm.Get("note")}
	if _, code, err := api.Triage(r, s.Store, id, a, s.now()); err != nil {
		s.fail(w, code, err)
		return
	}
	s.Hub.Notify()
	http.Redirect(w, r, "/alerts/"+url.PathEscape(id), http.StatusSeeOther)
}
