package main

import (
	"regexp"
	"strings"
	"testing"
)

// The closers' words carry no number of their own: every figure in a
// closer comes from the run through a template action (a figure's own
// number, "figure 3", is a name).
func TestClosersTextHasNoNumbers(t *testing.T) {
	b, err := templateFiles.ReadFile("closers.md.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?s)\{\{.*?\}\}`).ReplaceAllString(string(b), "")
	text = regexp.MustCompile(`figures? [0-9]`).ReplaceAllString(text, "figure")
	for i, line := range strings.Split(text, "\n") {
		if m := regexp.MustCompile(`[0-9][0-9.,]*`).FindString(line); m != "" {
			t.Errorf("closers.md.tmpl line %d says %q outside a template action: take it from the run", i+1, m)
		}
	}
}

// A missed target's closer names what this run's profile and counters
// show, and changes with them.
func TestCloserReadsTheRun(t *testing.T) {
	render := func(r *report) string {
		md, err := r.markdown(r.rows())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(md, "\n") {
			if strings.HasPrefix(l, "| 1 | pgbench max TPS ratio | vigil-agent |") {
				return l
			}
		}
		t.Fatal("no pgbench max TPS row for the agent")
		return ""
	}
	r := goldenReport()
	line := render(r)
	for _, want := range []string{"`github.com/vigilhq/vigil/agent/db.(*folder).add` 15.0%", "`prog_00` 9000 ns × 100000 runs", "6.8% of a core"} {
		if !strings.Contains(line, want) {
			t.Errorf("closer lacks %q: %s", want, line)
		}
	}
	r.profiles[0].top = "Type: cpu\n     0.50s 40.00% 40.00%      0.50s 40.00%  github.com/vigilhq/vigil/agent/publish.(*sender).send\n"
	if line2 := render(r); !strings.Contains(line2, "publish.(*sender).send` 40.0%") || strings.Contains(line2, "folder") {
		t.Errorf("closer did not follow the profile: %s", line2)
	}
}

func TestTopEntries(t *testing.T) {
	top := `Type: cpu
      flat  flat%   sum%        cum   cum%
     0.10s  5.00%  5.00%      1.20s 60.00%  runtime.main
     0.30s 15.00% 20.00%      0.40s 20.00%  a.(*b).c
         0     0% 20.00%      0.40s 20.00%  runtime.goexit
     0.20s 10.00% 30.00%      0.20s 10.00%  d.e func1
`
	got := topEntries(top, 2)
	if len(got) != 2 || got[0].Name != "a.(*b).c" || got[0].FlatPct != 15 || got[1].Name != "d.e func1" || got[1].CumPct != 10 {
		t.Errorf("topEntries = %+v", got)
	}
}
