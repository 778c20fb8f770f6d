package console

import (
	"net/http"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/store"
)

// lossLimit is how many loss records the loss view and the agents' loss
// totals read, newest first.
const lossLimit = 1000

type agentRow struct {
	api.AgentState
	Lost uint64 // confirmed events lost, over every loss record kept
	// Enrolment is "enrolled", "revoked" or "not enrolled" when the
	// collector admits enrolled agents only, else "".
	Enrolment string
	// Revoked is the audit record of the agent's revocation, if any.
	Revoked *store.AuditEntry
}

// agents shows every agent with its site, version, last heartbeat,
// sensors, rule set and bundle beside its site's, liveness, loss and
// enrolment; admins also get the forms to enrol and revoke agents.
func (s *Server) agents(w http.ResponseWriter, r *http.Request) {
	s.renderAgents(w, r, http.StatusOK, agentsData{})
}

func (s *Server) renderAgents(w http.ResponseWriter, r *http.Request, code int, d agentsData) {
	list, err := api.AgentStates(r, s.Store, s.Liveness, s.CurrentBundle)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	lost, err := s.Store.LostByAgent(r.Context())
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	en, err := s.enrolment(r)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	p, _ := auth.From(r.Context())
	d.Manage = s.AgentsDir != "" && auth.Allows(p.Role, auth.RoleAdmin)
	d.Enrolment, d.Revocations, d.Skipped = s.AgentsDir != "", en.revocations, en.skipped
	heard := map[string]bool{}
	for _, a := range list {
		row := agentRow{AgentState: a, Lost: lost[a.AgentID]}
		if d.Enrolment {
			switch rev, ok := en.revoked[a.AgentID]; {
			case en.enrolled[a.AgentID] != nil:
				row.Enrolment = "enrolled"
			case ok:
				row.Enrolment, row.Revoked = "revoked", &rev
			default:
				row.Enrolment = "not enrolled"
			}
		}
		heard[a.AgentID] = true
		d.Rows = append(d.Rows, row)
	}
	for _, a := range en.list {
		if !heard[a.AgentID] {
			d.Unheard = append(d.Unheard, a)
		}
	}
	s.render(w, r, code, "agents", "Agents", d)
}

// loss shows the store's loss records, newest first.
func (s *Server) loss(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.Losses(r.Context(), r.URL.Query().Get("agent_id"), lossLimit)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, http.StatusOK, "loss", "Loss", list)
}
