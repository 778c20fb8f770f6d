package console

import "net/http"

// audit shows the audit log to admins: who read which evidence, who
// triaged what, who signed in and who failed to.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.AuditLog(r.Context(), r.URL.Query().Get("target"), 1000)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, http.StatusOK, "audit", "Audit log", list)
}
