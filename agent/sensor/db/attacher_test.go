package db

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// The attacher trusts nothing it is sent: a malformed request, a request
// without exactly one descriptor, and a file that is no TLS library each
// get an answer saying so, no probe, and the attacher goes on serving; it
// stops when the agent's end closes.
func TestAttacherJudgesWhatItIsSent(t *testing.T) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	agent, attacher := conn(pair[0]), conn(pair[1])
	served := make(chan error, 1)
	go func() { served <- serveAttacher(attacher, map[string]*ebpf.Program{}) }()

	ask := func(msg []byte, fds ...int) attachReply {
		t.Helper()
		var oob []byte
		if len(fds) > 0 {
			oob = unix.UnixRights(fds...)
		}
		if _, _, err := agent.WriteMsgUnix(msg, oob, nil); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := agent.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		var r attachReply
		if err := json.Unmarshal(buf[:n], &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	self, err := os.Open("/proc/self/exe") // a Go program, but not one with crypto/tls here
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	text, err := os.Open("attacher_test.go")
	if err != nil {
		t.Fatal(err)
	}
	defer text.Close()
	req, _ := json.Marshal(attachRequest{Label: "x"})

	if r := ask([]byte("{not json"), int(text.Fd())); !strings.Contains(r.Err, "malformed request") {
		t.Errorf("malformed request answered %+v", r)
	}
	if r := ask(req); !strings.Contains(r.Err, "carries 0 descriptors") {
		t.Errorf("request without a descriptor answered %+v", r)
	}
	if r := ask(req, int(text.Fd()), int(self.Fd())); !strings.Contains(r.Err, "carries 2 descriptors") {
		t.Errorf("request with two descriptors answered %+v", r)
	}
	if r := ask(req, int(text.Fd())); r.Err != "" || r.Kind != kindNone || r.Links != 0 {
		t.Errorf("a text file answered %+v, want no kind and no probe", r)
	}
	agent.Close()
	if err := <-served; err != nil {
		t.Errorf("attacher ended with %v once the agent's end closed, want nil", err)
	}
}
