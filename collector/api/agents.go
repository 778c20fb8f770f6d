package api

import (
	"net/http"

	"github.com/vigilhq/vigil/collector/liveness"
	"github.com/vigilhq/vigil/collector/store"
)

// AgentState is an agent as GET /api/agents lists it: what the store knows,
// its liveness, and its rule bundle beside its site's current one.
type AgentState struct {
	store.Agent
	// SiteBundle is the version of the rule bundle the collector serves the
	// agent's site, 0 when it serves none.
	SiteBundle uint64 `json:"site_bundle,omitempty"`
	// BundleStale says the site has a bundle and the agent does not run it:
	// it runs an older or no bundle, or local rule files.
	BundleStale bool `json:"bundle_stale,omitempty"`
}

// AgentStates lists the store's agents with their liveness (nil: unknown)
// and their sites' current bundles (nil: none served).
func AgentStates(r *http.Request, st *store.Store, live *liveness.Tracker, current func(site string) uint64) ([]AgentState, error) {
	list, err := st.Agents(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]AgentState, 0, len(list))
	for _, a := range list {
		s := AgentState{Agent: a}
		if live != nil {
			s.Status = live.Status(a.AgentID)
		}
		if current != nil {
			s.SiteBundle = current(a.Site)
		}
		hb := a.Heartbeat
		onCurrent := hb != nil && hb.RulesMode == liveness.RulesModeBundle && hb.BundleVersion == s.SiteBundle
		s.BundleStale = s.SiteBundle > 0 && !onCurrent
		out = append(out, s)
	}
	return out, nil
}

func (s *Server) agents(w http.ResponseWriter, r *http.Request) {
	list, err := AgentStates(r, s.Store, s.Liveness, s.CurrentBundle)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}
