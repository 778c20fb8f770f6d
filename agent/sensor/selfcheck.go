package sensor

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// An Attacher is a sensor that lists the links it attached, for the Set's
// self-check; a sensor that is not one is not checked.
type Attacher interface {
	Attachments() Links
}

// Attachments implements Attacher.
func (l *Loaded) Attachments() Links { return l.Links }

// probe is one link a running sensor attached, as it was at start.
type probe struct {
	sensor string
	link   link.Link
	id     link.ID
	typ    string
	// cgroup is the cgroup a cgroup link was attached to (0: another
	// kind of link); a detached cgroup link reports none.
	cgroup uint64
	// prog is the program the agent attached: a link updated to another
	// program (BPF_LINK_UPDATE) stays attached but no longer runs it.
	prog ebpf.ProgramID
}

func (p probe) String() string {
	return fmt.Sprintf("%s: link %d (%s)", p.sensor, p.id, p.typ)
}

// recordProbes notes the links sn attached. Links whose kernel object
// says nothing (legacy cgroup attachments) are left out: nothing could
// tell them detached.
func (s *Set) recordProbes(sn Sensor) {
	a, ok := sn.(Attacher)
	if !ok {
		return
	}
	for _, lk := range a.Attachments() {
		info, err := lk.Info()
		if err != nil {
			continue
		}
		p := probe{sensor: sn.Name(), link: lk, id: info.ID, typ: linkType(info), prog: info.Program}
		if cg := info.Cgroup(); cg != nil {
			p.cgroup = cg.CgroupId
		}
		s.probes = append(s.probes, p)
	}
}

func linkType(info *link.Info) string {
	if cg := info.Cgroup(); cg != nil {
		return cg.AttachType.String()
	}
	if name, ok := linkTypes[info.Type]; ok {
		return name
	}
	return fmt.Sprintf("link type %d", info.Type)
}

var linkTypes = map[link.Type]string{
	link.RawTracepointType: "raw_tracepoint", link.TracingType: "tracing", link.CgroupType: "cgroup",
	link.IterType: "iter", link.PerfEventType: "perf_event", link.UprobeMultiType: "uprobe_multi",
}

// Detached checks every link the running sensors attached and returns
// those no longer attached where they were (a root user's `bpftool link
// detach`), those now running another program than the agent's, or whose
// kernel object cannot be read. It returns nil once
// Shutdown has begun: detaching is then the agent's own doing.
func (s *Set) Detached() []string {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if s.shutting {
		return nil
	}
	var out []string
	for _, p := range s.probes {
		info, err := p.link.Info()
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("%s: %v", p, err))
		case p.cgroup != 0 && (info.Cgroup() == nil || info.Cgroup().CgroupId != p.cgroup):
			out = append(out, p.String())
		case info.Program != p.prog:
			out = append(out, fmt.Sprintf("%s now runs program %d, not the agent's %d", p, info.Program, p.prog))
		}
	}
	return out
}

// Probes counts the links the self-check watches.
func (s *Set) Probes() int {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	return len(s.probes)
}
