package sensor_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/agent/sensor/db"
	"github.com/vigilhq/vigil/agent/sensor/file"
	netsensor "github.com/vigilhq/vigil/agent/sensor/net"
	"github.com/vigilhq/vigil/agent/sensor/process"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// mapByName finds a map this process holds by its kernel name, as a root
// user with bpftool finds the agent's.
func mapByName(t *testing.T, name string) *ebpf.Map {
	t.Helper()
	fds, err := filepath.Glob("/proc/self/fdinfo/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		b, err := os.ReadFile(fd)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			id, ok := strings.CutPrefix(line, "map_id:\t")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(id, 10, 32)
			if err != nil {
				continue
			}
			m, err := ebpf.NewMapFromID(ebpf.MapID(n))
			if err != nil {
				continue
			}
			if info, err := m.Info(); err == nil && info.Name == name {
				t.Cleanup(func() { m.Close() })
				return m
			}
			m.Close()
		}
	}
	t.Fatalf("this process holds no map named %s", name)
	return nil
}

// The canary's DNS query comes through the ring with the exec and the
// write, and reaches no reader. A root user who writes a pid into the
// nats_server_pid map every sensor shares (hiding that process from all of
// them, programs still attached) is named, and so is an egress program
// swapped for one that reports nothing.
func TestCanaryFindsBlindedNetSensor(t *testing.T) {
	testkernel.RequireRoot(t)
	ns := netsensor.New(netsensor.Config{IncludeLoopback: true})
	set, err := sensor.Start([]sensor.Sensor{process.New(), file.New(file.Config{SkipPrefixes: file.DefaultSkipPrefixes,
		SkipFSMagics: file.DefaultSkipFSMagics}), ns}, sensor.Options{AgentPID: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	r := startReading(t, set)
	defer func() { set.Close(); <-r.done }()
	dir := t.TempDir()
	for i := range 3 {
		if got := set.Canary(dir, sensor.CanaryWait); got != nil {
			t.Fatalf("canary %d on untouched sensors found %q", i, got)
		}
	}
	totals, err := ns.DrainUDP()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range totals {
		if u.DstAddr == sensor.CanaryDNSAddr {
			t.Fatalf("the canary's datagram reached the UDP totals: %+v", u)
		}
	}
	r.mu.Lock()
	for _, rec := range r.recs {
		if q, ok := rec.(*sensor.DNSQuery); ok && q.DstAddr == sensor.CanaryDNSAddr {
			r.mu.Unlock()
			t.Fatalf("the canary's DNS query reached the reader: %+v", q)
		}
	}
	r.mu.Unlock()

	pids := mapByName(t, "vigil_nats_pid")
	if err := pids.Update(uint32(0), uint32(4242), ebpf.UpdateAny); err != nil {
		t.Fatalf("tampering with nats_server_pid: %v", err)
	}
	got := set.Canary(dir, sensor.CanaryWait)
	want := "sensors: nats_server_pid holds pid 4242, not the agent's 0"
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Fatalf("canary after nats_server_pid was rewritten found %q, want only %q", got, want)
	}
	if err := pids.Update(uint32(0), uint32(0), ebpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if got := set.Canary(dir, sensor.CanaryWait); got != nil {
		t.Fatalf("canary after nats_server_pid was put back found %q", got)
	}

	pass, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.CGroupSKB, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()}})
	if err != nil {
		t.Fatal(err)
	}
	defer pass.Close()
	swapped := false
	for _, l := range ns.Attachments() {
		info, err := l.Info()
		if err != nil {
			continue
		}
		if cg := info.Cgroup(); cg != nil && ebpf.AttachType(cg.AttachType) == ebpf.AttachCGroupInetEgress {
			if err := l.Update(pass); err != nil {
				t.Fatalf("swapping the egress program: %v", err)
			}
			swapped = true
		}
	}
	if !swapped {
		t.Fatal("no egress link found")
	}
	got = set.Canary(dir, sensor.CanaryWait)
	want = "net: the canary's DNS query to 127.86.71.76:53 did not come through the ring"
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Fatalf("canary after the egress program was swapped found %q, want only %q", got, want)
	}
}

// Emptying the db sensor's db_ports map (every program attached, database
// connections no longer captured) is reported naming the map and the
// port; the untouched sensor and the entry put back report nothing.
func TestCanaryFindsEmptiedDBPorts(t *testing.T) {
	testkernel.RequireRoot(t)
	dbs := db.New(db.Config{})
	set, err := sensor.Start([]sensor.Sensor{dbs}, sensor.Options{AgentPID: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	r := startReading(t, set)
	defer func() { set.Close(); <-r.done }()
	dir := t.TempDir()
	if got := set.Canary(dir, sensor.CanaryWait); got != nil {
		t.Fatalf("canary on an untouched db sensor found %q", got)
	}
	ports := mapByName(t, "db_ports")
	for _, p := range db.DefaultPorts {
		if err := ports.Delete(p); err != nil {
			t.Fatalf("emptying db_ports: %v", err)
		}
	}
	got := set.Canary(dir, sensor.CanaryWait)
	want := []string{"db: db_ports no longer holds port 5432", "db: db_ports no longer holds port 3306"}
	if len(got) != len(want) || !strings.HasPrefix(got[0], want[0]) || !strings.HasPrefix(got[1], want[1]) {
		t.Fatalf("canary after db_ports was emptied found %q, want %q", got, want)
	}
	for _, p := range db.DefaultPorts {
		if err := ports.Update(p, uint8(1), ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	if got := set.Canary(dir, sensor.CanaryWait); got != nil {
		t.Fatalf("canary after db_ports was filled again found %q", got)
	}
}
