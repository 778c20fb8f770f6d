package db_test

import (
	"os"
	"testing"

	"github.com/vigilhq/vigil/agent/caps"
	"github.com/vigilhq/vigil/agent/sensor/db"
)

// TestMain lets the test binary serve as the uprobe attacher, as the
// agent's binary does: StartAttacher re-executes the running binary.
func TestMain(m *testing.M) {
	if db.IsAttacher() {
		os.Exit(db.RunAttacher(caps.DropForAttacher))
	}
	if path := os.Getenv(unixClientEnv); path != "" {
		os.Exit(runUnixClient(path))
	}
	os.Exit(m.Run())
}
