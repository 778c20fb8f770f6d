package enrich

import (
	"os/user"
	"strconv"
	"sync"
	"time"
)

// userTTL bounds how long a name (or the lack of one) is trusted: a uid
// freed by userdel and given to a new account must not keep the old name.
const userTTL = 5 * time.Minute

// userTicks is how many ticks of userTTL/(userTicks+1) an answer is trusted
// for, so that a lookup reads a counter instead of the clock and a tick up
// to a whole period late still expires the answer within userTTL.
const userTicks = 4

type userEntry struct {
	name string
	gen  uint64 // the tick it was looked up in
}

// Users names uids, caching answers (misses included) for at most userTTL,
// since lookups read /etc/passwd or ask NSS.
type Users struct {
	mu    sync.Mutex
	names map[uint32]userEntry
	// gen counts ticks; a timer ticks every period while lookups come and
	// stops after a period without any.
	gen     uint64
	period  time.Duration
	timer   *time.Timer
	ticking bool // the timer is armed
	used    bool // a lookup came since the last tick
}

// NewUsers returns an empty cache.
func NewUsers() *Users {
	return &Users{names: map[uint32]userEntry{}, period: userTTL / (userTicks + 1)}
}

// Name returns the user name of uid, or "" when it has none.
func (u *Users) Name(uid uint32) string {
	if uid == ^uint32(0) {
		return ""
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.used = true
	if !u.ticking {
		// No tick counted the idle time: trust nothing cached before it.
		u.gen += userTicks
		u.ticking = true
		if u.timer == nil {
			u.timer = time.AfterFunc(u.period, u.tick)
		} else {
			u.timer.Reset(u.period)
		}
	}
	if e, ok := u.names[uid]; ok && u.gen-e.gen < userTicks {
		return e.name
	}
	name := ""
	if usr, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		name = usr.Username
	}
	u.names[uid] = userEntry{name: name, gen: u.gen}
	return name
}

// tick ages the cached answers by one period.
func (u *Users) tick() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gen++
	if u.used {
		u.used = false
		u.timer.Reset(u.period)
		return
	}
	u.ticking = false
}
