package api

import (
	"errors"
	"net/http"

	"github.com/vigilhq/vigil/collector/store"
)

// cases lists cases made from the alerts the filter keeps, newest first.
func (s *Server) cases(w http.ResponseWriter, r *http.Request) {
	f, _, err := ParseFilter(r, s.now())
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	list, err := s.Store.Cases(r.Context(), f)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	if list == nil {
		list = []store.Case{}
	}
	writeJSON(w, http.StatusOK, list)
}

// caseOf returns the case holding the alert id, with its evidence; each
// alert's evidence read is recorded first.
func (s *Server) caseOf(w http.ResponseWriter, r *http.Request) {
	d, err := s.Store.CaseOf(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	for _, id := range d.AlertIDs {
		if err := RecordView(r, s.Store, id, s.now()); err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, d)
}
