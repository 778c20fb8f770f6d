package enrich

import (
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
