package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/store"
)

// ActViewEvidence is the audit log's action for a read of an alert's
// evidence.
const ActViewEvidence = "view_evidence"

// RecordView records in the audit log that r's principal read the
// evidence of alertID.
func RecordView(r *http.Request, st *store.Store, alertID string, now time.Time) error {
	p, _ := auth.From(r.Context())
	return st.Audit(r.Context(), store.AuditEntry{At: now, Actor: p.Who(), Action: ActViewEvidence, Target: alertID})
}

// Triage applies a triage action to an alert on behalf of r's principal;
// the error says which status answers it.
func Triage(r *http.Request, st *store.Store, alertID string, a store.TriageAction, now time.Time) (store.Triage, int, error) {
	p, _ := auth.From(r.Context())
	t, err := st.Triage(r.Context(), alertID, p.Who(), a, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return t, http.StatusNotFound, err
	case err != nil && a.Check() != nil:
		return t, http.StatusBadRequest, err
	case err != nil:
		return t, http.StatusInternalServerError, err
	}
	return t, http.StatusOK, nil
}

func (s *Server) triage(w http.ResponseWriter, r *http.Request) {
	var a store.TriageAction
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		fail(w, http.StatusBadRequest, errors.New("reading the triage action: "+err.Error()))
		return
	}
	t, code, err := Triage(r, s.Store, r.PathValue("id"), a, s.now())
	if err != nil {
		fail(w, code, err)
		return
	}
	s.Hub.Notify()
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	limit := 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			fail(w, http.StatusBadRequest, errors.New("limit must be a number above 0"))
			return
		}
		limit = n
	}
	list, err := s.Store.AuditLog(r.Context(), r.URL.Query().Get("target"), limit)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}
