package enrich

import (
	"testing"
	"time"
)

func TestUserNamesExpire(t *testing.T) {
	u := NewUsers()
	now := time.Unix(1000, 0)
	u.now = func() time.Time { return now }
	if got := u.Name(0); got != "root" {
		t.Fatalf("uid 0 = %q", got)
	}
	// A name cached long ago is looked up again rather than trusted.
	u.names[0] = userEntry{name: "someone-who-left", at: now}
	if got := u.Name(0); got != "someone-who-left" {
		t.Errorf("fresh cache entry not used: %q", got)
	}
	now = now.Add(userTTL + time.Second)
	if got := u.Name(0); got != "root" {
		t.Errorf("stale entry kept: %q", got)
	}
	if got := u.Name(^uint32(0)); got != "" {
		t.Errorf("no-login uid named %q", got)
	}
}
