package db

import (
	"fmt"
	"strings"
)

// DefaultSocketPaths are where Debian, Ubuntu and RHEL-family packages
// put PostgreSQL's and MySQL/MariaDB's server sockets.
var DefaultSocketPaths = []string{
	"/var/run/postgresql/.s.PGSQL.*", "/run/postgresql/.s.PGSQL.*", "/tmp/.s.PGSQL.*",
	"/var/run/mysqld/mysqld.sock", "/run/mysqld/mysqld.sock", "/var/lib/mysql/mysql.sock", "/tmp/mysql.sock",
}

// maxSocketPath is the longest Unix socket path (sun_path); pathKeyLen
// is the kernel's key for one, longer (struct db_path).
const (
	maxSocketPath = 108
	pathKeyLen    = 128
)

// socketPathKey is a configured socket path as the kernel looks it up:
// zero-filled, a trailing "*" cut (the kernel cuts a path's trailing port
// digits before its second lookup).
func socketPathKey(p string) (key [pathKeyLen]byte, err error) {
	p = strings.TrimSuffix(p, "*")
	if p == "" || len(p) >= maxSocketPath || strings.ContainsAny(p, "*\x00") {
		return key, fmt.Errorf("socket path %q: want a path shorter than %d bytes, with at most a trailing *", p, maxSocketPath)
	}
	copy(key[:], p)
	return key, nil
}
