package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/vigilhq/vigil/agent/sensor"
)

// The attacher is the agent re-executed in a mode that only attaches TLS
// uprobes, so that the agent, which parses untrusted traffic, can give up
// the capability attaching takes (CAP_SYS_ADMIN on 6.18) and still probe
// libraries loaded later. It inherits the uprobe programs' descriptors and
// one end of a socket pair, keeps what attaching needs and nothing else,
// takes "probe this file" requests carrying an open descriptor, judges the
// file itself, and exits, detaching everything, when the agent's end closes.

// AttacherEnv, set in a process's environment, makes IsAttacher true: it
// holds the names of the programs whose descriptors follow the socket.
const AttacherEnv = "VIGIL_UPROBE_ATTACHER"

// IsAttacher says whether this process was started as the attacher: the
// agent's main (and a test binary's TestMain) then calls RunAttacher and
// nothing else.
func IsAttacher() bool { return os.Getenv(AttacherEnv) != "" }

// The attacher's descriptors: the socket, then the programs.
const attacherSockFD = 3

// maxProbedFiles bounds the files one attacher probes: each holds a few
// perf events, and a compromised agent must not exhaust the kernel's.
const maxProbedFiles = 4096

type attachRequest struct {
	Label string `json:"label"` // for messages only
}

type attachReply struct {
	Kind  string `json:"kind"` // what the attacher found the file to be
	Err   string `json:"err,omitempty"`
	Links int    `json:"links"`
}

// RunAttacher serves the agent as its attacher and returns the exit status.
// drop leaves the process with only what attaching takes; it runs after the
// inherited descriptors are taken and before any request is read.
func RunAttacher(drop func() error) int {
	names := strings.Split(os.Getenv(AttacherEnv), ",")
	progs := map[string]*ebpf.Program{}
	for i, name := range names {
		p, err := ebpf.NewProgramFromFD(attacherSockFD + 1 + i)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil uprobe attacher: taking program %s from descriptor %d: %v\n", name, attacherSockFD+1+i, err)
			return 1
		}
		progs[name] = p
	}
	if err := drop(); err != nil {
		fmt.Fprintf(os.Stderr, "vigil uprobe attacher: dropping capabilities: %v\n", err)
		return 1
	}
	f := os.NewFile(attacherSockFD, "attacher socket")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vigil uprobe attacher: socket: %v\n", err)
		return 1
	}
	err = serveAttacher(conn.(*net.UnixConn), progs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vigil uprobe attacher: %v\n", err)
		return 1
	}
	return 0
}

// serveAttacher answers requests until the agent closes its end, then
// detaches everything it attached.
func serveAttacher(conn *net.UnixConn, progs map[string]*ebpf.Program) error {
	var links sensor.Links
	defer func() { links.Close() }()
	probed := map[fileVersion]bool{}
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if errors.Is(err, io.EOF) || (err == nil && n == 0 && oobn == 0) {
			return nil // the agent is gone
		}
		if err != nil {
			return fmt.Errorf("reading a request: %w", err)
		}
		reply := attachOne(buf[:n], oob[:oobn], probed, progs, &links)
		b, _ := json.Marshal(reply)
		if _, err := conn.Write(b); err != nil {
			return fmt.Errorf("answering a request: %w", err)
		}
	}
}

// attachOne handles one request: a file descriptor passed with it.
func attachOne(msg, oob []byte, probed map[fileVersion]bool, progs map[string]*ebpf.Program, links *sensor.Links) attachReply {
	var req attachRequest
	if err := json.Unmarshal(msg, &req); err != nil {
		closeFDs(rights(oob))
		return attachReply{Err: fmt.Sprintf("malformed request: %v", err)}
	}
	fds := rights(oob)
	if len(fds) != 1 {
		closeFDs(fds)
		return attachReply{Err: fmt.Sprintf("request for %s carries %d descriptors, want 1", req.Label, len(fds))}
	}
	f := os.NewFile(uintptr(fds[0]), req.Label)
	defer f.Close()
	id, err := statVersion(f)
	if err != nil {
		return attachReply{Err: err.Error()}
	}
	if probed[id] {
		return attachReply{Kind: "probed before"}
	}
	if len(probed) >= maxProbedFiles {
		return attachReply{Err: fmt.Sprintf("%s: already %d files probed, the most one attacher takes", req.Label, maxProbedFiles)}
	}
	l, kind, err := probeFile(f, progs)
	if err != nil {
		return attachReply{Kind: kind, Err: err.Error()}
	}
	probed[id] = true
	*links = append(*links, l...)
	return attachReply{Kind: kind, Links: len(l)}
}

func rights(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if got, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		}
	}
	return fds
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// attacherClient is the agent's side: the running attacher and its socket.
type attacherClient struct {
	mu   sync.Mutex
	conn *net.UnixConn
	cmd  *exec.Cmd
}

// attacherTimeout bounds one request: the attacher reads one ELF symbol
// table and makes a few perf events.
const attacherTimeout = 30 * time.Second

// startAttacher runs exe (the agent's own binary) as the attacher, handing
// it progs, and returns once it runs. Its standard error is the agent's.
func startAttacher(exe string, progs map[string]*ebpf.Program) (*attacherClient, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("making the attacher's socket pair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "attacher socket"), os.NewFile(uintptr(pair[1]), "attacher socket")
	defer theirs.Close()
	names := probeProgramNames()
	files := []*os.File{theirs}
	defer func() {
		for _, f := range files[1:] {
			f.Close()
		}
	}()
	for _, name := range names {
		p := progs[name]
		if p == nil {
			ours.Close()
			return nil, fmt.Errorf("starting the attacher: no program %s", name)
		}
		fd, err := unix.FcntlInt(uintptr(p.FD()), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			ours.Close()
			return nil, fmt.Errorf("starting the attacher: duplicating program %s: %w", name, err)
		}
		files = append(files, os.NewFile(uintptr(fd), name))
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{"vigil-agent uprobe attacher"}
	cmd.Env = []string{AttacherEnv + "=" + strings.Join(names, ","), "GOMAXPROCS=1"}
	cmd.ExtraFiles = files
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		ours.Close()
		return nil, fmt.Errorf("starting the attacher %s: %w", exe, err)
	}
	conn, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("starting the attacher: %w", err)
	}
	return &attacherClient{conn: conn.(*net.UnixConn), cmd: cmd}, nil
}

// attach asks the attacher to probe f, naming it label in messages.
func (c *attacherClient) attach(f *os.File, label string) (attachReply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return attachReply{}, errors.New("the attacher is stopped")
	}
	req, _ := json.Marshal(attachRequest{Label: label})
	if err := c.conn.SetDeadline(time.Now().Add(attacherTimeout)); err != nil {
		return attachReply{}, err
	}
	if _, _, err := c.conn.WriteMsgUnix(req, unix.UnixRights(int(f.Fd())), nil); err != nil {
		return attachReply{}, fmt.Errorf("asking the attacher to probe %s: %w", label, err)
	}
	buf := make([]byte, 4096)
	n, err := c.conn.Read(buf)
	if err != nil {
		return attachReply{}, fmt.Errorf("waiting for the attacher to probe %s: %w", label, err)
	}
	var reply attachReply
	if err := json.Unmarshal(buf[:n], &reply); err != nil {
		return attachReply{}, fmt.Errorf("reading the attacher's answer for %s: %w", label, err)
	}
	return reply, nil
}

// pid is the attacher's process id.
func (c *attacherClient) pid() int { return c.cmd.Process.Pid }

// close stops the attacher (it detaches everything as its socket closes)
// and waits for it.
func (c *attacherClient) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case werr := <-done:
		return errors.Join(err, werr)
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		return errors.Join(err, <-done, errors.New("the attacher did not stop within 10s: killed"))
	}
}
