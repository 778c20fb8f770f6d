package console

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/event"
)

// An admin enrols an agent from the agents page, sees its credentials
// once, and revokes it; both are in the audit log, the revocation shows
// who and when, and the agents directory the collector reads changes as
// vigil enrol would change it. A bad site is refused naming it, and an
// analyst sees no forms.
func TestAgentEnrolAndRevoke(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	data := t.TempDir()
	dir := filepath.Join(data, "agents")
	h, err := (&Server{Store: st, AgentsDir: dir, DataDir: data}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	admin := as(h, auth.Principal{Name: "root", Role: auth.RoleAdmin, Person: true})
	analyst := as(h, auth.Principal{Name: "ana", Role: auth.RoleAnalyst, Person: true})

	w := do(admin, "POST", "/admin/agents", url.Values{"action": {"enrol"}, "site": {"leeds"}, "host": {"ws-9"}, "agent_id": {"ag-9"}})
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, "BEGIN USER NKEY SEED") || !strings.Contains(body, `agent_id = &#34;ag-9&#34;`) {
		t.Fatalf("enrol: %d, page without the credentials:\n%s", w.Code, body)
	}
	if list, _ := enrol.Load(dir); len(list) != 1 || list[0].AgentID != "ag-9" || list[0].Site != "leeds" {
		t.Fatalf("enrolled: %+v", list)
	}
	// The credentials are shown once: the next page load has none.
	page := do(admin, "GET", "/agents", nil).Body.String()
	if strings.Contains(page, "NKEY SEED") || !strings.Contains(page, `<tr data-agent="ag-9"><td>ag-9</td>`) {
		t.Errorf("the agents page after enrolling: seed shown again, or ag-9 not listed as enrolled")
	}
	if !strings.Contains(page, `id="enrol"`) || !strings.Contains(page, `class="revoke"`) {
		t.Errorf("an admin's agents page lacks the enrol or revoke forms")
	}
	if page := do(analyst, "GET", "/agents", nil).Body.String(); strings.Contains(page, `id="enrol"`) || strings.Contains(page, `class="revoke"`) ||
		!strings.Contains(page, "ag-9") {
		t.Errorf("an analyst's agents page shows the admin forms, or not the enrolled agent")
	}

	// ag-9 starts and reports: its row says it is enrolled.
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SeenAgent(&event.Event{ID: "hb-9", Kind: event.KindHeartbeat, Site: "leeds", Host: "ws-9", AgentID: "ag-9", BootID: "b9",
		Heartbeat: &event.Heartbeat{IntervalS: 10}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if page := do(admin, "GET", "/agents", nil).Body.String(); !strings.Contains(page, `<td class="enrolment enrolment-enrolled">enrolled`) {
		t.Errorf("the reporting ag-9's row does not say it is enrolled")
	}

	w = do(admin, "POST", "/admin/agents", url.Values{"action": {"revoke"}, "agent_id": {"ag-9"}})
	if !regexp.MustCompile(`<td class="enrolment enrolment-revoked">revoked <span class="revoked-by">by root, \d{4}-`).MatchString(w.Body.String()) {
		t.Errorf("ag-9's row does not say who revoked it and when")
	}
	if w.Code != 200 || !regexp.MustCompile(`<tr><td>agent:ag-9</td><td>root</td><td>\d{4}-`).MatchString(w.Body.String()) {
		t.Errorf("revoke: %d, the page does not say who revoked ag-9 and when:\n%s", w.Code, w.Body)
	}
	if list, _ := enrol.Load(dir); len(list) != 0 {
		t.Errorf("still enrolled after revoking: %+v", list)
	}
	log, _ := st.AuditLog(context.Background(), "agent:ag-9", 0)
	if len(log) != 2 || log[0].Action != "agent_revoke" || log[1].Action != "agent_enrol" || log[0].Actor != "root" {
		t.Errorf("audit: %+v", log)
	}

	w = do(admin, "POST", "/admin/agents", url.Values{"action": {"enrol"}, "site": {"le eds"}, "host": {"ws-1"}})
	if w.Code != 400 || !strings.Contains(w.Body.String(), "le eds") {
		t.Errorf("a bad site: %d", w.Code)
	}
	if w := do(admin, "POST", "/admin/agents", url.Values{"action": {"revoke"}, "agent_id": {"ag-9"}}); w.Code != 400 ||
		!strings.Contains(w.Body.String(), "ag-9 is not enrolled") {
		t.Errorf("revoking twice: %d", w.Code)
	}
}

// as serves h to requests made as p, as the guard would let them through.
func as(h http.Handler, p auth.Principal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}
