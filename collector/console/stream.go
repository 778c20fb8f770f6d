package console

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
)

// How the live stream paces itself: a comment every streamPing keeps
// proxies from closing an idle stream and checks the user is still
// allowed; a stream ends after streamMax so the browser's reconnection
// passes the guard again (an ended session stays ended); bursts of alerts
// within streamCoalesce are one change.
const (
	streamPing     = 15 * time.Second
	streamMax      = 5 * time.Minute
	streamCoalesce = 500 * time.Millisecond
	streamRetryMS  = 1000
)

// stream sends the queue a Server-Sent Event "change" each time an alert
// is stored or triaged; the page then fetches its rows with its filters.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	if s.Hub == nil {
		s.fail(w, http.StatusServiceUnavailable, errors.New("this console has no live updates"))
		return
	}
	rc := http.NewResponseController(w)
	p, _ := auth.From(r.Context())
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	woken := s.Hub.Wait()
	if _, err := fmt.Fprintf(w, "retry: %d\n: live\n\n", streamRetryMS); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		s.log().Warn("the console's live stream cannot flush", "err", err)
		return
	}
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	end := time.NewTimer(streamMax)
	defer end.Stop()
	for {
		msg, changed := ": ping\n\n", false
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-ping.C:
			if p.Person {
				if u, ok := s.Users.Lookup(p.Name); !ok || u.Disabled {
					return
				}
			}
		case <-woken:
			woken = s.Hub.Wait()
			msg, changed = "event: change\ndata: alerts\n\n", true
		}
		if _, err := fmt.Fprint(w, msg); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if changed {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(streamCoalesce):
			}
		}
	}
}
