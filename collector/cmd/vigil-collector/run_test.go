package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

// The built collector run with --config alone listens where the file says,
// and a flag given with it moves only what it names.
func TestRunListensWhereTheFileSays(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "vigil-collector")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	for _, flagged := range []bool{false, true} {
		data := t.TempDir()
		natsAddr := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
		fileHTTP := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
		cfg := filepath.Join(data, "collector.hcl")
		src := fmt.Sprintf("data_dir = %q\nrules_dir = \"\"\nnats {\n  listen = %q\n}\nhttp {\n  listen = %q\n}\n", data, natsAddr, fileHTTP)
		if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		args, httpAddr := []string{"run", "--config", cfg}, fileHTTP
		if flagged {
			httpAddr = fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
			args = append(args, "--http", httpAddr)
		}
		p, err := testproc.Start(exec.Command(bin, args...), filepath.Join(data, "collector.log"))
		if err != nil {
			t.Fatal(err)
		}
		p.KillAtCleanup(t)
		if err := p.WaitFor(t.Context(), 60*time.Second, func() error {
			resp, err := http.Get("http://" + httpAddr + "/healthz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("/healthz: %s", resp.Status)
			}
			return nil
		}); err != nil {
			t.Fatalf("--http given: %v: %v", flagged, err)
		}
		if c, err := net.Dial("tcp", natsAddr); err != nil {
			t.Errorf("--http given: %v: NATS not at the file's %s: %v", flagged, natsAddr, err)
		} else {
			c.Close()
		}
		if _, err := os.Stat(filepath.Join(data, "vigil.db")); err != nil {
			t.Errorf("the store is not in the file's data_dir: %v", err)
		}
		if flagged {
			if _, err := http.Get("http://" + fileHTTP + "/healthz"); err == nil {
				t.Errorf("still listening at the file's %s when --http moved it", fileHTTP)
			}
		}
		p.Stop(syscall.SIGTERM, 10*time.Second)
	}
}
