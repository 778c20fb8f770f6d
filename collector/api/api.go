package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/metrics"
	"github.com/vigilhq/vigil/collector/ocsf"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/event"
)

// Hub wakes tailing clients and the console's live queues when an alert
// is stored or triaged.
type Hub struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewHub returns a Hub.
func NewHub() *Hub { return &Hub{ch: make(chan struct{})} }

// Notify wakes every waiter; a nil Hub has none.
func (h *Hub) Notify() {
	if h == nil {
		return
	}
	h.mu.Lock()
	close(h.ch)
	h.ch = make(chan struct{})
	h.mu.Unlock()
}

// Wait returns a channel closed on the next Notify.
func (h *Hub) Wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

// Server is the HTTP API.
type Server struct {
	// Auth holds the API tokens; without it nothing but /healthz answers.
	Auth *auth.Store
	// Users and Sessions sign people in to the console; nil: tokens only.
	Users    *auth.Users
	Sessions *auth.Sessions
	// Console serves every path the API does not: the web console.
	Console  http.Handler
	Store    *store.Store
	Liveness *liveness.Tracker
	Metrics  *metrics.Metrics
	Hub      *Hub
	// CurrentBundle is the rule bundle version served to a site (0: none);
	// nil: no bundles are served.
	CurrentBundle func(site string) uint64
	// DataDir is the collector's data directory, whose published rule
	// bundles GET /api/bundles lists; "": none.
	DataDir string
	// Enrolment lists the enrolment records the collector skipped.
	Enrolment func() []string
	// Now is the clock "since" durations count back from; default time.Now.
	Now func() time.Time

	// waiting, when set, is called each time a tailing request has found
	// nothing and starts to wait, so tests know when to store an alert.
	waiting func()
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/alerts", s.alerts)
	mux.HandleFunc("GET /api/alerts/{id}", s.alert)
	mux.HandleFunc("POST /api/alerts/{id}/triage", s.triage)
	mux.HandleFunc("GET /api/cases", s.cases)
	mux.HandleFunc("GET /api/cases/{id}", s.caseOf)
	mux.HandleFunc("GET /api/audit", s.audit)
	mux.HandleFunc("GET /api/agents", s.agents)
	mux.HandleFunc("GET /api/loss", s.loss)
	mux.HandleFunc("GET /api/enrolment", s.enrolment)
	mux.HandleFunc("GET /api/bundles", s.bundles)
	mux.HandleFunc("GET /api/ocsf", s.ocsf)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	if s.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	if s.Console != nil {
		mux.Handle("/", s.Console)
	}
	if s.Auth == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				mux.ServeHTTP(w, r)
				return
			}
			fail(w, http.StatusServiceUnavailable, errors.New("the API has no tokens configured"))
		})
	}
	g := &auth.Guard{Tokens: s.Auth, Users: s.Users, Sessions: s.Sessions, Need: need}
	if s.Console != nil {
		g.ChangePassword = ChangePasswordPath
		g.SignIn = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		})
	}
	// A browser's cross-site POST (Sec-Fetch-Site, Origin) is refused before
	// it reaches a session: the console's CSRF protection.
	return http.NewCrossOriginProtection().Handler(g.Wrap(mux))
}

// ChangePasswordPath is the console's page where a person changes their
// password, the only one they reach while they must.
const ChangePasswordPath = "/account/password"

// need is the role each path needs: /healthz and the console's login page
// and static assets none, /metrics a scraper's, the audit log and /admin
// pages an admin's, everything else (alerts, evidence, triage, agents,
// loss, findings) an analyst's.
func need(path string) string {
	switch {
	case path == "/healthz", path == "/login", strings.HasPrefix(path, "/static/"):
		return ""
	case path == "/metrics":
		return auth.RoleMetrics
	case path == "/api/audit", path == "/admin" || strings.HasPrefix(path, "/admin/"):
		return auth.RoleAdmin
	}
	return auth.RoleAnalyst
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the status is sent: a client that went away has no one to tell
}

func fail(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, apiError{Error: err.Error()})
}

// maxWait is the longest a tailing request waits for an alert.
const maxWait = 60 * time.Second

// ParseFilter reads an alert filter, and how long to wait for an alert,
// from query parameters; a since duration counts back from now.
func ParseFilter(r *http.Request, now time.Time) (store.AlertFilter, time.Duration, error) {
	q := r.URL.Query()
	f := store.AlertFilter{Site: q.Get("site"), Host: q.Get("host"), Person: q.Get("person"), Rule: q.Get("rule"),
		AgentID: q.Get("agent_id"), MinSeverity: q.Get("severity"), Status: q.Get("status")}
	if f.MinSeverity != "" && event.SeverityRank(f.MinSeverity) < 0 {
		return f, 0, errors.New("severity must be one of " + strings.Join(event.Severities, ", "))
	}
	if f.Status != "" && !slices.Contains(store.Statuses, f.Status) {
		return f, 0, errors.New("status must be one of " + strings.Join(store.Statuses, ", "))
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, derr := time.ParseDuration(v)
			if derr != nil {
				return f, 0, errors.New("since must be an RFC 3339 time or a duration like 24h")
			}
			t = now.Add(-d)
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, 0, errors.New("limit must be a number, 0 or more")
		}
		f.Limit = n
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, 0, errors.New("after must be an alert number")
		}
		f.Tail, f.After = true, n
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return f, 0, errors.New("wait must be a duration like 30s")
		}
		wait = min(d, maxWait)
	}
	return f, wait, nil
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	f, wait, err := ParseFilter(r, s.now())
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	ctx := r.Context()
	deadline := time.Now().Add(wait)
	for {
		woken := s.Hub.Wait() // before the query: no alert slips between
		list, err := s.Store.Alerts(ctx, f)
		if err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
		if len(list) > 0 || !f.Tail || wait == 0 || time.Now().After(deadline) {
			writeJSON(w, http.StatusOK, list)
			return
		}
		if s.waiting != nil {
			s.waiting()
		}
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-woken:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Server) alert(w http.ResponseWriter, r *http.Request) {
	d, err := s.Store.AlertByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	// Evidence is shown only once its reading is on record.
	if err := RecordView(r, s.Store, d.Event.ID, s.now()); err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) loss(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.Losses(r.Context(), r.URL.Query().Get("agent_id"), 1000)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// Findings renders alerts as OCSF findings with their evidence.
func Findings(ctx context.Context, st *store.Store, alerts []store.Alert) ([]*ocsf.DetectionFinding, error) {
	var out []*ocsf.DetectionFinding
	for _, a := range alerts {
		d, err := st.AlertByID(ctx, a.Event.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, ocsf.Finding(d.Event, d.Evidence, d.Missing))
	}
	return out, nil
}

func (s *Server) ocsf(w http.ResponseWriter, r *http.Request) {
	f, _, err := ParseFilter(r, s.now())
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	if !f.Tail {
		f.Tail = true // oldest first, from the start
	}
	list, err := s.Store.Alerts(r.Context(), f)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	findings, err := Findings(r.Context(), s.Store, list)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	// A SIEM pull reads evidence too: one record per pull, naming how much.
	p, _ := auth.From(r.Context())
	if err := s.Store.Audit(r.Context(), store.AuditEntry{At: s.now(), Actor: p.Who(), Action: "export_findings",
		Target: "ocsf", Detail: strconv.Itoa(len(findings)) + " findings: " + r.URL.RawQuery}); err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, f := range findings {
		if enc.Encode(f) != nil {
			return // the client went away
		}
	}
}
