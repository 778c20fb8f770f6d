package e2e

// Removable media as a person sees it: a stick plugged in while the agent
// runs and mounted where a desktop mounts it, whose disk does not say it is
// removable (a loop device's flag is fixed at 0, as many USB disks report),
// and a copy to it far smaller than the hourly byte limit. Only the link
// between the bulk read and the write gives it away.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

func TestVariantsMedia(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "gzip", "cp", "mount", "umount", "mkfs.ext4", "useradd")
	pg := testdb.StartPostgres(t, testdb.Options{TLS: true})
	out, err := exec.Command("psql", pg.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", fmt.Sprintf(`
CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.com' FROM generate_series(1, %d) g;
CREATE ROLE support_agent LOGIN;
GRANT SELECT ON customers TO support_agent;`, customerRows)).CombinedOutput()
	if err != nil {
		t.Fatalf("loading customers: %v: %s", err, out)
	}
	// The suite runs at any hour: the shift rule is not what it is about.
	rulesDir := testRules(t, "values {\n  off_shift_queries = 1000000\n}\n")
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir, "--host-rules", rulesDir)
	mia, noor := ensurePerson(t, "vigil-e2e-mia"), ensurePerson(t, "vigil-e2e-noor")
	agent := startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "ws-leeds-07", dbPorts: []int{pg.Port}, rulesDir: rulesDir})
	r := &incidentRig{c: c, data: data, agent: agent, pg: pg}

	t.Run("BulkReadThenStick", func(t *testing.T) {
		stick := plugStick(t, mia, "STICK")
		export := filepath.Join(mia.home, "customers.txt")
		mia.run(t, "psql", r.url("support_agent"), "-X", "-q", "-A", "-t", "-c", "SELECT id, name, email FROM customers", "-o", export)
		mia.run(t, "gzip", export)
		mia.run(t, "cp", export+".gz", stick)
		fi, err := os.Stat(filepath.Join(stick, "customers.txt.gz"))
		if err != nil {
			t.Fatal(err)
		}

		a := c.awaitAlert(t, "bulk_read_removable_or_cloud_write", mia.name)
		by := evidenceOf(t, a, mia.name, []event.Kind{event.KindDBQuery, event.KindFileWrite}, event.KindDBQuery, event.KindFileWrite)
		for _, ev := range by[event.KindDBQuery] {
			if ev.DB.Rows != customerRows {
				t.Errorf("read step %s returned %d rows, want %d", ev.ID, ev.DB.Rows, customerRows)
			}
		}
		for _, ev := range by[event.KindFileWrite] {
			if ev.File.Path != filepath.Join(stick, "customers.txt.gz") || int64(ev.File.Bytes) != fi.Size() ||
				!ev.File.Removable || ev.File.Mount != stick || ev.Process.Comm != "cp" {
				t.Errorf("write step %s: %s wrote %s (%d bytes, mount %s, removable %v); want cp's copy of %d bytes to the stick",
					ev.ID, ev.Process.Comm, ev.File.Path, ev.File.Bytes, ev.File.Mount, ev.File.Removable, fi.Size())
			}
		}
	})

	// Photos copied to a stick by someone who read nothing in bulk.
	t.Run("CopyWithoutBulkRead", func(t *testing.T) {
		stick := plugStick(t, noor, "PHOTOS")
		photo := filepath.Join(noor.home, "IMG_0001.jpg")
		if err := os.WriteFile(photo, make([]byte, 3<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		noor.run(t, "psql", r.url("support_agent"), "-X", "-q", "-A", "-t", "-o", "/dev/null",
			"-c", "SELECT id, name, email FROM customers WHERE id = 17")
		noor.run(t, "cp", photo, stick)
		r.barrier(t, noor.name, noor.cmd("/bin/true"))
		stored := fmt.Sprintf("json_extract(body, '$.file.path') = '%s' AND json_extract(body, '$.file.removable')", filepath.Join(stick, "IMG_0001.jpg"))
		if n := storedEvents(t, data, agent.id, event.KindFileWrite, noor.name, stored); n != 1 {
			t.Errorf("%d removable writes of the photo stored, want 1", n)
		}
		r.noAlerts(t, noor.name, "bulk_read_removable_or_cloud_write", "removable_or_cloud_write")
	})
}

// plugStick mounts a fresh ext4 image on a loop device where a desktop
// mounts a person's removable media, /media/<user>/<label>, owned by them.
func plugStick(t *testing.T, p *person, label string) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), label+".img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(32 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-L", label, img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	dir := filepath.Join("/media", p.name, label)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Join("/media", p.name)) })
	if out, err := exec.Command("mount", "-o", "loop,nosuid,nodev", img, dir).CombinedOutput(); err != nil {
		t.Fatalf("mounting %s at %s: %v: %s", img, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
		}
	})
	uid, err := strconv.Atoi(p.uid)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, -1); err != nil {
		t.Fatal(err)
	}
	return dir
}
