package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kernelDrops sums the agent's in-kernel loss counters (every sensor's
// "drops" per-CPU array, found through the map fds the agent holds), so
// the bench need not rely on the agent's exit line.
func kernelDrops(pid int) (uint64, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	var total uint64
	found := 0
	for _, fd := range fds {
		if t, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); t != "anon_inode:bpf-map" {
			continue
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		if err != nil || !strings.Contains(string(info), "map_type:\t6\n") { // BPF_MAP_TYPE_PERCPU_ARRAY
			continue
		}
		id := parseStatusKiB(string(info), "map_id:")
		out, err := run("bpftool", "-j", "map", "show", "id", strconv.FormatUint(id, 10))
		if err != nil {
			return 0, err
		}
		var m struct{ Name string }
		if json.Unmarshal([]byte(out), &m) != nil || m.Name != "drops" {
			continue
		}
		if out, err = run("bpftool", "-j", "map", "dump", "id", strconv.FormatUint(id, 10)); err != nil {
			return 0, err
		}
		n, err := sumPerCPU(out)
		if err != nil {
			return 0, err
		}
		total += n
		found++
	}
	if found == 0 {
		return 0, errors.New("no drops maps among the agent's file descriptors")
	}
	return total, nil
}

// sumPerCPU adds every value of a bpftool -j dump of a per-CPU array of
// u64, using the BTF-formatted values when present.
func sumPerCPU(dump string) (uint64, error) {
	var entries []struct {
		Values []struct {
			Value []string `json:"value"`
		} `json:"values"`
		Formatted *struct {
			Values []struct {
				Value uint64 `json:"value"`
			} `json:"values"`
		} `json:"formatted"`
	}
	if err := json.Unmarshal([]byte(dump), &entries); err != nil {
		return 0, fmt.Errorf("reading bpftool map dump: %w", err)
	}
	var total uint64
	for _, e := range entries {
		if e.Formatted != nil {
			for _, v := range e.Formatted.Values {
				total += v.Value
			}
			continue
		}
		for _, v := range e.Values {
			var n uint64
			for i, h := range v.Value { // little-endian bytes as "0x.."
				b, err := strconv.ParseUint(strings.TrimPrefix(h, "0x"), 16, 8)
				if err != nil {
					return 0, fmt.Errorf("reading bpftool map dump: %w", err)
				}
				n |= b << (8 * i)
			}
			total += n
		}
	}
	return total, nil
}

// bpfRunTime switches kernel.bpf_stats_enabled on while fn runs and returns
// the run time of the agent's programs (those it holds file descriptors
// for), most expensive first, and how long the window was.
func bpfRunTime(pid int, fn func() error) ([]bpfStat, time.Duration, error) {
	const knob = "/proc/sys/kernel/bpf_stats_enabled"
	prev, err := os.ReadFile(knob)
	if err != nil {
		return nil, 0, err
	}
	ids, err := agentProgIDs(pid)
	if err != nil {
		return nil, 0, err
	}
	if err := os.WriteFile(knob, []byte("1"), 0o644); err != nil {
		return nil, 0, err
	}
	defer func() {
		if err := os.WriteFile(knob, prev, 0o644); err != nil {
			log.Printf("warning: restoring %s: %v", knob, err)
		}
	}()
	before := progStats(ids)
	start := time.Now()
	ferr := fn()
	window := time.Since(start)
	after := progStats(ids)
	var out []bpfStat
	for id, a := range after {
		b := before[id]
		if a.runs > b.runs {
			out = append(out, bpfStat{name: a.name, runs: a.runs - b.runs, ns: a.ns - b.ns})
		}
	}
	slices.SortFunc(out, func(x, y bpfStat) int { return int(y.ns - x.ns) })
	return out, window, ferr
}

func agentProgIDs(pid int) ([]uint64, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, fd := range fds {
		if t, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); t != "anon_inode:bpf-prog" {
			continue
		}
		if info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name())); err == nil {
			if id := parseStatusKiB(string(info), "prog_id:"); id != 0 {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

func progStats(ids []uint64) map[uint64]bpfStat {
	out := map[uint64]bpfStat{}
	for _, id := range ids {
		js, err := run("bpftool", "-j", "prog", "show", "id", strconv.FormatUint(id, 10))
		if err != nil {
			continue
		}
		var p struct {
			Name      string `json:"name"`
			RunTimeNS uint64 `json:"run_time_ns"`
			RunCnt    uint64 `json:"run_cnt"`
		}
		if json.Unmarshal([]byte(js), &p) == nil {
			out[id] = bpfStat{name: p.Name, runs: p.RunCnt, ns: time.Duration(p.RunTimeNS)}
		}
	}
	return out
}
