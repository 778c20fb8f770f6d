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

// fakeSys makes a /sys in a temporary directory where 8:17 is a partition
// of a removable disk and 254:0 a fixed one, linked as the kernel links
// them (names with ':' are not committed as fixtures).
func fakeSys(t *testing.T) string {
	t.Helper()
	sys := t.TempDir()
	for _, f := range []struct{ path, data string }{
		{"devices/sdb/removable", "1\n"}, {"devices/sdb/sdb1/partition", "1\n"}, {"devices/vda/removable", "0\n"},
	} {
		p := filepath.Join(sys, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(sys, "dev/block"), 0o755); err != nil {
		t.Fatal(err)
	}
	for dev, target := range map[string]string{"8:17": "../../devices/sdb/sdb1", "254:0": "../../devices/vda"} {
		if err := os.Symlink(target, filepath.Join(sys, "dev/block", dev)); err != nil {
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
