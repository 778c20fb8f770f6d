package main

import "testing"

func TestParseProcStat(t *testing.T) {
	stat := "cpu  100 5 50 1000 20 3 2 40 0 0\ncpu0 50 2 25 500 10 1 1 20 0 0\nintr 1\n"
	s, err := parseProcStat(stat)
	if err != nil || s.busy != 160 || s.idle != 1020 {
		t.Fatalf("parseProcStat = %+v, %v; want busy 160 (no steal), idle 1020", s, err)
	}
	if _, err := parseProcStat("cpu0 1 2 3\n"); err == nil {
		t.Error("no aggregate line must be an error")
	}
	if _, err := parseProcStat("cpu 1 2 x 4 5 6 7 8\n"); err == nil {
		t.Error("a bad field must be an error")
	}
	a, b := systemSample{busy: 100}, systemSample{busy: 350}
	if got := busySeconds(a, b); got != 2.5 {
		t.Errorf("busySeconds = %v", got)
	}
}
