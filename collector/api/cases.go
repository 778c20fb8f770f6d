package api

import (
	"errors"
	"net/http"
	"time"

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

// CaseOf returns the case holding the alert alertID, with its evidence,
// once r's principal's read of each alert's evidence is on record; the
// error says which status answers it.
func CaseOf(r *http.Request, st *store.Store, alertID string, now time.Time) (*store.CaseDetail, int, error) {
	d, err := st.CaseOf(r.Context(), alertID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, http.StatusNotFound, err
	}
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	for _, id := range d.AlertIDs {
		if err := RecordView(r, st, id, now); err != nil {
			return nil, http.StatusInternalServerError, err
		}
	}
	return d, http.StatusOK, nil
}

// caseOf returns the case holding the alert id, with its evidence.
func (s *Server) caseOf(w http.ResponseWriter, r *http.Request) {
	d, code, err := CaseOf(r, s.Store, r.PathValue("id"), s.now())
	if err != nil {
		fail(w, code, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
