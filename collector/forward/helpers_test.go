package forward

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

func waitFor(t *testing.T, check func() error) {
	t.Helper()
	testproc.CheckFor(t, 10*time.Second, 5*time.Millisecond, check)
}
