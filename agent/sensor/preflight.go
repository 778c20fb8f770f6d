package sensor

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
)

// Check is one thing the host must offer.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	// Fix is what a person does about a failed check.
	Fix string `json:"fix,omitempty"`
}

// Report is what preflight found.
type Report struct {
	Kernel  string   `json:"kernel"`
	Checks  []Check  `json:"checks"`
	Sensors []Status `json:"sensors"`
}

// Preflight checks what the host offers and then starts and stops each
// sensor on its own, so the report says exactly which would run and why a
// sensor would not. It never fails: a host that supports nothing gets a
// report saying so.
func Preflight(sensors []Sensor) Report {
	rep := Report{Kernel: KernelRelease()}
	add := func(name string, err error, okDetail string) {
		c := Check{Name: name, OK: err == nil, Detail: okDetail}
		if err != nil {
			c.Detail = explain(err).Error()
		}
		rep.Checks = append(rep.Checks, c)
	}
	if os.Geteuid() == 0 {
		add("privileges", nil, "running as root")
	} else {
		add("privileges", fmt.Errorf("running as uid %d: %w", os.Geteuid(), os.ErrPermission), "")
	}
	_, err := btf.LoadKernelSpec()
	add("kernel BTF", err, "/sys/kernel/btf/vmlinux")
	add("ring buffer maps", features.HaveMapType(ebpf.RingBuf), "")
	add("tracepoint programs", features.HaveProgramType(ebpf.TracePoint), "")
	add("cgroup socket programs", features.HaveProgramType(ebpf.CGroupSKB), "")

	for _, sn := range sensors {
		set, err := Start([]Sensor{sn}, Options{AgentPID: uint32(os.Getpid())})
		st := Status{Name: sn.Name(), Running: err == nil}
		if err != nil {
			st.Error = strings.TrimSuffix(strings.TrimPrefix(err.Error(), ErrNoSensor.Error()+": "+sn.Name()+": "), "; ")
		} else {
			st = set.Statuses()[0] // with the build it loaded
			set.Close()
		}
		rep.Sensors = append(rep.Sensors, st)
	}
	return rep
}

// WriteText prints the report for a person.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "kernel %s\n\n", r.Kernel)
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %-32s %s\n", mark, c.Name, c.Detail)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(w, "     %-32s fix: %s\n", "", c.Fix)
		}
	}
	fmt.Fprintln(w)
	for _, s := range r.Sensors {
		if s.Running {
			build := ""
			if s.Build != "" {
				build = " (" + s.Build + " build)"
			}
			fmt.Fprintf(w, "sensor %-10s can run%s\n", s.Name, build)
		} else {
			fmt.Fprintf(w, "sensor %-10s cannot run: %s\n", s.Name, s.Error)
		}
	}
}

// Failed counts the failed checks and the sensors that cannot run.
func (r Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if !c.OK {
			n++
		}
	}
	for _, s := range r.Sensors {
		if !s.Running {
			n++
		}
	}
	return n
}
