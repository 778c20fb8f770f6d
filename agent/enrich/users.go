package enrich

import (
	"os/user"
	"strconv"
	"sync"
)

// Users names uids, caching answers (including misses) since lookups read
// /etc/passwd or ask NSS.
type Users struct {
	mu    sync.Mutex
	names map[uint32]string
}

// NewUsers returns an empty cache.
func NewUsers() *Users { return &Users{names: map[uint32]string{}} }

// Name returns the user name of uid, or "" when it has none.
func (u *Users) Name(uid uint32) string {
	if uid == ^uint32(0) {
		return ""
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if n, ok := u.names[uid]; ok {
		return n
	}
	name := ""
	if usr, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		name = usr.Username
	}
	u.names[uid] = name
	return name
}
