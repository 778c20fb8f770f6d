package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/collector/enrol"
	"github.com/vigilhq/vigil/internal/testproc"
)

// An enrolment record the collector cannot use locks its agent out; the
// collector says so where a person looks (the API vigil agents list reads,
// and a metric), and takes the fix without a restart.
func TestUnusableEnrolmentIsReported(t *testing.T) {
	data := t.TempDir()
	agents := filepath.Join(data, "agents")
	if _, _, err := enrol.Enrol(agents, "leeds", "ws-1", "ag-good"); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(agents, "ag-bad.json")
	if err := os.WriteFile(bad, []byte(`{"agent_id": "ag-bad", "site": "leeds"`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{DataDir: data, HTTP: "127.0.0.1:0",
			NATS:   bus.Config{Listen: "127.0.0.1:-1", Auth: true},
			Ready:  func(_, httpAddr string) { ready <- httpAddr },
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("collector stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("collector not ready after 30s")
	}
	token, err := os.ReadFile(filepath.Join(data, auth.AdminFile))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (string, error) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s: %s", path, resp.Status)
		}
		return string(b), err
	}
	expect := func(named bool, metric string) func() error {
		return func() error {
			e, err := get("/api/enrolment")
			if err != nil {
				return err
			}
			m, err := get("/metrics")
			if err != nil {
				return err
			}
			if strings.Contains(e, "ag-bad.json") != named {
				return fmt.Errorf("/api/enrolment = %s, want the bad record named: %v", e, named)
			}
			if !strings.Contains(m, metric+"\n") {
				return fmt.Errorf("/metrics lacks %q", metric)
			}
			return nil
		}
	}
	testproc.CheckFor(t, 10*time.Second, 50*time.Millisecond, expect(true, "vigil_collector_enrolment_errors 1"))
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	testproc.CheckFor(t, 10*time.Second, 50*time.Millisecond, expect(false, "vigil_collector_enrolment_errors 0"))
}
