package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a test ended instead of ending
// it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skip(args ...any)                  { r.skipped = args[0].(string) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestSkip(t *testing.T) {
	for _, c := range []struct {
		ci       string
		wantFail bool
	}{
		{"", false}, {"false", false}, {"0", false},
		{"true", true}, {"1", true}, {"yes", true},
	} {
		t.Run("CI="+c.ci, func(t *testing.T) {
			t.Setenv("CI", c.ci)
			var r recorder
			Skipf(&r, "needs %s", "openssl")
			if c.wantFail {
				if !strings.HasPrefix(r.failed, "needs openssl: CI must") || r.skipped != "" {
					t.Fatalf("under CI=%q: skipped %q, failed %q; want a failure", c.ci, r.skipped, r.failed)
				}
				return
			}
			if r.skipped != "needs openssl" || r.failed != "" {
				t.Fatalf("outside CI: skipped %q, failed %q; want a skip saying needs openssl", r.skipped, r.failed)
			}
		})
	}
}
