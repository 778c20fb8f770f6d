package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procSample is a process's CPU time and memory at one moment.
type procSample struct {
	at       time.Time
	cpuTicks uint64 // utime + stime, in clock ticks
	rssKiB   uint64
	hwmKiB   uint64
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

func sampleProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.cpuTicks, err = parseStatTicks(string(stat)); err != nil {
		return s, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.rssKiB, s.hwmKiB = parseStatusKiB(string(status), "VmRSS:"), parseStatusKiB(string(status), "VmHWM:")
	return s, nil
}

// cpuPercent is the CPU the process used between two samples, in % of a core.
func cpuPercent(a, b procSample) float64 {
	el := b.at.Sub(a.at).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(b.cpuTicks-a.cpuTicks) / clockTicks / el * 100
}

// parseStatTicks returns utime+stime from /proc/<pid>/stat. The command
// name may hold spaces and parentheses, so fields count from the last ')'.
func parseStatTicks(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/pid/stat")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc/pid/stat")
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed utime or stime in /proc/pid/stat")
	}
	return u + s, nil
}

func parseStatusKiB(status, key string) uint64 {
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, key) {
			f := strings.Fields(strings.TrimPrefix(l, key))
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// systemSample is the whole machine's CPU time at one moment, from the
// "cpu" line of /proc/stat, in clock ticks.
type systemSample struct {
	at         time.Time
	busy, idle uint64
}

func sampleSystem() (systemSample, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return systemSample{}, fmt.Errorf("reading the machine's CPU time: %w", err)
	}
	s, err := parseProcStat(string(b))
	s.at = time.Now()
	return s, err
}

// parseProcStat splits the aggregate "cpu" line into busy and idle time.
// Idle is idle plus iowait; steal (time the hypervisor gave another guest)
// is neither, since no process here spent it; guest time is already in
// user and nice.
func parseProcStat(stat string) (systemSample, error) {
	for _, l := range strings.Split(stat, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 9 {
			return systemSample{}, fmt.Errorf("/proc/stat: the cpu line has %d fields, want at least 9: %q", len(f), l)
		}
		var v [8]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return systemSample{}, fmt.Errorf("/proc/stat: the cpu line's field %d: %w", i+2, err)
			}
			v[i] = n
		}
		// user nice system idle iowait irq softirq steal
		return systemSample{busy: v[0] + v[1] + v[2] + v[5] + v[6], idle: v[3] + v[4]}, nil
	}
	return systemSample{}, errors.New("/proc/stat has no aggregate cpu line")
}

// busySeconds is the CPU time all cores spent busy between two samples.
func busySeconds(a, b systemSample) float64 {
	return float64(b.busy-a.busy) / clockTicks
}
