package testproc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary stands in for vigil-collector and vigil-agent when
// TESTPROC_FAKE names one, so that the starters are tested on their
// arguments and readiness signals without building the real ones.
func TestMain(m *testing.M) {
	switch os.Getenv("TESTPROC_FAKE") {
	case "collector":
		fakeCollector()
	case "agent":
		fakeAgent()
	default:
		os.Exit(m.Run())
	}
}

// fakeCollector prints its arguments and serves /healthz on --http.
func fakeCollector() {
	fmt.Println("args:", strings.Join(os.Args[1:], " "))
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	data := fs.String("data", "", "")
	fs.String("nats-listen", "", "")
	addr := fs.String("http", "", "")
	fs.String("rules", "", "")
	fs.Parse(os.Args[2:])
	if *data == "exit" {
		fmt.Println("cannot open the store")
		os.Exit(1)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	http.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	go http.Serve(l, nil)
	waitSignal()
}

// fakeAgent logs TESTPROC_SENSORS sensors, the last one as unable to run.
func fakeAgent() {
	fmt.Println("args:", strings.Join(os.Args[1:], " "))
	n, _ := strconv.Atoi(os.Getenv("TESTPROC_SENSORS"))
	for i := range n {
		if i == n-1 {
			fmt.Printf("level=WARN msg=\"sensor cannot run\" sensor=s%d reason=none\n", i)
		} else {
			fmt.Printf("level=INFO msg=\"sensor running\" sensor=s%d\n", i)
		}
	}
	waitSignal()
}

func waitSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	<-ch
	fmt.Println("stopped")
	os.Exit(0)
}

func fakeBin(t *testing.T, role string) string {
	t.Helper()
	t.Setenv("TESTPROC_FAKE", role)
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestFreePortListens(t *testing.T) {
	port := FreePort(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("port %d is not free: %v", port, err)
	}
	l.Close()
}

func TestPollEndsWithTheLastError(t *testing.T) {
	n := 0
	err := Poll(context.Background(), 100*time.Millisecond, 10*time.Millisecond, func() error {
		n++
		return fmt.Errorf("try %d", n)
	})
	if err == nil || !strings.HasSuffix(err.Error(), fmt.Sprintf("try %d", n)) || n < 2 {
		t.Fatalf("after %d tries: %v", n, err)
	}

	n = 0
	CheckFor(t, time.Second, time.Millisecond, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if n != 3 {
		t.Fatalf("CheckFor returned after %d tries, want 3", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Poll(ctx, time.Minute, time.Second, func() error { return errors.New("never") })
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "never") {
		t.Fatalf("cancelled Poll: %v", err)
	}
}

func TestTail(t *testing.T) {
	if got := Tail("abcdef", 3); got != "...def" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail("abc", 3); got != "abc" {
		t.Errorf("Tail of a short string = %q", got)
	}
}

func TestProcWaitLogAndStop(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", "echo starting; echo ready; exec sleep 60"), filepath.Join(t.TempDir(), "sh.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.KillAtCleanup(t)
	if err := p.WaitLog(t.Context(), 10*time.Second, func(log string) bool { return strings.Contains(log, "ready") }); err != nil {
		t.Fatal(err)
	}
	if killed := p.Stop(syscall.SIGTERM, 10*time.Second); killed || !p.Exited() {
		t.Fatalf("SIGTERM: killed %v, exited %v", killed, p.Exited())
	}
}

// A process that exits is not waited for until the deadline, and the
// error shows its log.
func TestProcWaitGivesUpOnExit(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", "echo no database; exit 3"), filepath.Join(t.TempDir(), "sh.log"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = p.WaitLog(t.Context(), time.Minute, func(string) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "sh exited before it was ready") || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("WaitLog: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("WaitLog took %s after the process exited", d)
	}
}

func TestProcStopKillsAfterGrace(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", "trap '' TERM; echo ready; exec sleep 60"), filepath.Join(t.TempDir(), "sh.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.KillAtCleanup(t)
	if err := p.WaitLog(t.Context(), 10*time.Second, func(log string) bool { return strings.Contains(log, "ready") }); err != nil {
		t.Fatal(err)
	}
	if killed := p.Stop(syscall.SIGTERM, 200*time.Millisecond); !killed {
		t.Fatal("a process ignoring SIGTERM was not killed")
	}
}

func TestStartCollector(t *testing.T) {
	bin := fakeBin(t, "collector")
	data := t.TempDir()
	c, err := StartCollector(t.Context(), CollectorOptions{Bin: bin, Data: data, NATSPort: 4999,
		Args: []string{"--rules", ""}, Log: filepath.Join(t.TempDir(), "collector.log")})
	if err != nil {
		t.Fatal(err)
	}
	c.KillAtCleanup(t)
	if c.NATS != "nats://127.0.0.1:4999" || c.Data != data || !strings.HasPrefix(c.API, "http://127.0.0.1:") {
		t.Errorf("collector %+v", c)
	}
	want := fmt.Sprintf("args: run --data %s --nats-listen 127.0.0.1:4999 --http %s --rules \n",
		data, strings.TrimPrefix(c.API, "http://"))
	if log := c.Log(); !strings.HasPrefix(log, want) {
		t.Errorf("log %q, want it to start %q", log, want)
	}
	c.Stop(syscall.SIGTERM, 10*time.Second)
	if !strings.HasSuffix(c.Log(), "stopped\n") {
		t.Errorf("not stopped by SIGTERM: %q", c.Log())
	}

	_, err = StartCollector(t.Context(), CollectorOptions{Bin: bin, Data: "exit", Log: filepath.Join(t.TempDir(), "collector.log")})
	if err == nil || !strings.Contains(err.Error(), "cannot open the store") {
		t.Errorf("a collector that exits: %v", err)
	}
}

func TestStartAgent(t *testing.T) {
	bin := fakeBin(t, "agent")
	t.Setenv("TESTPROC_SENSORS", "3")
	a, err := StartAgent(t.Context(), AgentOptions{Bin: bin, Config: "agent.hcl", Pprof: "127.0.0.1:6060", Sensors: 3,
		Log: filepath.Join(t.TempDir(), "agent.log")})
	if err != nil {
		t.Fatal(err)
	}
	a.KillAtCleanup(t)
	if !strings.HasPrefix(a.Log(), "args: run --config agent.hcl --pprof 127.0.0.1:6060\n") {
		t.Errorf("log %q", a.Log())
	}
	if n := a.SensorsNotRunning(); n != 1 {
		t.Errorf("%d sensors not running, want 1", n)
	}

	_, err = StartAgent(t.Context(), AgentOptions{Bin: bin, Config: "agent.hcl", Sensors: 4, Wait: 300 * time.Millisecond,
		Log: filepath.Join(t.TempDir(), "agent.log")})
	if err == nil || !strings.Contains(err.Error(), "vigil-agent not ready") {
		t.Errorf("an agent with a sensor missing: %v", err)
	}
}
