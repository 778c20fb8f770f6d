package rules

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// constString evaluates an attribute that must be a constant string.
func (c *compiler) constString(a *hcl.Attribute, what string, deps *exprCtx) (string, hcl.Diagnostics) {
	n, diags := deps.compile(a.Expr)
	if n == nil {
		return "", diags
	}
	if n.typ != tStr || !n.isConst {
		return "", append(diags, errDiag(a.Expr.Range(), "Invalid "+what,
			fmt.Sprintf("%s must be a constant string.", a.Name)))
	}
	return n.cv.s, diags
}

// constNumber evaluates an attribute that must be a constant number.
func (c *compiler) constNumber(a *hcl.Attribute, deps *exprCtx) (float64, hcl.Diagnostics) {
	n, diags := deps.compile(a.Expr)
	if n == nil {
		return 0, diags
	}
	if n.typ != tNum || !n.isConst {
		return 0, append(diags, errDiag(a.Expr.Range(), "Invalid number",
			fmt.Sprintf("%s must be a constant number.", a.Name)))
	}
	return n.cv.n, diags
}

// duration evaluates an attribute that must be a constant duration.
func (c *compiler) duration(a *hcl.Attribute, deps *exprCtx) (time.Duration, hcl.Diagnostics) {
	s, diags := c.constString(a, "duration", deps)
	if diags.HasErrors() {
		return 0, diags
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, append(diags, errDiag(a.Expr.Range(), "Invalid duration", err.Error()+"."))
	}
	if d < time.Second || d > 366*24*time.Hour {
		return 0, append(diags, errDiag(a.Expr.Range(), "Invalid duration",
			fmt.Sprintf("%s must be between 1s and 366d, not %s.", a.Name, s)))
	}
	return d, diags
}

// parseDuration accepts Go durations plus d (days) and w (weeks).
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d", s)
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		mult := time.Duration(0)
		switch unit {
		case "d":
			mult = 24 * time.Hour
		case "w":
			mult = 7 * 24 * time.Hour
		}
		if mult != 0 {
			var f float64
			if _, err := fmt.Sscanf(num, "%g", &f); err != nil {
				return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d", s)
			}
			total += time.Duration(f * float64(mult))
			continue
		}
		d, err := time.ParseDuration(num + unit)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 90s, 15m, 8h or 7d (unit %q)", s, unit)
		}
		total += d
	}
	return total, nil
}
