package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// Need is the role a path needs.
type Need func(path string) string

// Principal is who made a request: a token (the CLI, a SIEM, a scraper) or
// a person signed in to the console.
type Principal struct {
	Name string
	Role string
	// Person is true for a console session, false for a token.
	Person bool
	// MustChange is true while a person's password is one they were given:
	// they may only change it (or sign out).
	MustChange bool
}

// Who names p in audit records: "token:NAME" for a token.
func (p Principal) Who() string {
	if p.Person {
		return p.Name
	}
	return "token:" + p.Name
}

type principalKey struct{}

// From returns the principal the guard let through.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Guard lets a request through only with credentials whose role allows
// what Need says its path needs: a bearer token, or a console session.
type Guard struct {
	Tokens   *Store
	Users    *Users    // nil: no console sign-in
	Sessions *Sessions // nil: no console sign-in
	Need     Need
	// SignIn answers a request without credentials for a path that is not
	// the API's (a browser): usually a redirect to the login page. Nil
	// answers 401.
	SignIn http.Handler
	// ChangePassword is the page a person whose password MustChange is
	// sent to; it and /logout are all they reach.
	ChangePassword string
}

// Middleware lets a request through to next only with a token whose role
// allows what need says the path needs; "" needs none (/healthz).
func (s *Store) Middleware(need Need, next http.Handler) http.Handler {
	return (&Guard{Tokens: s, Need: need}).Wrap(next)
}

// Wrap returns next behind the guard.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := g.Need(r.URL.Path)
		if role == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, ok := g.principal(w, r)
		if !ok {
			return
		}
		if p.MustChange && r.URL.Path != g.ChangePassword && r.URL.Path != "/logout" {
			if isAPI(r.URL.Path) || g.ChangePassword == "" {
				deny(w, http.StatusForbidden, "user "+p.Name+" must change their password first")
				return
			}
			http.Redirect(w, r, g.ChangePassword, http.StatusSeeOther)
			return
		}
		if !Allows(p.Role, role) {
			what := "token " + p.Name
			if p.Person {
				what = "user " + p.Name
			}
			deny(w, http.StatusForbidden, what+" has role "+p.Role+"; this needs "+role)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// principal finds who r comes from, or answers w and returns false.
func (g *Guard) principal(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		text, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			deny(w, http.StatusUnauthorized, "this API needs a bearer token (Authorization: Bearer <token>)")
			return Principal{}, false
		}
		t, ok := g.Tokens.Check(strings.TrimSpace(text))
		if !ok {
			deny(w, http.StatusUnauthorized, "unknown or revoked token")
			return Principal{}, false
		}
		return Principal{Name: t.Name, Role: t.Role}, true
	}
	if g.Sessions != nil && g.Users != nil {
		if name, ok := g.Sessions.User(r); ok {
			// The user is read at each request: a removed or disabled user is
			// out at once.
			if u, ok := g.Users.Lookup(name); ok && !u.Disabled {
				return Principal{Name: u.Name, Role: u.Role, Person: true, MustChange: u.MustChange}, true
			}
		}
	}
	if g.SignIn != nil && !isAPI(r.URL.Path) {
		g.SignIn.ServeHTTP(w, r)
		return Principal{}, false
	}
	deny(w, http.StatusUnauthorized, "this needs a bearer token (Authorization: Bearer <token>) or a console session")
	return Principal{}, false
}

func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/metrics"
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
