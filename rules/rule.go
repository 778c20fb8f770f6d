package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/vigilhq/vigil/event"
)

// ruleType is which of the three rule blocks a rule came from.
type ruleType uint8

const (
	typeMatch ruleType = iota
	typeThreshold
	typeSequence
)

func (t ruleType) String() string {
	return [...]string{"rule", "threshold", "sequence"}[t]
}

// rule is one compiled rule, threshold or sequence.
type rule struct {
	name        string
	typ         ruleType
	scope       string
	severity    string
	description string
	tags        []string
	summary     *node
	when        *node // match and threshold
	kinds       kindSet
	exceptions  []*exception
	by          []keyExpr
	rng         hcl.Range

	// threshold
	agg        aggKind
	aggExpr    *node
	window     time.Duration
	limit      float64
	baseline   time.Duration
	factor     float64
	minHistory time.Duration
	cooldown   time.Duration
	peers      []int // indexes in by of the keys peers share
	minPeers   int

	// sequence
	steps []*step

	// fingerprint changes whenever anything that shapes the rule's window
	// state does; Engine.Swap keeps state across equal fingerprints.
	fingerprint string
}

// rule compiles a rule, threshold or sequence block (typ is its block type).
func (c *compiler) rule(typ string, bi blockIn) (*rule, hcl.Diagnostics) {
	schema := map[string]*hcl.BodySchema{"rule": ruleSchema, "threshold": thresholdSchema, "sequence": sequenceSchema}[typ]
	content, diags := bi.b.Body.Content(schema)
	if diags.HasErrors() {
		return nil, diags
	}
	r := &rule{name: bi.b.Labels[0], scope: ScopeHost, rng: bi.b.DefRange}
	x := &exprCtx{c: c} // collects deps for the fingerprint
	at := content.Attributes
	r.typ = map[string]ruleType{"rule": typeMatch, "threshold": typeThreshold, "sequence": typeSequence}[typ]

	if a := at["scope"]; a != nil {
		s, d := c.constString(a, "scope", x)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if s != ScopeHost && s != ScopeGlobal {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid scope",
					fmt.Sprintf("scope must be \"host\" (agent) or \"global\" (collector), not %q.%s", s,
						suggest(s, []string{ScopeHost, ScopeGlobal}))))
			}
			r.scope = s
		}
	}
	if a := at["severity"]; a != nil {
		s, d := c.constString(a, "severity", x)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if event.SeverityRank(s) < 0 {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid severity",
					fmt.Sprintf("severity must be one of %s, not %q.%s", strings.Join(event.Severities, ", "), s,
						suggest(s, event.Severities))))
			}
			r.severity = s
		}
	}
	if a := at["description"]; a != nil {
		s, d := c.constString(a, "description", x)
		diags = append(diags, d...)
		r.description = s
	}
	if a := at["tags"]; a != nil {
		n, d := x.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil {
			if n.typ != tList || !n.isConst {
				diags = append(diags, errDiag(a.Expr.Range(), "Invalid tags", "tags must be a list of strings, e.g. [\"T1005\"]."))
			} else {
				r.tags = n.cv.l
			}
		}
	}

	switch r.typ {
	case typeMatch, typeThreshold:
		if a := at["when"]; a != nil {
			wx := &exprCtx{c: c}
			n, d := wx.compileBool(a.Expr, "when condition")
			diags = append(diags, d...)
			if n != nil {
				r.when, r.kinds = n, n.kinds
				diags = append(diags, checkFieldKinds(wx.fieldRefs, r.kinds)...)
			}
			x.merge(wx)
		}
		if a := at["by"]; a != nil {
			keys, d := c.keys(a, x, bi.file.data)
			diags = append(diags, d...)
			r.by = keys
		} else if r.typ == typeThreshold {
			diags = append(diags, errDiag(bi.b.DefRange, "Missing by",
				"A threshold needs `by`, the keys it counts per (e.g. by = [person]); use by = [host] to count per host."))
		}
	case typeSequence:
		if a := at["by"]; a != nil {
			keys, d := c.keys(a, x, bi.file.data)
			diags = append(diags, d...)
			r.by = keys
		}
		diags = append(diags, c.steps(r, content.Blocks, x, bi)...)
	}
	if r.typ != typeMatch {
		if a := at["window"]; a != nil {
			w, d := c.duration(a, x)
			diags = append(diags, d...)
			r.window = w
		}
	}
	if r.typ == typeThreshold {
		diags = append(diags, c.threshold(r, at, x, bi.file.data)...)
	}
	if r.kinds == nil && r.when != nil && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Rule matches every event kind",
			Detail:  "Add a condition such as kind == \"db.query\" so the rule is only evaluated for events it can match.",
			Subject: bi.b.DefRange.Ptr()})
	}

	sx := &exprCtx{c: c, summary: true, steps: r.steps}
	if a := at["summary"]; a != nil {
		n, d := sx.compile(a.Expr)
		diags = append(diags, d...)
		if n != nil {
			r.summary = &node{typ: tStr, s: stringer(n)}
		}
	} else {
		text := r.description
		if text == "" {
			text = "rule " + r.name + " fired"
		}
		r.summary = constNode(tStr, value{s: text}, bi.b.DefRange)
	}
	x.merge(sx)
	if diags.HasErrors() {
		return nil, diags
	}

	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", typ, r.scope, bi.src())
	for _, k := range sortedKeys(x.deps) {
		fmt.Fprintf(h, "%s\x00%s\x00", k, x.deps[k])
	}
	r.fingerprint = hex.EncodeToString(h.Sum(nil))
	return r, diags
}
