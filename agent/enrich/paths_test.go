package enrich

import "testing"

func TestPaths(t *testing.T) {
	p := Paths{Proc: "/host/proc", Sys: "/host/sys"}
	if got := p.procPID(42, "loginuid"); got != "/host/proc/42/loginuid" {
		t.Errorf("procPID = %q", got)
	}
	if got := p.sys("dev", "block", "8:17"); got != "/host/sys/dev/block/8:17" {
		t.Errorf("sys = %q", got)
	}
	if HostPaths.proc("self") != "/proc/self" {
		t.Errorf("host proc = %q", HostPaths.proc("self"))
	}
}
