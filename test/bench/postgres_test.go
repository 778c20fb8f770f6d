package main

import (
	"strings"
	"testing"
)

func TestParseTxLog(t *testing.T) {
	log := "0 1 1520 0 1733450000 123456 210\n1 1 2480 0 1733450000 223456 15\n1 2 skipped 0 1733450001 0 9000\n\n"
	ms, err := parseTxLog(log)
	if err != nil || len(ms) != 2 || ms[0] != 1.52 || ms[1] != 2.48 {
		t.Fatalf("parseTxLog = %v, %v", ms, err)
	}
	if _, err := parseTxLog("0 1 12x 0 1 2\n"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad time must name its line: %v", err)
	}
	if _, err := parseTxLog("0 1 12\n"); err == nil || !strings.Contains(err.Error(), "3 fields") {
		t.Errorf("a short line must say so: %v", err)
	}
}
