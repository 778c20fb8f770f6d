package dbwire

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

func TestMyExecuteParams(t *testing.T) {
	head := []byte{1, 0, 0, 0, 0, 1, 0, 0, 0} // statement id, flags, iteration count
	types := []byte{1, 0, 3, 0x80, 8, 0, 5, 0, 0xfd, 0, 0xfd, 0, 0xfc, 0}
	var values []byte
	values = append(values, 0xfb)
	values = binary.LittleEndian.AppendUint32(values, math.MaxUint32)
	values = binary.LittleEndian.AppendUint64(values, uint64(math.MaxUint64-1))
	values = binary.LittleEndian.AppendUint64(values, math.Float64bits(1.5))
	values = append(values, 3, 'a', '@', 'b')
	values = append(values, 1, 0xff) // not text: not hashed
	nulls := byte(1 << 5)

	st := &myStmt{nparams: 7}
	arg := slices.Concat(head, []byte{nulls, 1}, types, values)
	vals, has := myExecuteParams(st, arg)
	wantVals := []string{"-5", "4294967295", "-2", "1.5", "a@b", "", ""}
	wantHas := []bool{true, true, true, true, true, false, false}
	if !slices.Equal(vals, wantVals) || !slices.Equal(has, wantHas) {
		t.Errorf("values %q %v, want %q %v", vals, has, wantVals, wantHas)
	}

	// A later execute that does not send the types again uses the last ones.
	vals, _ = myExecuteParams(st, slices.Concat(head, []byte{nulls, 0}, values))
	if !slices.Equal(vals, wantVals) {
		t.Errorf("without types: %q", vals)
	}

	// A capture cut inside a value keeps the values before it.
	vals, has = myExecuteParams(st, slices.Concat(head, []byte{nulls, 0}, values[:8]))
	if !slices.Equal(vals[:2], wantVals[:2]) || slices.Contains(has[2:], true) {
		t.Errorf("cut: %q %v", vals, has)
	}

	// Types never seen: nothing can be read.
	if vals, _ := myExecuteParams(&myStmt{nparams: 7}, slices.Concat(head, []byte{nulls, 0}, values)); vals != nil {
		t.Errorf("unknown types: %q", vals)
	}
}
