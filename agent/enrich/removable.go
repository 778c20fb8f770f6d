package enrich

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// maxStack bounds how many layers of device mapper or md under a mount are
// followed to the disks they sit on.
const maxStack = 4

// usbHub is the path element of a USB root hub in sysfs: every device on a
// USB bus hangs below one.
var usbHub = regexp.MustCompile(`^usb[0-9]+$`)

// removableBlock says whether the block device behind dev is removable
// media: the kernel's removable flag on it or its disk, a disk on the USB bus
// (most USB disks and many sticks report removable=0), an SD card, or a
// device mapper or md volume built on any of those.
func (m *Mounts) removableBlock(dev uint32) bool {
	dir, err := filepath.EvalSymlinks(m.paths.sys("dev", "block", fmt.Sprintf("%d:%d", dev>>20, dev&0xfffff)))
	if err != nil {
		return false // not a block device: anonymous devices of tmpfs, FUSE, NFS
	}
	return removableDir(dir, maxStack)
}

// removableDir is removableBlock for a block device's resolved sysfs
// directory, following its slaves at most depth layers down.
func removableDir(dir string, depth int) bool {
	for _, p := range []string{dir + "/removable", dir + "/../removable"} {
		if b, err := os.ReadFile(p); err == nil {
			if strings.TrimSpace(string(b)) == "1" {
				return true
			}
			break
		}
	}
	for _, elem := range strings.Split(filepath.ToSlash(dir), "/") {
		if usbHub.MatchString(elem) {
			return true
		}
	}
	if sdCard(dir) {
		return true
	}
	if depth == 0 {
		return false
	}
	slaves, _ := filepath.Glob(filepath.Join(dir, "slaves", "*"))
	for _, s := range slaves {
		if d, err := filepath.EvalSymlinks(s); err == nil && removableDir(d, depth-1) {
			return true
		}
	}
	return false
}

// sdCard says whether dir (a disk or one of its partitions) is an SD card,
// which the MMC layer reports with removable=0; an eMMC chip soldered to the
// board says "MMC" instead.
func sdCard(dir string) bool {
	for _, disk := range []string{dir, filepath.Dir(dir)} {
		if b, err := os.ReadFile(filepath.Join(disk, "device", "type")); err == nil {
			return strings.TrimSpace(string(b)) == "SD"
		}
	}
	return false
}

// automounted says whether point is where desktops (udisks2) mount the
// removable media a person plugs in: /media/<user>/<label> on Debian and
// Ubuntu, /run/media/<user>/<label> on Fedora and SUSE.
func automounted(point string) bool {
	for _, root := range []string{"/media/", "/run/media/"} {
		if rest, ok := strings.CutPrefix(point, root); ok && rest != "" {
			return true
		}
	}
	return false
}

// mtpFS are FUSE file systems that mount a phone or camera over MTP.
var mtpFS = map[string]bool{
	"fuse.jmtpfs": true, "fuse.simple-mtpfs": true, "fuse.go-mtpfs": true, "fuse.mtpfs": true,
	"fuse.aft-mtp-mount": true, "fuse.ifuse": true,
}

// Desktop FUSE mounts that serve every backend a person opens in the file
// manager, one folder per backend: GNOME's gvfs names the folder
// "<scheme>:<params>", KDE's kio-fuse "<scheme>/<host>/...".
var (
	gvfsRemovable = []string{"mtp", "gphoto2", "afc"}
	gvfsNetwork   = []string{"smb-share", "smb-server", "sftp", "ftp", "ftps", "dav", "davs", "afp-volume", "nfs",
		"google-drive", "onedrive"}
	kioRemovable = []string{"mtp", "gphoto2", "afc", "camera"}
	kioNetwork   = []string{"smb", "sftp", "fish", "ftp", "ftps", "webdav", "webdavs", "nfs", "gdrive"}
)

// desktopBackend returns whether path on mount mt is on removable media or
// the network: on a gvfs or kio-fuse mount, after the backend the path's
// first element under the mount names; elsewhere, as the mount says.
func desktopBackend(mt Mount, path string) (removable, network bool) {
	var kinds func(first string) string
	switch mt.FSType {
	case "fuse.gvfsd-fuse":
		kinds = func(first string) string {
			scheme, _, _ := strings.Cut(first, ":")
			return backend(scheme, gvfsRemovable, gvfsNetwork)
		}
	case "fuse.kio-fuse":
		kinds = func(first string) string { return backend(first, kioRemovable, kioNetwork) }
	default:
		return mt.Removable, mt.Network
	}
	rest, ok := strings.CutPrefix(path, strings.TrimSuffix(mt.Point, "/")+"/")
	if !ok {
		return mt.Removable, mt.Network
	}
	first, _, _ := strings.Cut(rest, "/")
	switch kinds(first) {
	case "removable":
		return true, false
	case "network":
		return false, true
	}
	return mt.Removable, mt.Network
}

func backend(scheme string, removable, network []string) string {
	switch {
	case slices.Contains(removable, scheme):
		return "removable"
	case slices.Contains(network, scheme):
		return "network"
	}
	return ""
}
