package enrich

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mount is one line of /proc/self/mountinfo that matters to vigil.
type Mount struct {
	Dev    uint32 // kernel dev_t as the kernel encodes s_dev (major<<20 | minor)
	Point  string
	FSType string
	Source string
	// Removable: media a person carries away (USB disks and sticks, SD
	// cards, phones and cameras), whatever the disk's removable flag says.
	Removable bool
	Network   bool
}

// networkFS are file systems whose data leaves the host when written.
var networkFS = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "9p": true,
	"ceph": true, "glusterfs": true, "fuse.sshfs": true, "fuse.rclone": true,
	"fuse.s3fs": true, "fuse.gcsfuse": true, "afs": true, "lustre": true, "davfs": true, "fuse.davfs2": true,
}

// ParseMountinfo reads /proc/<pid>/mountinfo.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		pre, post, ok := bytes.Cut(sc.Bytes(), []byte(" - "))
		if !ok {
			return nil, fmt.Errorf("mountinfo line %d: no separator", line)
		}
		f := strings.Fields(string(pre))
		g := strings.Fields(string(post))
		if len(f) < 5 || len(g) < 2 {
			return nil, fmt.Errorf("mountinfo line %d: too few fields", line)
		}
		maj, min, ok := strings.Cut(f[2], ":")
		if !ok {
			return nil, fmt.Errorf("mountinfo line %d: bad device %q", line, f[2])
		}
		ma, err1 := strconv.ParseUint(maj, 10, 32)
		mi, err2 := strconv.ParseUint(min, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mountinfo line %d: bad device %q", line, f[2])
		}
		out = append(out, Mount{
			Dev: uint32(ma<<20 | mi), Point: unescapeOctal(f[4]), FSType: g[0], Source: unescapeOctal(g[1]),
			Network: networkFS[g[0]],
		})
	}
	return out, sc.Err()
}

// unescapeOctal undoes mountinfo's \040-style escapes.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

const (
	// maxMissing bounds the devices remembered as in no mount.
	maxMissing = 1024
	// tableAge is how long a table read is trusted for the devices it
	// names: the number of an unplugged stick soon names another mount.
	tableAge = 10 * time.Second
)

// Mounts maps devices to mounts, rereading mountinfo when it meets a
// device it does not know: at once for a device it never missed (a stick
// just plugged in), at most once a second for one it missed before; and for
// a known device once the table is tableAge old.
type Mounts struct {
	mu       sync.Mutex
	byDev    map[uint32]Mount
	missing  map[uint32]struct{}
	lastRead time.Time
	paths    Paths
}

// NewMounts reads the mount table under paths.
func NewMounts(paths Paths) *Mounts {
	m := &Mounts{paths: paths, missing: map[uint32]struct{}{}}
	m.reload()
	return m
}

func (m *Mounts) reload() {
	m.lastRead = time.Now()
	// The host's mounts, as init sees them: under systemd's sandboxing the
	// agent's own mount namespace is a private copy.
	f, err := os.Open(m.paths.proc("1", "mountinfo"))
	if err != nil {
		if f, err = os.Open(m.paths.proc("self", "mountinfo")); err != nil {
			return
		}
	}
	defer f.Close()
	list, err := ParseMountinfo(f)
	if err != nil {
		return
	}
	m.byDev = map[uint32]Mount{}
	for _, mt := range list {
		if _, seen := m.byDev[mt.Dev]; seen {
			continue // bind mounts: keep the first
		}
		mt.Removable = m.removableBlock(mt.Dev) || automounted(mt.Point) || mtpFS[mt.FSType]
		m.byDev[mt.Dev] = mt
	}
}

// Lookup returns the mount of dev.
func (m *Mounts) Lookup(dev uint32) (Mount, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mt, ok := m.byDev[dev]
	age := time.Since(m.lastRead)
	if ok && age < tableAge {
		return mt, true
	}
	if _, missed := m.missing[dev]; ok || !missed || age > time.Second {
		m.reload()
		mt, ok = m.byDev[dev]
	}
	if !ok {
		if len(m.missing) >= maxMissing {
			clear(m.missing)
		}
		m.missing[dev] = struct{}{}
	}
	return mt, ok
}

// File returns the mount of dev as it holds path: on a desktop's FUSE mount,
// which serves phones and network shares alike, the path says which it is.
func (m *Mounts) File(dev uint32, path string) (Mount, bool) {
	mt, ok := m.Lookup(dev)
	if ok {
		mt.Removable, mt.Network = desktopBackend(mt, path)
	}
	return mt, ok
}
