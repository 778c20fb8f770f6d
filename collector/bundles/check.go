package bundles

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

// ErrRejected says the rules were refused and why has been written out.
var ErrRejected = errors.New("rules rejected; nothing published")

// CheckAndPublish checks the loaded set (nil when loading failed, with
// its diagnostics) as vigil rules check and test do, against the
// identifiers the agents hash, and publishes it as site's bundle from
// dataDir only when it compiles, reads only hashed identifiers and passes
// its tests. Diagnostics (file and line, with a snippet from srcs, or from
// the files they name when srcs is nil) and failed tests go to out; a
// refusal is ErrRejected.
func CheckAndPublish(dataDir, site string, set *rules.Set, diags hcl.Diagnostics, srcs []rules.Source, hashed []string, now time.Time, out io.Writer) (*bundle.Bundle, error) {
	if set != nil {
		more := set.CheckIdentifiers(hashed)
		diags = append(diags, more...)
		if more.HasErrors() {
			set = nil
		}
	}
	// out is a buffer or the terminal: nothing to do on a failed write.
	if srcs != nil {
		_ = rules.WriteDiagnosticsOf(out, diags, srcs, 100, false)
	} else {
		_ = rules.WriteDiagnostics(out, diags, 100, false)
	}
	if set == nil {
		fmt.Fprintf(out, "rejected: %d error(s)\n", rules.ErrorCount(diags))
		return nil, ErrRejected
	}
	failed := 0
	for _, r := range set.RunTests() {
		if r.Passed {
			continue
		}
		failed++
		fmt.Fprintf(out, "FAIL  %s (%s)\n", r.Name, r.Pos)
		for _, f := range r.Failures {
			fmt.Fprintf(out, "      %s\n", f)
		}
	}
	if failed > 0 {
		fmt.Fprintf(out, "rejected: %d test(s) failed\n", failed)
		return nil, ErrRejected
	}
	for _, r := range set.Rules() {
		if r.Scope == rules.ScopeGlobal {
			fmt.Fprintf(out, "warning: rule %s is global: agents run host rules only; the collector's rules directory runs global ones\n", r.Name)
		}
	}
	return Publish(dataDir, site, set, now)
}
