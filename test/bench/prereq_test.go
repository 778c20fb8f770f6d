package main

import (
	"reflect"
	"testing"
)

// What is missing is named with the package to install, each package once.
func TestMissingNamesPackages(t *testing.T) {
	no := func() bool { return false }
	yes := func() bool { return true }
	lines, pkgs := missing([]requirement{
		{"root", "", no},
		{"auditd and auditctl", "auditd", no},
		{"/etc/audit/auditd.conf", "auditd", no},
		{"curl", "curl", yes},
		{"PostgreSQL", "postgresql postgresql-contrib", no},
	})
	want := []string{"root", "auditd and auditctl: apt-get install auditd", "/etc/audit/auditd.conf: apt-get install auditd",
		"PostgreSQL: apt-get install postgresql postgresql-contrib"}
	if !reflect.DeepEqual(lines, want) || !reflect.DeepEqual(pkgs, []string{"auditd", "postgresql", "postgresql-contrib"}) {
		t.Errorf("lines %q pkgs %q", lines, pkgs)
	}
}
