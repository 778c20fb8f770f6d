package enrich

import (
	"context"
	"path/filepath"
	"strconv"

	"github.com/shirou/gopsutil/v3/common"
)

// Paths are where the host's /proc and /sys are mounted: the real ones on a
// host, a fixture tree in tests.
type Paths struct {
	Proc string
	Sys  string
}

// HostPaths are this host's.
var HostPaths = Paths{Proc: "/proc", Sys: "/sys"}

// proc is a path under Proc.
func (p Paths) proc(elem ...string) string {
	return filepath.Join(append([]string{p.Proc}, elem...)...)
}

// procPID is a file of process pid's directory under Proc.
func (p Paths) procPID(pid uint32, name string) string {
	return p.proc(strconv.FormatUint(uint64(pid), 10), name)
}

// sys is a path under Sys.
func (p Paths) sys(elem ...string) string {
	return filepath.Join(append([]string{p.Sys}, elem...)...)
}

// context carries the paths to gopsutil, which reads /proc for the table.
func (p Paths) context() context.Context {
	return context.WithValue(context.Background(), common.EnvKey,
		common.EnvMap{common.HostProcEnvKey: p.Proc, common.HostSysEnvKey: p.Sys})
}
