package dbwire

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
)

// myExecuteParams decodes COM_STMT_EXECUTE parameter values as text, for
// identifier hashing. arg starts at the statement id.
func myExecuteParams(st *myStmt, arg []byte) ([]string, []bool) {
	n := st.nparams
	if n == 0 || len(arg) < 9 {
		return nil, nil
	}
	b := arg[9:] // id, flags, iteration count
	nb := (n + 7) / 8
	if len(b) < nb+1 {
		return nil, nil
	}
	nulls := b[:nb]
	bound := b[nb]
	b = b[nb+1:]
	if bound == 1 {
		if len(b) < 2*n {
			return nil, nil
		}
		st.types = append(st.types[:0], b[:2*n]...)
		b = b[2*n:]
	}
	if len(st.types) != 2*n {
		return nil, nil
	}
	vals := make([]string, n)
	has := make([]bool, n)
	for i := 0; i < n; i++ {
		if nulls[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		typ, unsigned := st.types[2*i], st.types[2*i+1]&0x80 != 0
		var v string
		size := 0
		switch typ {
		case 1: // tiny
			size = 1
			if len(b) >= 1 {
				if unsigned {
					v = strconv.FormatUint(uint64(b[0]), 10)
				} else {
					v = strconv.FormatInt(int64(int8(b[0])), 10)
				}
			}
		case 2, 13: // short, year
			size = 2
			if len(b) >= 2 {
				u := binary.LittleEndian.Uint16(b)
				if unsigned {
					v = strconv.FormatUint(uint64(u), 10)
				} else {
					v = strconv.FormatInt(int64(int16(u)), 10)
				}
			}
		case 3, 9: // long, int24
			size = 4
			if len(b) >= 4 {
				u := binary.LittleEndian.Uint32(b)
				if unsigned {
					v = strconv.FormatUint(uint64(u), 10)
				} else {
					v = strconv.FormatInt(int64(int32(u)), 10)
				}
			}
		case 8: // longlong
			size = 8
			if len(b) >= 8 {
				u := binary.LittleEndian.Uint64(b)
				if unsigned {
					v = strconv.FormatUint(u, 10)
				} else {
					v = strconv.FormatInt(int64(u), 10)
				}
			}
		case 4: // float
			size = 4
			if len(b) >= 4 {
				v = strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 'g', -1, 32)
			}
		case 5: // double
			size = 8
			if len(b) >= 8 {
				v = strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)), 'g', -1, 64)
			}
		case 6: // null
		case 7, 10, 11, 12: // timestamp, date, time, datetime: length byte
			if len(b) < 1 {
				return vals, has
			}
			size = 1 + int(b[0])
		default: // strings, blobs, decimals, json, enum, set, bit, geometry
			l, k := lenenc(b)
			if k == 0 || uint64(len(b)-k) < l {
				return vals, has
			}
			v = string(b[k : k+int(l)])
			size = k + int(l)
			if !utf8Text(v) {
				v = ""
			}
		}
		if size > len(b) {
			return vals, has
		}
		b = b[size:]
		if v != "" {
			vals[i], has[i] = v, true
		}
	}
	return vals, has
}

func utf8Text(s string) bool { return strings.ToValidUTF8(s, "") == s }
