package agent

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/internal/testenv"
	"github.com/vigilhq/vigil/internal/testkernel"
)

// A process listening on a loopback port is found by that port, and the
// address it is not listening on finds nobody.
func TestLocalListenerFindsTheListeningProcess(t *testing.T) {
	// perl is in every Debian (perl-base), with IO::Socket::INET.
	cmd := exec.Command("perl", "-MIO::Socket::INET", "-e",
		`$| = 1; my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die "$!"; `+
			`print $s->sockport, "\n"; <STDIN>`)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		testenv.Skipf(t, "perl, to listen on a port: %v", err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	port, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort("127.0.0.1:" + strings.TrimSpace(port))

	pid, err := localListener(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if int(pid) != cmd.Process.Pid {
		t.Errorf("listener on %s = pid %d, want the child's %d", addr, pid, cmd.Process.Pid)
	}
	uids, err := processUIDs(pid)
	if err != nil || len(uids) == 0 || uids[0] != uint32(os.Getuid()) {
		t.Errorf("uids of the child = %v, %v; want ours (%d) first", uids, err, os.Getuid())
	}
	// The same port on another loopback address: nobody listens there.
	other := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), addr.Port())
	if pid, err := localListener(context.Background(), other); err != nil || pid != 0 {
		t.Errorf("listener on %s = %d, %v; want none", other, pid, err)
	}
}

type pidRecorder struct {
	mu  sync.Mutex
	set []uint32
}

func (r *pidRecorder) SetNATSServerPID(pid uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.set = append(r.set, pid)
	return nil
}

func TestNATSServerQuietsOnlyALocalSystemServerOtherThanItself(t *testing.T) {
	var asked []netip.AddrPort
	p := NewNATSServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.listener = func(_ context.Context, a netip.AddrPort) (int32, error) {
		asked = append(asked, a)
		switch a.Port() {
		case 5555:
			return int32(os.Getpid()), nil
		case 6666:
			return 4343, nil
		}
		return 4242, nil
	}
	p.uids = func(pid int32) ([]uint32, error) {
		if pid == 4343 { // a person's process on the collector's port
			return []uint32{1001, 1001, 1001, 1001}, nil
		}
		return []uint32{0, 0, 0, 0}, nil
	}

	// Found before the sensors run: it is there when they attach.
	p.Connected("127.0.0.1:4222")
	if got := p.current(); got != 4242 {
		t.Fatalf("pid after a loopback connection = %d, want 4242", got)
	}
	var r pidRecorder
	p.attach(&r)

	// Another host's server: nothing to quiet, and no socket scan.
	p.Connected("192.0.2.7:4222")
	// A server in the agent's own process (tests): the agent's own pid is
	// already the sensors' business.
	p.Connected("[::1]:5555")
	// A person's process listening where the server was: never quieted.
	p.Connected("127.0.0.1:6666")
	// Back to a local one.
	p.Connected("[::ffff:127.0.0.1]:4222")

	want := []uint32{4242, 0, 0, 0, 4242}
	if r.set == nil || len(r.set) != len(want) {
		t.Fatalf("pids set = %v, want %v", r.set, want)
	}
	for i := range want {
		if r.set[i] != want[i] {
			t.Fatalf("pids set = %v, want %v", r.set, want)
		}
	}
	for _, a := range asked {
		if a.Addr().String() == "192.0.2.7" {
			t.Errorf("scanned sockets for a remote server %s", a)
		}
	}

	// A lost connection forgets the pid.
	p.Connected("")
	if got := p.current(); got != 0 || r.set[len(r.set)-1] != 0 {
		t.Errorf("pid after a disconnection = %d (sensors told %d), want 0", got, r.set[len(r.set)-1])
	}
	p.Connected("127.0.0.1:4222")

	// An address that does not parse leaves nothing quieted.
	p.Connected("not an address")
	if got := p.current(); got != 0 {
		t.Errorf("pid after a bad address = %d, want 0", got)
	}
}

// pidSensor is a sensor that loads nothing: its Start reads the NATS server
// pid the programs would see, then runs a hook.
type pidSensor struct {
	name  string
	start func()
	seen  uint32
}

func (s *pidSensor) Name() string { return s.name }
func (s *pidSensor) Start(env sensor.Env) error {
	err := env.NATSServer.Lookup(uint32(0), &s.seen)
	if s.start != nil {
		s.start()
	}
	return err
}
func (s *pidSensor) Types() []uint32                    { return nil }
func (s *pidSensor) Decode(uint32, []byte) (any, error) { return nil, nil }
func (s *pidSensor) Drops() (map[string]uint64, error)  { return nil, nil }
func (s *pidSensor) Close() error                       { return nil }

// A connection made while the sensors start (the collector let the agent
// in late) reaches the kernel before the next sensor's programs run: none
// of them sees the server's activity as anyone's.
func TestNATSServerFoundWhileSensorsStart(t *testing.T) {
	testkernel.RequireRoot(t)
	p := NewNATSServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.listener = func(context.Context, netip.AddrPort) (int32, error) { return 4242, nil }
	p.uids = func(int32) ([]uint32, error) { return []uint32{0, 0, 0, 0}, nil }
	first := &pidSensor{name: "first", start: func() { p.Connected("127.0.0.1:4222") }}
	second := &pidSensor{name: "second"}
	a := New(Options{Sink: &collectSink{}, Sensors: []sensor.Sensor{first, second}, NATSServer: p,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	set, err := a.start()
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	defer p.attach(nil)
	if first.seen != 0 || second.seen != 4242 {
		t.Errorf("pids seen by the sensors as they started: %d and %d, want 0 (not found yet) and 4242", first.seen, second.seen)
	}
}
