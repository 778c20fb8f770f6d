package enrich

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mountinfo = `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:27 / /mnt/nas rw - nfs4 nas:/export rw
31 22 8:17 / /media/alice/USB\040STICK rw - vfat /dev/sdb1 rw
`

func TestParseMountinfo(t *testing.T) {
	ms, err := ParseMountinfo(strings.NewReader(mountinfo))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("%d mounts", len(ms))
	}
	if ms[0].Dev != 254<<20 || ms[0].Point != "/" || ms[0].FSType != "ext4" || ms[0].Network {
		t.Errorf("root = %+v", ms[0])
	}
	if !ms[1].Network || ms[1].Source != "nas:/export" {
		t.Errorf("nfs = %+v", ms[1])
	}
	if ms[2].Point != "/media/alice/USB STICK" || ms[2].Dev != 8<<20|17 {
		t.Errorf("usb = %+v", ms[2])
	}
	if _, err := ParseMountinfo(strings.NewReader("garbage line\n")); err == nil {
		t.Error("garbage parsed")
	}
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add(mountinfo)
	f.Fuzz(func(t *testing.T, s string) {
		ParseMountinfo(strings.NewReader(s))
	})
}

// The sysfs tree of the fixture host, as the kernel lays it out: a USB stick
// that says it is removable (sdb), a USB disk that says it is not (sdc), a
// LUKS volume on that disk (dm-0), a disk on the USB bus mounted at /media
// itself (sdd), an internal NVMe disk, an SD card and an eMMC chip.
const usbPort = "devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block"

var sysFiles = []struct{ path, data string }{
	{"devices/sdb/removable", "1\n"}, {"devices/sdb/sdb1/partition", "1\n"}, {"devices/vda/removable", "0\n"},
	{usbPort + "/sdc/removable", "0\n"}, {usbPort + "/sdc/sdc1/partition", "1\n"}, {usbPort + "/sdc/sdc2/partition", "2\n"},
	{"devices/virtual/block/dm-0/removable", "0\n"},
	{"devices/pci0000:00/0000:00:14.0/usb3/3-2/3-2:1.0/host7/target7:0:0/7:0:0:0/block/sdd/sdd1/partition", "1\n"},
	{"devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/removable", "0\n"},
	{"devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p1/partition", "1\n"},
	{"devices/platform/sdhci.0/mmc_host/mmc0/mmc0:aaaa/type", "SD\n"},
	{"devices/platform/sdhci.0/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0/removable", "0\n"},
	{"devices/platform/sdhci.0/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0/mmcblk0p1/partition", "1\n"},
	{"devices/platform/sdhci.1/mmc_host/mmc1/mmc1:0001/type", "MMC\n"},
	{"devices/platform/sdhci.1/mmc_host/mmc1/mmc1:0001/block/mmcblk1/removable", "0\n"},
	{"devices/platform/sdhci.1/mmc_host/mmc1/mmc1:0001/block/mmcblk1/mmcblk1p1/partition", "1\n"},
}

var sysLinks = map[string]string{
	"dev/block/8:17":  "../../devices/sdb/sdb1",
	"dev/block/254:0": "../../devices/vda",
	"dev/block/8:33":  "../../" + usbPort + "/sdc/sdc1",
	"dev/block/8:34":  "../../" + usbPort + "/sdc/sdc2",
	"dev/block/8:49":  "../../devices/pci0000:00/0000:00:14.0/usb3/3-2/3-2:1.0/host7/target7:0:0/7:0:0:0/block/sdd/sdd1",
	"dev/block/253:0": "../../devices/virtual/block/dm-0",
	"dev/block/259:1": "../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p1",
	"dev/block/179:1": "../../devices/platform/sdhci.0/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0/mmcblk0p1",
	"dev/block/179:9": "../../devices/platform/sdhci.1/mmc_host/mmc1/mmc1:0001/block/mmcblk1/mmcblk1p1",
	// dm-0 is built on the USB disk's second partition.
	"devices/virtual/block/dm-0/slaves/sdc2": "../../../../../" + usbPort + "/sdc/sdc2",
	// The card's block device names its card, as the kernel's link does.
	"devices/platform/sdhci.0/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0/device": "../../../mmc0:aaaa",
	"devices/platform/sdhci.1/mmc_host/mmc1/mmc1:0001/block/mmcblk1/device": "../../../mmc1:0001",
}

// fakeSys makes the fixture's /sys in a temporary directory (names with ':'
// are not committed as fixtures).
func fakeSys(t *testing.T) string {
	t.Helper()
	sys := t.TempDir()
	for _, f := range sysFiles {
		p := filepath.Join(sys, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range sysLinks {
		p := filepath.Join(sys, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

// Devices are named by init's mount table; a partition of a removable disk
// is removable, a network file system is network-backed, an unknown device
// is not found.
func TestMountsLookup(t *testing.T) {
	m := NewMounts(Paths{Proc: fixture.Proc, Sys: fakeSys(t)})
	usb, ok := m.Lookup(8<<20 | 17)
	if !ok || !usb.Removable || usb.Point != "/media/alice/USB STICK" {
		t.Errorf("usb = %+v %v", usb, ok)
	}
	root, ok := m.Lookup(254 << 20)
	if !ok || root.Removable || root.Network || root.FSType != "ext4" {
		t.Errorf("root = %+v %v", root, ok)
	}
	if nas, ok := m.Lookup(27); !ok || !nas.Network || nas.Removable {
		t.Errorf("nas = %+v %v", nas, ok)
	}
	if _, ok := m.Lookup(9 << 20); ok {
		t.Error("a device in no mount was found")
	}
}

// Removable media as a person sees it, whatever the disk's removable flag
// says: what the USB bus carries (also under an encrypted volume), what a
// desktop automounts, SD cards, phones; not internal disks, eMMC chips or a
// partition mounted at /media itself.
func TestMountsRemovableAsSeen(t *testing.T) {
	m := NewMounts(Paths{Proc: fixture.Proc, Sys: fakeSys(t)})
	for _, c := range []struct {
		what      string
		dev       uint32
		removable bool
	}{
		{"USB disk reporting removable=0", 8<<20 | 33, true},
		{"LUKS volume on a USB disk", 253 << 20, true},
		{"loop device automounted under /media/<user>", 7 << 20, true},
		{"loop device automounted under /run/media/<user>", 7<<20 | 1, true},
		{"SD card", 179<<20 | 1, true},
		{"MTP phone mounted with jmtpfs", 51, true},
		{"internal NVMe disk", 259<<20 | 1, false},
		{"eMMC chip", 179<<20 | 9, false},
		{"root disk", 254 << 20, false},
		{"NFS share", 27, false},
	} {
		mt, ok := m.Lookup(c.dev)
		if !ok {
			t.Errorf("%s: device %d:%d not found", c.what, c.dev>>20, c.dev&0xfffff)
			continue
		}
		if mt.Removable != c.removable {
			t.Errorf("%s (%s): removable = %v, want %v", c.what, mt.Point, mt.Removable, c.removable)
		}
	}
	// A disk on the USB bus is removable wherever it is mounted; the
	// automount rule alone would not make /media itself so.
	if media, _ := m.Lookup(8<<20 | 49); !media.Removable {
		t.Errorf("USB disk mounted at /media = %+v, want removable", media)
	}
}

// One desktop FUSE mount serves phones, cameras, network shares and cloud
// drives: which one a file is on shows in its path.
func TestMountsFileDesktopFUSE(t *testing.T) {
	m := NewMounts(Paths{Proc: fixture.Proc, Sys: fakeSys(t)})
	for _, c := range []struct {
		dev                uint32
		path               string
		removable, network bool
	}{
		{60, "/run/user/1000/gvfs/mtp:host=SAMSUNG_SAMSUNG_Android_R58M123/Internal storage/Download/c.csv", true, false},
		{60, "/run/user/1000/gvfs/gphoto2:host=Canon_Inc._Canon_Digital_Camera/DCIM/c.csv", true, false},
		{60, "/run/user/1000/gvfs/afc:host=00008030-001A2D3E1E88802E/c.csv", true, false},
		{60, "/run/user/1000/gvfs/smb-share:server=nas.example.com,share=public/c.csv", false, true},
		{60, "/run/user/1000/gvfs/sftp:host=files.example.net,user=al/c.csv", false, true},
		{60, "/run/user/1000/gvfs/dav:host=cloud.example.net,ssl=false/c.csv", false, true},
		{60, "/run/user/1000/gvfs/google-drive:host=gmail.com,user=al/c.csv", false, true},
		{60, "/run/user/1000/gvfs", false, false},
		{61, "/run/user/1000/kio-fuse-QbWdzv/mtp/Pixel 7/Internal shared storage/c.csv", true, false},
		{61, "/run/user/1000/kio-fuse-QbWdzv/smb/nas/public/c.csv", false, true},
		{8<<20 | 33, "/mnt/backup/c.csv", true, false},
		{254 << 20, "/home/alice/c.csv", false, false},
	} {
		mt, ok := m.File(c.dev, c.path)
		if !ok || mt.Removable != c.removable || mt.Network != c.network {
			t.Errorf("File(%d:%d, %q) = %+v, %v; want removable %v, network %v", c.dev>>20, c.dev&0xfffff, c.path, mt, ok, c.removable, c.network)
		}
	}
}

// A stick mounted while the agent runs is known at its first write, even
// when the table was read a moment before.
func TestMountsNewDeviceAtOnce(t *testing.T) {
	proc := t.TempDir()
	info := filepath.Join(proc, "1", "mountinfo")
	if err := os.MkdirAll(filepath.Dir(info), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(info, []byte(mountinfo), 0o644); err != nil {
		t.Fatal(err)
	}
	m := NewMounts(Paths{Proc: proc, Sys: fakeSys(t)})
	if _, ok := m.Lookup(7 << 20); ok {
		t.Fatal("7:0 found before it was mounted")
	}
	f, err := os.OpenFile(info, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("50 22 7:5 / /media/alice/NEW rw - ext4 /dev/loop5 rw\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if mt, ok := m.Lookup(7<<20 | 5); !ok || !mt.Removable || mt.Point != "/media/alice/NEW" {
		t.Errorf("new stick = %+v, %v; want it found at once, removable", mt, ok)
	}
}

// A device number freed by an unplugged stick and taken by another mount is
// named after the new mount once the table has aged.
func TestMountsReusedDevice(t *testing.T) {
	proc := t.TempDir()
	info := filepath.Join(proc, "1", "mountinfo")
	if err := os.MkdirAll(filepath.Dir(info), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(info, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(mountinfo + "50 22 7:5 / /media/alice/NEW rw - ext4 /dev/loop5 rw\n")
	m := NewMounts(Paths{Proc: proc, Sys: fakeSys(t)})
	if mt, _ := m.Lookup(7<<20 | 5); !mt.Removable {
		t.Fatalf("stick = %+v, want removable", mt)
	}
	write(mountinfo + "51 22 7:5 / /srv/images rw - ext4 /dev/loop5 rw\n")
	m.mu.Lock()
	m.lastRead = m.lastRead.Add(-tableAge)
	m.mu.Unlock()
	if mt, ok := m.Lookup(7<<20 | 5); !ok || mt.Removable || mt.Point != "/srv/images" {
		t.Errorf("reused device = %+v, %v; want /srv/images, not removable", mt, ok)
	}
}
