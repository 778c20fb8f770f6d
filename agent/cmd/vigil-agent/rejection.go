package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/vigilhq/vigil/event"
)

// rejectionAlert is the alert for host rule files that did not compile:
// where the first error is (file:line:col), what the agent runs instead,
// who changed the file (the writes the file sensor saw, cited as evidence,
// else the file's owner) and every diagnostic.
func rejectionAlert(dir string, diags hcl.Diagnostics, text, consequence string, writers map[string][]writer) *event.Event {
	where, what := dir, "the rule files were rejected"
	group := map[string]string{"dir": dir}
	var file string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		what = d.Summary
		if d.Subject != nil && d.Subject.Filename != "" {
			file = d.Subject.Filename
			where = fmt.Sprintf("%s:%d:%d", file, d.Subject.Start.Line, d.Subject.Start.Column)
			group["file"], group["line"] = file, strconv.Itoa(d.Subject.Start.Line)
		}
		break
	}
	evidence := []string{}
	var who []string
	for _, w := range writers[file] {
		evidence = append(evidence, w.eventID)
		who = append(who, w.who)
	}
	if file != "" {
		if owner := ownerOf(file); owner != "" {
			group["owner"] = owner
			if len(who) == 0 {
				who = append(who, "file owner "+owner)
			}
		}
	}
	if len(who) > 0 {
		group["changed_by"] = strings.Join(who, "; ")
	}
	summary := fmt.Sprintf("host rules rejected: %s: %s; %s", where, what, consequence)
	if len(who) > 0 {
		summary += " (changed by " + group["changed_by"] + ")"
	}
	return &event.Event{
		Time: time.Now().UTC(), Kind: event.KindAlert,
		Alert: &event.Alert{Rule: RuleRejected, Severity: event.SeverityHigh, Summary: summary,
			Description: "The agent's host rule files did not compile, so the agent kept rules that did. Fix the files (vigil rules check), or find out who changed them and why.\n\n" + text,
			Tags:        []string{"T1562.001"}, Evidence: evidence, Group: group, Scope: "host"},
	}
}

// ownerOf names the owner of path, with its last change, "" if unknown.
func ownerOf(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	name := ""
	if u, err := user.LookupId(strconv.FormatUint(uint64(sys.Uid), 10)); err == nil {
		name = " (" + u.Username + ")"
	}
	return fmt.Sprintf("uid %d%s, modified %s", sys.Uid, name, st.ModTime().UTC().Format(time.RFC3339))
}
