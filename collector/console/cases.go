package console

import (
	"net/http"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/store"
)

type casesData struct {
	Filter store.AlertFilter
	Cases  []store.Case
}

// cases lists cases, newest first; the alert filters apply.
func (s *Server) cases(w http.ResponseWriter, r *http.Request) {
	f, _, err := api.ParseFilter(r, s.now())
	if err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	list, err := s.Store.Cases(r.Context(), f)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, http.StatusOK, "cases", "Cases", casesData{Filter: f, Cases: list})
}

// caseOf shows the case holding an alert: its alerts and their combined
// evidence; the reads are recorded first.
func (s *Server) caseOf(w http.ResponseWriter, r *http.Request) {
	d, code, err := api.CaseOf(r, s.Store, r.PathValue("id"), s.now())
	if err != nil {
		s.fail(w, code, err)
		return
	}
	s.render(w, r, http.StatusOK, "case", "Case "+d.ID, d)
}
