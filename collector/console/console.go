package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/evidence"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server serves the console's pages.
type Server struct {
	Store    *store.Store
	Users    *auth.Users
	Sessions *auth.Sessions
	// Hub wakes the queue's live stream when an alert is stored; nil: the
	// queue is not live.
	Hub *api.Hub
	// Liveness says whether each agent is running; nil leaves it unknown.
	Liveness *liveness.Tracker
	// CurrentBundle is the rule bundle version served to a site (0: none);
	// nil: no bundles are served.
	CurrentBundle func(site string) uint64
	// AgentsDir is the collector's directory of enrolled agents when its
	// NATS server admits enrolled agents only: the agents page says who is
	// enrolled and admins enrol and revoke there; "": no enrolment.
	AgentsDir string
	// DataDir is the collector's data directory, whose signing key signs
	// the rule bundles admins publish on the rules page; "": no publishing.
	DataDir string
	// Now is the clock; default time.Now.
	Now func() time.Time
	Log *slog.Logger

	pages    map[string]*template.Template
	throttle *auth.Throttle
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// pageNames are the templates rendered as whole pages, each inside
// layout.html.
var pageNames = []string{"login", "queue", "detail", "cases", "case", "person", "audit", "agents", "loss", "password", "users", "rules"}

var funcs = template.FuncMap{
	"when":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"day":       func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"upper":     strings.ToUpper,
	"person":    func(e *event.Event) string { return e.Process.Person() },
	"describe":  evidence.Describe,
	"lineage":   evidence.Lineage,
	"bytes":     evidence.Bytes,
	"join":      strings.Join,
	"hasPrefix": strings.HasPrefix,
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
}

// Handler returns the console's routes; the caller puts them behind the
// guard.
func (s *Server) Handler() (http.Handler, error) {
	s.pages, s.throttle = map[string]*template.Template{}, auth.NewThrottle()
	for _, name := range append(pageNames, "rows") {
		files := []string{"templates/layout.html", "templates/rows.html", "templates/" + name + ".html"}
		if name == "rows" {
			files = []string{"templates/rows.html"}
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("parsing the console's %s template: %w", name, err)
		}
		s.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/alerts", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /alerts", s.queue)
	mux.HandleFunc("GET /alerts/rows", s.rows)
	mux.HandleFunc("GET /alerts/stream", s.stream)
	mux.HandleFunc("GET /alerts/charts", s.overviewData)
	mux.HandleFunc("GET /alerts/{id}", s.detail)
	mux.HandleFunc("POST /alerts/{id}/triage", s.triage)
	mux.HandleFunc("GET /cases", s.cases)
	mux.HandleFunc("GET /cases/{id}", s.caseOf)
	mux.HandleFunc("GET /people/{name}", s.person)
	mux.HandleFunc("GET /agents", s.agents)
	mux.HandleFunc("GET /loss", s.loss)
	mux.HandleFunc("GET /admin/audit", s.audit)
	mux.HandleFunc("GET /admin/users", s.users)
	mux.HandleFunc("POST /admin/users", s.userAction)
	mux.HandleFunc("POST /admin/agents", s.agentAction)
	mux.HandleFunc("GET /admin/rules", s.rulesPage)
	mux.HandleFunc("POST /admin/rules", s.publishRules)
	mux.HandleFunc("GET "+api.ChangePasswordPath, s.passwordPage)
	mux.HandleFunc("POST "+api.ChangePasswordPath, s.changePassword)
	return mux, nil
}

// page is what every page's layout needs.
type page struct {
	Title string
	User  auth.Principal
	Admin bool
	// Charts loads uPlot and charts.js, for the pages that draw charts.
	Charts bool
	Data   any
}

// chartPages are the pages with charts.
var chartPages = map[string]bool{"queue": true, "person": true}

// render renders the page name (or a fragment: "rows") with data.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name, title string, data any) {
	p, _ := auth.From(r.Context())
	var buf bytes.Buffer
	tmpl := "layout"
	if name == "rows" {
		tmpl = "rows"
	}
	err := s.pages[name].ExecuteTemplate(&buf, tmpl, page{Title: title, User: p, Admin: auth.Allows(p.Role, auth.RoleAdmin), Charts: chartPages[name], Data: data})
	if err != nil {
		s.log().Error("rendering a console page", "page", name, "err", err)
		http.Error(w, "rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Evidence is not to linger in shared caches or the browser's history.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes()) // the status is sent: a client that went away has no one to tell
}

// fail answers a failed request with its error on a plain page.
func (s *Server) fail(w http.ResponseWriter, code int, err error) {
	if code >= 500 {
		s.log().Error("console request failed", "err", err)
	}
	http.Error(w, err.Error(), code)
}
