package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/collector/store"
)

// Audit actions of the agents page's forms; the target is "agent:ID".
const (
	auditEnrol  = "agent_enrol"
	auditRevoke = "agent_revoke"
)

type agentsData struct {
	Rows []agentRow
	// Enrolment says the collector admits enrolled agents only, so each
	// row says whether its agent is enrolled.
	Enrolment bool
	// Manage shows an admin the forms to enrol and revoke agents.
	Manage bool
	// Unheard are enrolled agents that have not reported yet.
	Unheard []enrol.Agent
	// Revocations are the latest revocations made in the console.
	Revocations []store.AuditEntry
	// Skipped names enrolment records the console could not read.
	Skipped []string
	// Issued is an enrolment just made, its credentials shown this once.
	Issued *enrolled
	Done   string
	Error  string
}

// enrolled is an agent just enrolled, with its credentials file's
// content and the agent.hcl lines that bind it.
type enrolled struct {
	Agent    *enrol.Agent
	Creds    string
	Settings string
}

// enrolmentState is the agents directory as the agents page shows it.
type enrolmentState struct {
	list        []enrol.Agent
	enrolled    map[string]*enrol.Agent
	revoked     map[string]store.AuditEntry
	revocations []store.AuditEntry
	skipped     []string
}

// revocationsShown is how many revocations the agents page reads back.
const revocationsShown = 200

func (s *Server) enrolment(r *http.Request) (enrolmentState, error) {
	st := enrolmentState{enrolled: map[string]*enrol.Agent{}, revoked: map[string]store.AuditEntry{}}
	if s.AgentsDir == "" {
		return st, nil
	}
	list, errs := enrol.Load(s.AgentsDir)
	st.list = list
	for i := range list {
		st.enrolled[list[i].AgentID] = &list[i]
	}
	for _, err := range errs {
		st.skipped = append(st.skipped, err.Error())
	}
	revs, err := s.Store.AuditByAction(r.Context(), auditRevoke, revocationsShown)
	if err != nil {
		return st, err
	}
	st.revocations = revs
	for _, e := range revs {
		id := strings.TrimPrefix(e.Target, "agent:")
		if _, seen := st.revoked[id]; !seen {
			st.revoked[id] = e
		}
	}
	return st, nil
}

// agentAction enrols or revokes an agent as an admin asked, as vigil enrol
// does on the collector host: the collector reloads its agents directory
// within seconds, so a revoked agent's next connection is refused. Every
// change is in the audit log before the page says it is done.
func (s *Server) agentAction(w http.ResponseWriter, r *http.Request) {
	if s.AgentsDir == "" {
		s.fail(w, http.StatusNotFound, errors.New("this collector does not enrol agents (its NATS server admits agents without keys)"))
		return
	}
	p, _ := auth.From(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, fmt.Errorf("reading the agent form: %w", err))
		return
	}
	f := r.PostForm
	var d agentsData
	var entry store.AuditEntry
	switch action := f.Get("action"); action {
	case "enrol":
		a, creds, err := enrol.Enrol(s.AgentsDir, f.Get("site"), f.Get("host"), strings.TrimSpace(f.Get("agent_id")))
		if err != nil {
			s.renderAgents(w, r, http.StatusBadRequest, agentsData{Error: "Not enrolled: " + err.Error() + "."})
			return
		}
		d.Issued = &enrolled{Agent: a, Creds: string(creds), Settings: a.Settings("/etc/vigil/agent.nk")}
		entry = store.AuditEntry{Action: auditEnrol, Target: "agent:" + a.AgentID,
			Detail: fmt.Sprintf("site %s, host %s, key %s", a.Site, clip(a.Host), a.PublicKey)}
	case "revoke":
		id := f.Get("agent_id")
		if err := enrol.Revoke(s.AgentsDir, id); err != nil {
			s.renderAgents(w, r, http.StatusBadRequest, agentsData{Error: "Not revoked: " + err.Error() + "."})
			return
		}
		d.Done = fmt.Sprintf("Revoked agent %s: the collector refuses its key within a few seconds.", id)
		entry = store.AuditEntry{Action: auditRevoke, Target: "agent:" + id}
	default:
		s.fail(w, http.StatusBadRequest, fmt.Errorf("agent action %q: want enrol or revoke", action))
		return
	}
	entry.At, entry.Actor = s.now(), p.Who()
	if err := s.Store.Audit(r.Context(), entry); err != nil {
		// An enrolment not on record is undone; a revocation stands, as
		// cutting an agent off is the safe side.
		if d.Issued != nil {
			err = errors.Join(err, enrol.Revoke(s.AgentsDir, d.Issued.Agent.AgentID))
		}
		s.fail(w, http.StatusInternalServerError, fmt.Errorf("recording the agent change in the audit log: %w", err))
		return
	}
	s.renderAgents(w, r, http.StatusOK, d)
}
