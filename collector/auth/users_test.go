package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A new data directory gets one admin, whose random password is in a file
// only the owner reads and works once read; the users file holds argon2id
// hashes, never a password.
func TestFirstStartMakesAnAdmin(t *testing.T) {
	dir := t.TempDir()
	u, err := OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FirstAdminFile))
	if err != nil {
		t.Fatal(err)
	}
	var name, pw string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "user: "); ok {
			name = v
		}
		if v, ok := strings.CutPrefix(line, "password: "); ok {
			pw = v
		}
	}
	if usr, ok := u.Check(name, pw); !ok || usr.Role != RoleAdmin || len(pw) < 20 {
		t.Fatalf("the first admin %q/%q: %+v %v", name, pw, usr, ok)
	}
	for _, f := range []string{FirstAdminFile, UsersFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, UsersFile))
	if strings.Contains(string(raw), pw) || !strings.Contains(string(raw), "$argon2id$") {
		t.Errorf("the users file: %s", raw)
	}
	if _, err := OpenUsers(dir); err != nil {
		t.Fatal(err)
	}
	if list, _ := u.List(); len(list) != 1 {
		t.Errorf("%d users after a second start, want 1", len(list))
	}
}

// Users are checked by password; names are unique and well-formed; only
// people's roles are allowed; short passwords are refused; a removal by
// another process counts at once.
func TestUsers(t *testing.T) {
	dir := t.TempDir()
	u, err := OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := u.Add("ana", RoleAnalyst, "")
	if err != nil {
		t.Fatal(err)
	}
	if usr, ok := u.Check("ana", pw); !ok || usr.Role != RoleAnalyst {
		t.Errorf("ana with her password: %+v %v", usr, ok)
	}
	for _, c := range [][2]string{{"ana", pw + "x"}, {"ana", ""}, {"Ana", pw}, {"nobody", pw}, {"", ""}} {
		if _, ok := u.Check(c[0], c[1]); ok {
			t.Errorf("Check(%q, %q) let in", c[0], c[1])
		}
	}
	for _, bad := range [][3]string{{"ana", RoleAnalyst, ""}, {"bad name", RoleAnalyst, ""}, {"m", RoleMetrics, ""},
		{"x", "root", ""}, {"short", RoleAnalyst, "elevenchars"}} {
		if _, err := u.Add(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("Add(%q, %q, %q) accepted", bad[0], bad[1], bad[2])
		}
	}
	other, err := OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Remove("ana"); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Check("ana", pw); ok {
		t.Error("a user removed by another process still signs in")
	}
	if err := u.Remove("ana"); err == nil {
		t.Error("removing an unknown user succeeded")
	}
}

// Users are read once and again only when the file changes, whoever
// changes it: a user another process adds, or disables, counts at this
// collector's next request.
func TestUsersSeeOtherProcessesChanges(t *testing.T) {
	dir := t.TempDir()
	console, err := OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := OpenUsers(dir) // vigil-collector user, another process
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := console.Lookup("ana"); ok {
		t.Fatal("ana known before she was added")
	}
	if _, err := cli.Add("ana", RoleAnalyst, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	if u, ok := console.Lookup("ana"); !ok || u.Disabled {
		t.Fatalf("ana after another process added her: %+v, %v", u, ok)
	}
	if err := cli.SetDisabled("ana", true); err != nil {
		t.Fatal(err)
	}
	if u, ok := console.Lookup("ana"); !ok || !u.Disabled {
		t.Errorf("ana after another process disabled her: %+v, %v", u, ok)
	}
}
