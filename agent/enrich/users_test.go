package enrich

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

// ticked returns a cache whose timer never fires in a test: the test ticks.
func ticked() *Users {
	u := NewUsers()
	u.period = time.Hour
	return u
}

func TestUserTicksStayWithinTTL(t *testing.T) {
	// An answer looked up just before a tick lives userTicks periods, one
	// more if the expiring tick is a whole period late.
	if p := NewUsers().period; time.Duration(userTicks+1)*p > userTTL {
		t.Fatalf("%d ticks of %v, one late, outlive the %v TTL", userTicks, p, userTTL)
	}
}

func TestUserNamesExpire(t *testing.T) {
	u := ticked()
	if got := u.Name(0); got != "root" {
		t.Fatalf("uid 0 = %q", got)
	}
	u.names[0] = userEntry{name: "someone-who-left", gen: u.gen}
	for i := range userTicks {
		if got := u.Name(0); got != "someone-who-left" {
			t.Fatalf("after %d ticks the fresh entry was not used: %q", i, got)
		}
		u.tick()
	}
	if got := u.Name(0); got != "root" {
		t.Errorf("stale entry kept after %d ticks: %q", userTicks, got)
	}
	if got := u.Name(^uint32(0)); got != "" {
		t.Errorf("no-login uid named %q", got)
	}
}

func TestUserNamesExpireAfterIdle(t *testing.T) {
	// The timer stops when lookups stop; the time it did not count must
	// not keep an old name.
	u := ticked()
	u.Name(0)
	u.names[0] = userEntry{name: "someone-who-left", gen: u.gen}
	u.tick() // the lookup above kept it going
	u.tick() // none since: it stops
	if u.ticking {
		t.Fatal("the timer kept ticking without lookups")
	}
	if got := u.Name(0); got != "root" {
		t.Errorf("entry cached before an idle spell kept: %q", got)
	}
	if !u.ticking {
		t.Error("a lookup did not start the timer again")
	}
}

func TestUserNamesExpireOnTheirOwnTimer(t *testing.T) {
	u := NewUsers()
	u.period = 5 * time.Millisecond
	u.Name(0)
	u.mu.Lock()
	u.names[0] = userEntry{name: "someone-who-left", gen: u.gen}
	u.mu.Unlock()
	testproc.CheckFor(t, 5*time.Second, time.Millisecond, func() error {
		if got := u.Name(0); got != "root" {
			return fmt.Errorf("uid 0 still named %q", got)
		}
		return nil
	})
}

// BenchmarkUserName is a lookup of a cached uid without a name, as every
// event of such a uid makes.
func BenchmarkUserName(b *testing.B) {
	u := NewUsers()
	u.Name(1013)
	for b.Loop() {
		u.Name(1013)
	}
}
