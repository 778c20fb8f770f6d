package api

import "net/http"

// Enrolment is the answer of /api/enrolment.
type Enrolment struct {
	// Errors names each enrolment record the collector skipped and why.
	Errors []string `json:"errors"`
}

func (s *Server) enrolment(w http.ResponseWriter, _ *http.Request) {
	e := Enrolment{Errors: []string{}}
	if s.Enrolment != nil {
		e.Errors = append(e.Errors, s.Enrolment()...)
	}
	writeJSON(w, http.StatusOK, e)
}
