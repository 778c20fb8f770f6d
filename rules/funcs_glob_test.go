package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

func TestGlobFunction(t *testing.T) {
	checkWhen(t, []whenCase{
		{`glob(file.path, "/home/*/Dropbox/**")`, event.Event{File: &event.File{Path: "/home/a/Dropbox/x/y.csv"}}, true},
		{`glob(file.path, "/home/*/Dropbox/**")`, event.Event{File: &event.File{Path: "/home/a/b/Dropbox/y.csv"}}, false},
		{`glob(file.path, "/tmp/?.csv")`, event.Event{File: &event.File{Path: "/tmp/a.csv"}}, true},
		{`glob(file.path, "/tmp/?.csv")`, event.Event{File: &event.File{Path: "/tmp/ab.csv"}}, false},
		{`glob(file.path, "*.csv")`, event.Event{File: &event.File{Path: "/tmp/a.csv"}}, false},
		// A list of values matches when any element does; a pattern may be
		// read from the event.
		{`glob(db.columns, ["*email*", "*phone*"])`, event.Event{DB: &event.DB{Columns: []string{"id", "home_phone"}}}, true},
		{`glob(db.columns, "*email*")`, event.Event{DB: &event.DB{Columns: []string{"id"}}}, false},
		{`glob(db.statement, db.user)`, event.Event{DB: &event.DB{Statement: "svc_x", User: "svc_*"}}, true},
		{`glob(db.statement, [db.user])`, event.Event{DB: &event.DB{Statement: "svc_x", User: "svc_*"}}, true},
		// A pattern read from the event that breaks the bounds never matches.
		{`glob(db.statement, db.user)`, event.Event{DB: &event.DB{Statement: "a", User: strings.Repeat("*", 9) + "a"}}, false},
	})
}

func TestGlobArguments(t *testing.T) {
	long := strings.Repeat("a", maxGlobLen+1)
	checkRejects(t, []rejectCase{
		{"pattern too long", whenRule(`glob(file.path, "` + long + `")`),
			`t.hcl:3:30: error: Invalid glob pattern; The pattern is longer than 256 characters.`},
		{"too many wildcards in a list", whenRule(`glob(db.columns, ["*a*", "*b*c*d*e*f*g*h*i*"])`),
			`t.hcl:3:31: error: Invalid glob pattern; The pattern "*b*c*d*e*f*g*h*i*" has more than 8 wildcards.`},
		{"glob of a number", whenRule(`glob(db.rows, "*")`),
			`t.hcl:3:19: error: Invalid function argument; Argument 1 of glob must be a string or a list of strings, but this is a number.`},
	})
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"**/Dropbox/**", "/home/a/Dropbox/x.csv", true},
		{"**/Dropbox/**", "/home/a/Dropboxes/x.csv", false},
		{"/home/*/x", "/home/a/x", true},
		{"/home/*/x", "/home/a/b/x", false},
		{"/home/**/x", "/home/a/b/x", true},
		{"/home/**x", "/home/x", true},
		{"*.corp.example.com", "files.corp.example.com", true},
		{"*.corp.example.com", "corp.example.com", false},
		{"svc_*", "svc_", true},
		{"a?c", "abc", true},
		{"a?c", "a/c", false},
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"**", "", true},
		{"*", "a/b", false},
	}
	for _, c := range cases {
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v, want %v", c.s, c.p, got, c.want)
		}
	}
	// Backtracking matchers take exponential time on this; ours is linear.
	long := strings.Repeat("a", 4000)
	start := time.Now()
	if globMatch("**a**a**a**a**a**a**a**b", long) {
		t.Fatal("matched")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("pathological glob took %v", d)
	}
}

// TestCompiledGlobsAgreeWithMatcher checks the fast shapes against the
// general matcher.
func TestCompiledGlobsAgreeWithMatcher(t *testing.T) {
	pats := []string{"svc_*", "svc_**", "*_svc", "**_svc", "postgres", "*", "**", "a*b", "/home/*/x", "**/Dropbox/**", "?x"}
	strs := []string{"", "svc_", "svc_a", "svc_a/b", "a_svc", "a/b_svc", "postgres", "postgres2", "ab", "a/b", "/home/u/x", "/h/Dropbox/f", "xx", "/x"}
	gs := compileGlobs(pats)
	for i, p := range pats {
		for _, s := range strs {
			if got, want := gs[i].match(s), globMatch(p, s); got != want {
				t.Errorf("compiled %q on %q = %v, matcher says %v", p, s, got, want)
			}
		}
	}
}

func TestCheckGlob(t *testing.T) {
	for p, bad := range map[string]bool{
		strings.Repeat("a", maxGlobLen):      false,
		strings.Repeat("a", maxGlobLen+1):    true,
		strings.Repeat("*a", maxGlobStars):   false,
		strings.Repeat("*a", maxGlobStars+1): true,
		"**/x/**":                            false,
	} {
		if got := checkGlob(p) != ""; got != bad {
			t.Errorf("checkGlob(%.20q...) rejects: %v, want %v", p, got, bad)
		}
	}
	if globMatch(strings.Repeat("a", maxGlobLen+1), strings.Repeat("a", maxGlobLen+1)) {
		t.Error("globMatch matched a pattern over the length bound")
	}
}
