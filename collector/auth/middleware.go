package auth

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Need is the role a path needs.
type Need func(path string) string

// Middleware lets a request through to next only with a token whose role
// allows what need says the path needs; "" needs none (/healthz).
func (s *Store) Middleware(need Need, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := need(r.URL.Path)
		if role == "" {
			next.ServeHTTP(w, r)
			return
		}
		text, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			deny(w, http.StatusUnauthorized, "this API needs a bearer token (Authorization: Bearer <token>)")
			return
		}
		t, ok := s.Check(strings.TrimSpace(text))
		if !ok {
			deny(w, http.StatusUnauthorized, "unknown or revoked token")
			return
		}
		if !Allows(t.Role, role) {
			deny(w, http.StatusForbidden, "token "+t.Name+" has role "+t.Role+"; this needs "+role)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func deny(w http.ResponseWriter, code int, msg string) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg}) // the status is sent: a client that went away has no one to tell
}
