package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/vigilhq/vigil/internal/testproc"
)

// loadgen runs test/loadgen and returns the operations per second it did.
type loadgenResult struct {
	ops      int64
	rate     float64
	ringFull uint64 // ring mode: records that found the agent's ring full
}

var (
	loadgenRe  = regexp.MustCompile(`ops=(\d+) seconds=[0-9.]+ rate=([0-9.]+)/s`)
	ringFullRe = regexp.MustCompile(`ring_full=(\d+)`)
)

func (b *bench) loadgen(args ...string) (loadgenResult, error) {
	out, err := run(filepath.Join(b.bin, "loadgen"), args...)
	if err != nil {
		return loadgenResult{}, err
	}
	return parseLoadgen(out)
}

func parseLoadgen(out string) (loadgenResult, error) {
	m := loadgenRe.FindStringSubmatch(out)
	if m == nil {
		return loadgenResult{}, fmt.Errorf("loadgen printed no rate: %s", testproc.Tail(out, 500))
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	r, _ := strconv.ParseFloat(m[2], 64)
	res := loadgenResult{ops: n, rate: r}
	if m := ringFullRe.FindStringSubmatch(out); m != nil {
		res.ringFull, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return res, nil
}
