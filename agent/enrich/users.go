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

type userEntry struct {
	name string
	at   time.Time
}

// Users names uids, caching answers (misses included) for userTTL, since
// lookups read /etc/passwd or ask NSS.
type Users struct {
	mu    sync.Mutex
	names map[uint32]userEntry
	now   func() time.Time
}

// NewUsers returns an empty cache.
func NewUsers() *Users { return &Users{names: map[uint32]userEntry{}, now: time.Now} }

// Name returns the user name of uid, or "" when it has none.
func (u *Users) Name(uid uint32) string {
	if uid == ^uint32(0) {
		return ""
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	if e, ok := u.names[uid]; ok && now.Sub(e.at) < userTTL {
		return e.name
	}
	name := ""
	if usr, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		name = usr.Username
	}
	u.names[uid] = userEntry{name: name, at: now}
	return name
}
