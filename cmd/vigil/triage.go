package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/vigilhq/vigil/collector/store"
)

// triageActions maps the CLI's verbs to the API's actions.
var triageActions = map[string]string{"ack": store.ActAcknowledge, "assign": store.ActAssign, "close": store.ActClose,
	"reopen": store.ActReopen, "note": store.ActNote}

// alertsTriage applies a triage action to alert id through the API, which
// checks it and records who did it.
func alertsTriage(ctx context.Context, f *alertsFlags, verb, id string, w io.Writer) error {
	a := store.TriageAction{Action: triageActions[verb], Reason: f.reason, Note: f.note, Assignee: f.to}
	if err := a.Check(); err != nil {
		return err
	}
	var t store.Triage
	if err := f.call(ctx, http.MethodPost, "/api/alerts/"+url.PathEscape(id)+"/triage", nil, a, &t); err != nil {
		return fmt.Errorf("%s %s: %w", verb, id, err)
	}
	fmt.Fprintf(w, "%s: %s", id, t.Status)
	if t.Reason != "" {
		fmt.Fprintf(w, " (%s)", t.Reason)
	}
	if t.Assignee != "" {
		fmt.Fprintf(w, ", assigned to %s", t.Assignee)
	}
	fmt.Fprintln(w)
	return nil
}
