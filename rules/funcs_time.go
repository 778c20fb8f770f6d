package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must resolve on hosts without tzdata installed

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// timeArgs checks a time function's time (argument 0) and its constant
// time zone (argument tzArg).
func timeArgs(call *hclsyntax.FunctionCallExpr, a []*node, tzArg int) (func(*env) time.Time, *time.Location, *hcl.Diagnostic) {
	if a[0].typ != tTime {
		return nil, nil, argErr(call, 0, "a time (such as time)", a[0])
	}
	tz := a[tzArg]
	if tz.typ != tStr || !tz.isConst {
		return nil, nil, constArgErr(call, tzArg, "time zone name")
	}
	loc, err := time.LoadLocation(tz.cv.s)
	if err != nil || tz.cv.s == "" {
		return nil, nil, errDiag(call.Args[tzArg].Range(), "Unknown time zone",
			fmt.Sprintf("%q is not a time zone name like UTC or Europe/London.", tz.cv.s))
	}
	return a[0].tm, loc, nil
}

// fnHour compiles hour.
func fnHour(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	tm, loc, d := timeArgs(call, a, 1)
	if d != nil {
		return nil, d
	}
	return &node{typ: tNum, n: func(e *env) float64 {
		h, m, s := tm(e).In(loc).Clock()
		return float64(h) + float64(m)/60 + float64(s)/3600
	}}, nil
}

// weekdayNames are what weekday returns, indexed by time.Weekday.
var weekdayNames = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// fnWeekday compiles weekday.
func fnWeekday(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	tm, loc, d := timeArgs(call, a, 1)
	if d != nil {
		return nil, d
	}
	return &node{typ: tStr, s: func(e *env) string { return weekdayNames[tm(e).In(loc).Weekday()] }}, nil
}

// clockArg reads a time of day as hours: "08:30" or 8.5.
func clockArg(call *hclsyntax.FunctionCallExpr, a []*node, i int) (func(*env) float64, *hcl.Diagnostic) {
	n := a[i]
	switch n.typ {
	case tNum:
		return n.n, nil
	case tStr:
		if !n.isConst {
			return nil, constArgErr(call, i, "time of day")
		}
		h, err := parseClock(n.cv.s)
		if err != nil {
			return nil, errDiag(call.Args[i].Range(), "Invalid time of day", err.Error()+".")
		}
		return func(*env) float64 { return h }, nil
	}
	return nil, argErr(call, i, "a time of day like \"08:30\" or a number of hours", n)
}

// parseClock reads a time of day, such as "08:30" or "8", as hours.
func parseClock(s string) (float64, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := 0, error(nil)
	if ok {
		m, err2 = strconv.Atoi(mm)
	}
	if err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || (ok && len(mm) != 2) {
		return 0, fmt.Errorf("%q is not a time of day like \"08:30\"", s)
	}
	return float64(h) + float64(m)/60, nil
}

// fnWithinHours compiles within_hours; the span includes its start, not its
// end, and runs past midnight when the end is before the start.
func fnWithinHours(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	tm, loc, d := timeArgs(call, a, 3)
	if d != nil {
		return nil, d
	}
	start, d := clockArg(call, a, 1)
	if d != nil {
		return nil, d
	}
	end, d := clockArg(call, a, 2)
	if d != nil {
		return nil, d
	}
	return &node{typ: tBool, b: func(e *env) bool {
		h, m, s := tm(e).In(loc).Clock()
		x := float64(h) + float64(m)/60 + float64(s)/3600
		st, en := start(e), end(e)
		if st <= en {
			return x >= st && x < en
		}
		return x >= st || x < en // a shift that runs past midnight
	}}, nil
}
