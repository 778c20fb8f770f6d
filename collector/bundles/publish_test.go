package bundles

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

func testSet(t *testing.T) *rules.Set {
	t.Helper()
	set, diags := rules.Load(rules.Source{Name: "/srv/rules/a.hcl", Data: []byte(`rule "r" {
  severity = "low"
  when     = kind == "process.exec"
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return set
}

// Publishers at once each get a version of their own, above every earlier
// one whatever its site.
func TestPublishVersionsGrowAcrossSites(t *testing.T) {
	data := t.TempDir()
	set := testSet(t)
	sites := []string{"leeds", "york", bundle.AllSites, "leeds", "york", "hull"}
	got := make([]uint64, len(sites))
	var wg sync.WaitGroup
	for i, site := range sites {
		wg.Go(func() {
			b, err := Publish(data, site, set, time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = b.Version
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, v := range got {
		if v < 1 || v > uint64(len(sites)) || seen[v] {
			t.Fatalf("versions %v: want each of 1..%d once", got, len(sites))
		}
		seen[v] = true
	}
	pub, err := Published(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != 4 || pub[bundle.AllSites] == nil {
		t.Fatalf("published %v, want leeds, york, hull and all", pub)
	}
	if _, err := Publish(data, "no/slash", set, time.Now()); err == nil {
		t.Error("a site name with a slash was published")
	}
}

// A bundle file under another site's name is an error naming it, not
// served to the wrong site.
func TestPublishedRefusesMisplacedBundle(t *testing.T) {
	data := t.TempDir()
	if _, err := Publish(data, "leeds", testSet(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, Dir)
	if err := os.Rename(filepath.Join(dir, "site-leeds.bundle"), filepath.Join(dir, "site-york.bundle")); err != nil {
		t.Fatal(err)
	}
	if _, err := Published(data); err == nil || !strings.Contains(err.Error(), "site-york.bundle") {
		t.Fatalf("misplaced bundle: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site-york.bundle"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Published(data); err == nil || !strings.Contains(err.Error(), "site-york.bundle") {
		t.Fatalf("broken bundle file: %v", err)
	}
	if _, err := Publish(data, "hull", testSet(t), time.Now()); err == nil || !strings.Contains(err.Error(), "site-york.bundle") {
		t.Fatalf("publishing beside a broken bundle file: %v, want an error naming it", err)
	}
}
