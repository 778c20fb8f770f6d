package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// The README's front door: test/run-local.sh (make run) brings up the
// collector with its embedded NATS, an enrolled agent on this host with the
// default pack, the console and the live alert tail; the agent reports in,
// the console answers, and Ctrl-C stops all of it.
func TestRunLocal(t *testing.T) {
	testkernel.RequireRoot(t)
	bin := binaries(t)
	if out, err := exec.Command("go", "build", "-o", bin+"/", "github.com/vigilhq/vigil/cmd/vigil").CombinedOutput(); err != nil {
		t.Fatalf("building vigil: %v\n%s", err, out)
	}
	run := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
	cmd := exec.Command("bash", "../../test/run-local.sh")
	cmd.Env = append(os.Environ(), "BIN="+bin, "VIGIL_RUN_DIR="+run, "VIGIL_HTTP="+addr,
		fmt.Sprintf("VIGIL_NATS_PORT=%d", testproc.FreePort(t)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })

	var printed []string
	deadline := time.After(90 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("run-local.sh ended early:\n%s\n%s", strings.Join(printed, "\n"), logs(run))
			}
			printed = append(printed, l)
			ready = strings.HasPrefix(l, "alerts as they arrive")
		case <-deadline:
			t.Fatalf("run-local.sh not running after 90s:\n%s\n%s", strings.Join(printed, "\n"), logs(run))
		}
	}
	text := strings.Join(printed, "\n")
	for _, want := range []string{"console: http://" + addr + "/", "first admin", "API token: "} {
		if !strings.Contains(text, want) {
			t.Errorf("run-local.sh did not print %q:\n%s", want, text)
		}
	}
	token, err := os.ReadFile(filepath.Join(run, "collector", "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		return http.DefaultClient.Do(req)
	}
	// The agent this script enrolled reports in, with its sensors running.
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		resp, err := get("/api/agents")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var agents []struct {
			AgentID   string `json:"agent_id"`
			Status    string `json:"status"`
			Heartbeat *struct {
				Sensors []string `json:"sensors"`
			} `json:"heartbeat"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&agents); err != nil {
			return err
		}
		if len(agents) != 1 || agents[0].AgentID != "local-agent" || agents[0].Status != "ok" ||
			agents[0].Heartbeat == nil || len(agents[0].Heartbeat.Sensors) != 4 {
			return fmt.Errorf("agents %+v", agents)
		}
		return nil
	})
	resp, err := http.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<form") {
		t.Errorf("the console's sign-in page: %s\n%.300s", resp.Status, body)
	}

	// Ctrl-C reaches the whole process group, as from a terminal.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines {
		}
	}()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("run-local.sh still running 30s after Ctrl-C\n%s", logs(run))
	}
	if out, _ := exec.Command("pgrep", "-f", bin).Output(); len(out) > 0 {
		t.Errorf("processes of this run left after Ctrl-C: %s", out)
	}
}

func logs(run string) string {
	var b strings.Builder
	for _, f := range []string{"collector.log", "agent.log"} {
		data, _ := os.ReadFile(filepath.Join(run, f))
		fmt.Fprintf(&b, "--- %s\n%s\n", f, testproc.Tail(string(data), 40))
	}
	return b.String()
}
