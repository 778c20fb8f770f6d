package auth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A new data directory gets one admin token, its text in a file only the
// owner reads; the tokens file holds hashes, never a token's text.
func TestFirstStartMakesAnAdminToken(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, AdminFile))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSpace(string(b))
	if tok, ok := st.Check(text); !ok || tok.Role != RoleAdmin {
		t.Fatalf("the admin file's token: %+v %v", tok, ok)
	}
	for _, f := range []string{AdminFile, TokensFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, fi.Mode(), err)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, TokensFile))
	if strings.Contains(string(raw), text) {
		t.Error("the tokens file holds a token's text")
	}
	// Opening again makes no second admin token.
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if ts, _ := st.List(); len(ts) != 1 {
		t.Errorf("%d tokens after a second start, want 1", len(ts))
	}
}

// Tokens are checked by hash; names are unique and well-formed; roles are
// known; revoking removes; another process's change is seen.
func TestAddCheckRevoke(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ana, err := st.Add("ana@soc", RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ana, "vgl_") || len(ana) != 68 {
		t.Errorf("token %q", ana)
	}
	for _, bad := range [][2]string{{"ana@soc", RoleAnalyst}, {"bad name", RoleAnalyst}, {"", RoleAnalyst}, {"x", "root"}} {
		if _, err := st.Add(bad[0], bad[1]); err == nil {
			t.Errorf("Add(%q, %q) accepted", bad[0], bad[1])
		}
	}
	other, err := Open(dir) // another process: vigil-collector token
	if err != nil {
		t.Fatal(err)
	}
	if tok, ok := other.Check(ana); !ok || tok.Name != "ana@soc" {
		t.Errorf("token not seen by a second store: %+v %v", tok, ok)
	}
	if err := other.Revoke("ana@soc"); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Check(ana); ok {
		t.Error("a token revoked by another process still works")
	}
	if err := st.Revoke("nobody"); err == nil {
		t.Error("revoking an unknown token succeeded")
	}
	if _, ok := st.Check(""); ok {
		t.Error("the empty token works")
	}
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		role, need string
		ok         bool
	}{{RoleAdmin, RoleAnalyst, true}, {RoleAnalyst, RoleAnalyst, true}, {RoleAnalyst, RoleMetrics, true}, {RoleMetrics, RoleAnalyst, false},
		{RoleAnalyst, RoleAdmin, false}, {"root", RoleMetrics, false}} {
		if got := Allows(tc.role, tc.need); got != tc.ok {
			t.Errorf("Allows(%s, %s) = %v", tc.role, tc.need, got)
		}
	}
}

// Tokens added at once by one process are all kept.
func TestConcurrentAddsKeepEveryToken(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Add(fmt.Sprintf("t%d", i), RoleAnalyst); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 21 { // the first admin and the twenty
		t.Errorf("%d tokens kept, want 21", len(list))
	}
}
