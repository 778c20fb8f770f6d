package sensortest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/internal/testenv"
)

// EachBuild runs test as a subtest once per build: "default", and "compat",
// forced so that kernels that run the default build test the compat one
// too.
func EachBuild(t *testing.T, test func(t *testing.T, compat bool)) {
	for _, b := range []struct {
		name   string
		compat bool
	}{{"default", false}, {"compat", true}} {
		t.Run(b.name, func(t *testing.T) { test(t, b.compat) })
	}
}

// Start starts sn alone, with opts, as the given build. builds is sn's
// choice of build; defaultRuns says whether this kernel can run the default
// build, and the test skips with why when it cannot (fails, under CI:
// testenv.Skip). The caller closes the set.
func Start(t *testing.T, sn sensor.Sensor, builds *sensor.Builds, compat bool, defaultRuns func() bool, why string,
	opts sensor.Options) *sensor.Set {
	t.Helper()
	if compat {
		builds.ForceCompat = true
	} else if !defaultRuns() {
		testenv.Skip(t, why)
	}
	set, err := sensor.Start([]sensor.Sensor{sn}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if builds.Compat != compat {
		set.Close()
		t.Fatalf("sensor runs the compat build: %v, want %v", builds.Compat, compat)
	}
	// The status the agent logs names the build (builds.Compat is compat).
	if st := set.Statuses(); len(st) != 1 || st[0].Build != builds.String() {
		set.Close()
		t.Fatalf("statuses %+v, want one running the %s build", st, builds.String())
	}
	return set
}

// Next reads set's records until match accepts one and returns it, failing
// the test when the set is closed first (tests close it at their
// deadline, which ends a blocked Read) or a read fails. The record may
// share the ring's bytes until the next read.
func Next(t *testing.T, set *sensor.Set, what string, match func(any) bool) any {
	t.Helper()
	for {
		r, err := set.Read()
		if errors.Is(err, sensor.ErrClosed) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if err != nil {
			t.Fatal(err)
		}
		if match(r) {
			return r
		}
	}
}

// ProgramsOf lists the ids of the eBPF programs process pid holds open, as
// its fdinfo shows them.
func ProgramsOf(t *testing.T, pid int) []ebpf.ProgramID {
	t.Helper()
	infos, err := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
	if err != nil {
		t.Fatal(err)
	}
	var ids []ebpf.ProgramID
	for _, p := range infos {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "prog_id:"); ok {
				if id, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					ids = append(ids, ebpf.ProgramID(id))
				}
			}
		}
	}
	return ids
}

// Loaded returns those of ids whose programs are still in the kernel.
func Loaded(ids []ebpf.ProgramID) []ebpf.ProgramID {
	var left []ebpf.ProgramID
	for _, id := range ids {
		if p, err := ebpf.NewProgramFromID(id); err == nil {
			p.Close()
			left = append(left, id)
		}
	}
	return left
}
