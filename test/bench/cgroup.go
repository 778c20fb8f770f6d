package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cgroup is a control group of the bench's own that a process is moved
// into so that its CPU time, and its threads' and children's, is measured
// apart from the machine's: the collector, with its embedded NATS server,
// standing in for one on another machine.
type cgroup struct {
	dir string
	v2  bool
}

// cgroupRoots are where a cgroup's CPU usage can be read: the v1 cpuacct
// hierarchy (cpuacct.usage, ns), or the v2 one, unified or alone
// (cpu.stat usage_usec, kept for every cgroup without the cpu controller).
var cgroupRoots = []struct {
	dir string
	v2  bool
}{
	{"/sys/fs/cgroup/cpuacct", false},
	{"/sys/fs/cgroup/cpu,cpuacct", false},
	{"/sys/fs/cgroup/unified", true},
	{"/sys/fs/cgroup", true},
}

// cgroupRoot returns the first hierarchy that measures CPU, or why none
// does.
func cgroupRoot() (dir string, v2 bool, err error) {
	for _, r := range cgroupRoots {
		probe := "cpuacct.usage"
		if r.v2 {
			probe = "cgroup.procs"
		}
		if _, err := os.Stat(filepath.Join(r.dir, probe)); err == nil {
			return r.dir, r.v2, nil
		}
	}
	return "", false, errors.New("no cgroup hierarchy measures CPU here: neither cpuacct (v1) nor cgroup2 is mounted under /sys/fs/cgroup")
}

// newCgroup makes a fresh cgroup named name and moves pid into it.
func newCgroup(name string, pid int) (*cgroup, error) {
	root, v2, err := cgroupRoot()
	if err != nil {
		return nil, err
	}
	cg := &cgroup{dir: filepath.Join(root, name), v2: v2}
	if err := os.Mkdir(cg.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("making cgroup %s: %w", cg.dir, err)
	}
	if err := os.WriteFile(filepath.Join(cg.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return nil, fmt.Errorf("moving pid %d into cgroup %s: %w", pid, cg.dir, err)
	}
	return cg, nil
}

// usage is the CPU time the cgroup's processes have used since it was made.
func (cg *cgroup) usage() (time.Duration, error) {
	if cg.v2 {
		b, err := os.ReadFile(filepath.Join(cg.dir, "cpu.stat"))
		if err != nil {
			return 0, fmt.Errorf("reading cgroup CPU usage: %w", err)
		}
		return parseCPUStatUsage(string(b))
	}
	b, err := os.ReadFile(filepath.Join(cg.dir, "cpuacct.usage"))
	if err != nil {
		return 0, fmt.Errorf("reading cgroup CPU usage: %w", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s/cpuacct.usage: %w", cg.dir, err)
	}
	return time.Duration(ns), nil
}

func parseCPUStatUsage(s string) (time.Duration, error) {
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(l, "usage_usec "); ok {
			us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("cpu.stat usage_usec: %w", err)
			}
			return time.Duration(us) * time.Microsecond, nil
		}
	}
	return 0, errors.New("cpu.stat has no usage_usec line")
}

// remove deletes the cgroup once its processes have exited (a cgroup
// with members cannot be removed), saying so if it stays.
func (cg *cgroup) remove() error {
	if cg == nil {
		return nil
	}
	if err := os.Remove(cg.dir); err != nil {
		return fmt.Errorf("removing cgroup %s: %w", cg.dir, err)
	}
	return nil
}
