package main

import (
	"testing"
	"time"
)

func TestParseCPUStatUsage(t *testing.T) {
	d, err := parseCPUStatUsage("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
	if err != nil || d != 1500*time.Millisecond {
		t.Fatalf("usage = %v, %v", d, err)
	}
	if _, err := parseCPUStatUsage("user_usec 1\n"); err == nil {
		t.Error("no usage_usec must be an error")
	}
}
