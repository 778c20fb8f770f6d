package console

import (
	"net/http"

	"github.com/vigilhq/vigil/collector/store"
)

// lossLimit is how many loss records the loss view and the agents' loss
// totals read, newest first.
const lossLimit = 1000

type agentRow struct {
	store.Agent
	Lost uint64 // confirmed events lost, over every loss record kept
}

// agents shows every agent with its site, version, last heartbeat,
// sensors, rule set, liveness and loss.
func (s *Server) agents(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.Agents(r.Context())
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
		if s.Liveness != nil {
			a.Status = s.Liveness.Status(a.AgentID)
		}
		rows = append(rows, agentRow{Agent: a, Lost: lost[a.AgentID]})
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
