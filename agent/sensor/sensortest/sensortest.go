// Package sensortest runs a sensor's tests against each of its builds of
// one BPF source (see sensor.Builds), and reads the records they expect.
package sensortest

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/vigilhq/vigil/agent/sensor"
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
// build, and the test skips with why when it cannot. The caller closes the
// set.
func Start(t *testing.T, sn sensor.Sensor, builds *sensor.Builds, compat bool, defaultRuns func() bool, why string,
	opts sensor.Options) *sensor.Set {
	t.Helper()
	if compat {
		builds.ForceCompat = true
	} else if !defaultRuns() {
		t.Skip(why)
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
// deadline, which ends a blocked Read) or a read fails. rec holds the
// returned record's raw bytes until the next read into it.
func Next(t *testing.T, set *sensor.Set, rec *ringbuf.Record, what string, match func(any) bool) any {
	t.Helper()
	for {
		r, err := set.Read(rec)
		if errors.Is(err, ringbuf.ErrClosed) {
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
