package sensor_test

import (
	"fmt"

	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/file"
	netsensor "github.com/vigilhq/vigil/agent/sensor/net"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// bpfLinks lists the ids of the kernel's BPF links, with bpftool.
func bpfLinks(t *testing.T) []uint32 {
	t.Helper()
	out, err := exec.Command("bpftool", "-j", "link", "show").Output()
	if err != nil {
		t.Fatalf("bpftool link show: %v", err)
	}
	var links []struct {
		ID uint32 `json:"id"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatalf("parsing bpftool link show: %v", err)
	}
	var ids []uint32
	for _, l := range links {
		ids = append(ids, l.ID)
	}
	return ids
}

// A root user detaching one of the set's links with bpftool is found by
// the next self-check; links the kernel cannot detach stay attached; and
// Shutdown detaching them all is no tampering.
func TestSelfCheckFindsDetachedLink(t *testing.T) {
	testkernel.RequireRoot(t)
	if _, err := exec.LookPath("bpftool"); err != nil {
		testenv.Skip(t, "bpftool is not installed")
	}
	before := bpfLinks(t)
	set, err := sensor.Start([]sensor.Sensor{process.New(), file.New(file.Config{}), netsensor.New(netsensor.Config{})},
		sensor.Options{AgentPID: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var ours []uint32
	for _, id := range bpfLinks(t) {
		if !slices.Contains(before, id) {
			ours = append(ours, id)
		}
	}
	if len(ours) == 0 || set.Probes() != len(ours) {
		t.Fatalf("the set watches %d links, %d appeared", set.Probes(), len(ours))
	}
	if d := set.Detached(); len(d) != 0 {
		t.Fatalf("detached %v before anything was detached", d)
	}
	var detached []uint32
	for _, id := range ours {
		out, err := exec.Command("bpftool", "link", "detach", "id", itoa(id)).CombinedOutput()
		if err == nil {
			detached = append(detached, id)
		} else {
			t.Logf("bpftool link detach id %d: %s", id, strings.TrimSpace(string(out)))
		}
	}
	if len(detached) == 0 {
		t.Fatalf("bpftool detached none of links %v", ours)
	}
	got := set.Detached()
	if len(got) != len(detached) {
		t.Fatalf("self-check found %v, bpftool detached links %v", got, detached)
	}
	for _, id := range detached {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "link "+itoa(id)+" ") }) {
			t.Errorf("link %d detached, not in %v", id, got)
		}
	}
	t.Logf("detached by bpftool: %v of %d links; found: %v", detached, len(ours), got)
	if err := set.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if d := set.Detached(); d != nil {
		t.Fatalf("after Shutdown the self-check found %v", d)
	}
}

func itoa(n uint32) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// A root user pointing one of the set's cgroup links at a program of their
// own (BPF_LINK_UPDATE, which leaves the link attached) is found by the
// next self-check, naming the link and both programs.
func TestSelfCheckFindsLinkRunningAnotherProgram(t *testing.T) {
	testkernel.RequireRoot(t)
	if _, err := exec.LookPath("bpftool"); err != nil {
		testenv.Skip(t, "bpftool is not installed")
	}
	before := bpfLinks(t)
	set, err := sensor.Start([]sensor.Sensor{netsensor.New(netsensor.Config{})}, sensor.Options{AgentPID: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var lk link.Link
	var info *link.Info
	for _, id := range bpfLinks(t) {
		if slices.Contains(before, id) {
			continue
		}
		l, err := link.NewFromID(link.ID(id))
		if err != nil {
			t.Fatalf("opening link %d: %v", id, err)
		}
		if i, err := l.Info(); err == nil && i.Cgroup() != nil {
			lk, info = l, i
			break
		}
		l.Close()
	}
	if lk == nil {
		t.Fatal("the net sensor attached no cgroup link")
	}
	defer lk.Close()
	old, err := ebpf.NewProgramFromID(info.Program)
	if err != nil {
		t.Fatalf("opening program %d: %v", info.Program, err)
	}
	defer old.Close()
	oi, err := old.Info()
	if err != nil {
		t.Fatal(err)
	}
	// Returns 1: lets every packet or connection through, seeing nothing.
	blind, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: oi.Type, AttachType: ebpf.AttachType(info.Cgroup().AttachType), License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()}})
	if err != nil {
		t.Fatalf("loading the replacement program: %v", err)
	}
	defer blind.Close()
	if d := set.Detached(); len(d) != 0 {
		t.Fatalf("detached %v before the link was touched", d)
	}
	if err := lk.Update(blind); err != nil {
		t.Fatalf("updating link %d to another program: %v", info.ID, err)
	}
	got := set.Detached()
	bi, _ := blind.Info()
	bid, _ := bi.ID()
	want := fmt.Sprintf("link %d (%s) now runs program %d, not the agent's %d", info.ID, info.Cgroup().AttachType, bid, info.Program)
	if len(got) != 1 || !strings.Contains(got[0], want) {
		t.Fatalf("self-check found %q, want one naming %q", got, want)
	}
}
