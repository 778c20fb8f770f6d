package config

import (
	"strings"
	"testing"
	"time"
)

func TestFoldWindow(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want time.Duration
		err  string
	}{
		{``, DefaultFoldWindow, ""},
		{`db { fold_window = "250ms" }`, 250 * time.Millisecond, ""},
		{`db { fold_window = "0s" }`, 0, ""},
		{`db { fold_window = "2m" }`, 0, `db.fold_window = "2m"`},
		{`db { fold_window = "-1s" }`, 0, `db.fold_window = "-1s"`},
		{`db { fold_window = "soon" }`, 0, `db.fold_window = "soon"`},
	} {
		c, diags := Parse("agent.hcl", []byte(tc.src))
		if tc.err != "" {
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.err) {
				t.Errorf("%s: diagnostics %v, want an error naming %s", tc.src, diags, tc.err)
			}
			continue
		}
		if diags.HasErrors() {
			t.Errorf("%s: %v", tc.src, diags)
			continue
		}
		if got := Duration(c.DB.FoldWindow, DefaultFoldWindow); got != tc.want {
			t.Errorf("%s: fold window %v, want %v", tc.src, got, tc.want)
		}
	}
}

// db.socket_paths takes paths the kernel can match: shorter than a
// sun_path, with at most a trailing * for a port number.
func TestSocketPaths(t *testing.T) {
	for _, tc := range []struct {
		src string
		err string
	}{
		{``, ""},
		{`db { socket_paths = ["/srv/pg/.s.PGSQL.*", "/srv/my/mysqld.sock"] }`, ""},
		{`db { socket_paths = ["/srv/*/mysqld.sock"] }`, `"/srv/*/mysqld.sock"`},
		{`db { socket_paths = [""] }`, `db.socket_paths has ""`},
		{`db { socket_paths = ["/` + strings.Repeat("x", 120) + `"] }`, "shorter than 108 bytes"},
	} {
		c, diags := Parse("agent.hcl", []byte(tc.src))
		if tc.err != "" {
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.err) {
				t.Errorf("%s: diagnostics %v, want an error naming %s", tc.src, diags, tc.err)
			}
			continue
		}
		if diags.HasErrors() || c == nil {
			t.Errorf("%s: %v", tc.src, diags)
		}
	}
}

func TestViews(t *testing.T) {
	c, diags := Parse("agent.hcl", []byte(`db {
  views = { customer_directory = ["customers"], "crm.orders_v" = ["orders", "customers"] }
}`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := c.DB.Views["crm.orders_v"]; len(got) != 2 || got[1] != "customers" {
		t.Errorf("views %q", c.DB.Views)
	}
	for _, src := range []string{`db { views = { v = [] } }`, `db { views = { v = [""] } }`, `db { views = { "" = ["t"] } }`, `db { views = ["t"] }`} {
		if _, diags := Parse("agent.hcl", []byte(src)); !diags.HasErrors() || !strings.Contains(diags.Error(), "view") && !strings.Contains(diags.Error(), "agent.hcl:1") {
			t.Errorf("%s: diagnostics %v, want an error", src, diags)
		}
	}
}

// The rules mode follows the enrolment unless agent.hcl sets it: a pinned
// key means bundles, and bundle mode without a key is refused rather than
// run with nothing to verify against.
func TestRulesMode(t *testing.T) {
	for _, tc := range []struct {
		src, key, want, err string
	}{
		{``, "", RulesLocal, ""},
		{``, "ed25519:k", RulesBundle, ""},
		{`rules_mode = "local"`, "ed25519:k", RulesLocal, ""},
		{`rules_mode = "bundle"`, "ed25519:k", RulesBundle, ""},
		{`rules_mode = "bundle"`, "", "", "needs the rules_key"},
		{`rules_mode = "signed"`, "", "", `rules_mode = "signed"`},
	} {
		c, diags := Parse("agent.hcl", []byte(tc.src))
		if diags.HasErrors() {
			if tc.err == "" || !strings.Contains(diags.Error(), tc.err) {
				t.Errorf("%s: %v", tc.src, diags)
			}
			continue
		}
		got, err := c.ResolveRulesMode(tc.key)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s with key %q: %q, %v; want an error saying %s", tc.src, tc.key, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s with key %q: %q, %v; want %q", tc.src, tc.key, got, err, tc.want)
		}
	}
}
