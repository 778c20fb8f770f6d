package testnats

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	natsserver "github.com/nats-io/nats-server/v2/test"
)

// Options returns in-process server options on a random port with
// JetStream storing under a fresh temporary directory.
func Options(t testing.TB) *server.Options {
	t.Helper()
	o := natsserver.DefaultTestOptions
	o.Port = -1
	o.JetStream = true
	o.StoreDir = t.TempDir()
	return &o
}

// Run starts an in-process server with opts and stops it when the test ends.
func Run(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	s := natsserver.RunServer(opts)
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// RunJetStream starts an in-process JetStream server on a random port.
func RunJetStream(t testing.TB) *server.Server {
	t.Helper()
	return Run(t, Options(t))
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildOut  []byte
)

// Binary builds the nats-server command from the module version in go.mod
// (once per test binary) and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-nats-server-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "nats-server")
		cmd := exec.Command("go", "build", "-o", buildPath, "github.com/nats-io/nats-server/v2")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building nats-server: %v\n%s", buildErr, buildOut)
	}
	return buildPath
}
