package rules

import (
	"math"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Functions that write numbers the way people read them in alert text:
// "3.6 MiB", "12h 40m", "40,000", "22:40".

// fnNumberFormat compiles a one-number function that renders text.
func fnNumberFormat(format func(float64) string) func(*hclsyntax.FunctionCallExpr, []*node) (*node, *hcl.Diagnostic) {
	return func(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
		if a[0].typ != tNum {
			return nil, argErr(call, 0, "a number", a[0])
		}
		f := a[0].n
		return &node{typ: tStr, s: func(e *env) string { return format(f(e)) }}, nil
	}
}

// byteUnits are the binary units formatBytes uses, 1024 apart.
var byteUnits = [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}

// formatBytes writes a byte count with a binary unit: three significant
// digits at most, so 3795576 is "3.6 MiB" and 12582912 is "12 MiB".
func formatBytes(n float64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	u := 0
	for n >= 1024 && u < len(byteUnits)-1 {
		n /= 1024
		u++
	}
	if u == 0 {
		return sign + strconv.FormatFloat(math.Round(n), 'f', -1, 64) + " B"
	}
	return sign + trimZero(n) + " " + byteUnits[u]
}

// trimZero writes n with one decimal under 10 (dropping a ".0") and none
// from 10 up.
func trimZero(n float64) string {
	if n >= 9.95 {
		return strconv.FormatFloat(math.Round(n), 'f', 0, 64)
	}
	s := strconv.FormatFloat(n, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// formatDuration writes seconds as the two largest units that matter:
// "850ms", "4.5s", "45s", "3m 5s", "12h 40m", "2d 4h".
func formatDuration(sec float64) string {
	sign := ""
	if sec < 0 {
		sign, sec = "-", -sec
	}
	switch {
	case sec < 1:
		return sign + strconv.FormatFloat(math.Round(sec*1000), 'f', 0, 64) + "ms"
	case sec < 59.95:
		return sign + trimZero(sec) + "s"
	}
	s := int64(math.Round(sec))
	two := func(big, small int64, bu, su string) string {
		if small == 0 {
			return sign + strconv.FormatInt(big, 10) + bu
		}
		return sign + strconv.FormatInt(big, 10) + bu + " " + strconv.FormatInt(small, 10) + su
	}
	switch {
	case s < 3600:
		return two(s/60, s%60, "m", "s")
	case s < 86400:
		m := (s + 30) / 60 // to the nearest minute
		return two(m/60, m%60, "h", "m")
	}
	h := (s + 1800) / 3600 // to the nearest hour
	return two(h/24, h%24, "d", "h")
}

// formatNumber writes a count with thousands separators, "40,000", and
// other numbers to one decimal, "2.5".
func formatNumber(n float64) string {
	if math.IsInf(n, 0) || math.IsNaN(n) {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	n = math.Round(n*10) / 10
	whole, frac := math.Modf(n)
	digits := strconv.FormatFloat(whole, 'f', 0, 64)
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != 0 {
		b.WriteString(strings.TrimPrefix(strconv.FormatFloat(frac, 'f', 1, 64), "0"))
	}
	return b.String()
}

// fnClock compiles clock: the time of day as HH:MM in a time zone.
func fnClock(call *hclsyntax.FunctionCallExpr, a []*node) (*node, *hcl.Diagnostic) {
	tm, loc, d := timeArgs(call, a, 1)
	if d != nil {
		return nil, d
	}
	return &node{typ: tStr, s: func(e *env) string { return tm(e).In(loc).Format("15:04") }}, nil
}
