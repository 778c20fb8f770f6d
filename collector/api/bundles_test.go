package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/rules"
)

// GET /api/bundles needs a token; it lists each site's published bundle
// with who published it from the console (nobody named for one published
// with the CLI), and names a bundle file it cannot read beside the others.
func TestBundles(t *testing.T) {
	s, _ := newServer(t)
	s.DataDir = t.TempDir()
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	for _, tok := range []string{"", "vgl_0000"} {
		if code := request(t, hs, "/api/bundles", tok); code != http.StatusUnauthorized {
			t.Errorf("/api/bundles with token %q: %d, want 401", tok, code)
		}
	}
	var empty Bundles
	getJSON(t, hs, "/api/bundles", &empty)
	if empty.Bundles == nil || len(empty.Bundles) != 0 || empty.Errors == nil {
		t.Errorf("no bundles: %+v, want empty lists", empty)
	}

	set, diags := rules.Load(rules.Source{Name: "a.hcl", Data: []byte("rule \"r\" {\n  severity = \"low\"\n  when = kind == \"process.exec\"\n}\n")})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, site := range []string{"leeds", "*"} {
		b, err := bundles.Publish(s.DataDir, site, set, t0)
		if err != nil {
			t.Fatal(err)
		}
		if site == "leeds" {
			if err := s.Store.Audit(context.Background(), store.AuditEntry{At: t0, Actor: "root", Action: AuditPublish,
				Target: BundleTarget("leeds"), Detail: "version 1 hash " + b.Hash}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(s.DataDir, bundles.Dir, "site-paris.bundle"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	analyst, err := s.Auth.Add("ana", "soc")
	if err != nil {
		t.Fatal(err)
	}
	if code := request(t, hs, "/api/bundles", analyst); code != http.StatusOK {
		t.Errorf("/api/bundles with an analyst's token: %d", code)
	}
	var got Bundles
	getJSON(t, hs, "/api/bundles", &got)
	if len(got.Bundles) != 2 || got.Bundles[0].Site != "*" || got.Bundles[0].Version != 2 || got.Bundles[0].PublishedBy != "" ||
		got.Bundles[1].Site != "leeds" || got.Bundles[1].Version != 1 || got.Bundles[1].PublishedBy != "root" ||
		got.Bundles[1].Hash != set.Hash() || got.Bundles[1].Files[0] != "a.hcl" || !got.Bundles[1].Published.Equal(t0) {
		t.Errorf("bundles: %+v", got.Bundles)
	}
	if len(got.Errors) != 1 || !strings.Contains(got.Errors[0], "site-paris.bundle") {
		t.Errorf("errors: %v, want the unreadable paris bundle named", got.Errors)
	}
}
