package caps

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// Status is the capability part of /proc/<pid>/task/<tid>/status.
type Status struct {
	Inheritable, Permitted, Effective, Bounding, Ambient uint64
	NoNewPrivs                                           bool
}

// ParseStatus reads the Cap* and NoNewPrivs lines of a status file.
func ParseStatus(b []byte) (Status, error) {
	var st Status
	fields := map[string]*uint64{
		"CapInh": &st.Inheritable, "CapPrm": &st.Permitted, "CapEff": &st.Effective,
		"CapBnd": &st.Bounding, "CapAmb": &st.Ambient,
	}
	seen := 0
	nnp := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if key == "NoNewPrivs" {
			st.NoNewPrivs, nnp = val == "1", true
			continue
		}
		dst, ok := fields[key]
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(val, 16, 64)
		if err != nil {
			return st, fmt.Errorf("parsing %s %q: %w", key, val, err)
		}
		*dst = v
		seen++
	}
	if err := sc.Err(); err != nil {
		return st, err
	}
	if seen != len(fields) || !nnp {
		return st, fmt.Errorf("status lacks Cap* or NoNewPrivs lines")
	}
	return st, nil
}

// Within returns an error naming what st holds beyond allowed.
func (st Status) Within(allowed uint64, bounding bool) error {
	var bad []string
	check := func(set string, have, limit uint64) {
		if extra := have &^ limit; extra != 0 {
			bad = append(bad, fmt.Sprintf("%s holds %s", set, Names(extra)))
		}
	}
	check("permitted", st.Permitted, allowed)
	check("effective", st.Effective, allowed)
	check("inheritable", st.Inheritable, 0)
	check("ambient", st.Ambient, 0)
	if bounding {
		check("bounding", st.Bounding, allowed)
	}
	if !st.NoNewPrivs {
		bad = append(bad, "no_new_privs is off")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// Names spells a capability mask as CAP_X,CAP_Y.
func Names(mask uint64) string {
	var out []string
	for i := 0; i < 64; i++ {
		if mask&(1<<uint(i)) != 0 {
			out = append(out, strings.ToUpper(cap.Value(i).String()))
		}
	}
	return strings.Join(out, ",")
}
