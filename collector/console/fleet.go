package console

import (
	"net/http"

	"github.com/vigilhq/vigil/collector/api"
)

// lossLimit is how many loss records the loss view and the agents' loss
// totals read, newest first.
const lossLimit = 1000

type agentRow struct {
	api.AgentState
	Lost uint64 // confirmed events lost, over every loss record kept
}

// agents shows every agent with its site, version, last heartbeat,
// sensors, rule set and bundle beside its site's, liveness and loss.
func (s *Server) agents(w http.ResponseWriter, r *http.Request) {
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
	rows := make([]agentRow, 0, len(list))
	for _, a := range list {
		rows = append(rows, agentRow{AgentState: a, Lost: lost[a.AgentID]})
	}
	s.render(w, r, http.StatusOK, "agents", "Agents", rows)
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
