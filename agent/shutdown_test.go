package agent

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
)

// utmpRecord is one glibc utmp record of type typ whose ut_pid is pid.
func utmpRecord(typ int16, pid int32) []byte {
	rec := make([]byte, utmpSize)
	binary.NativeEndian.PutUint16(rec[0:], uint16(typ))
	binary.NativeEndian.PutUint32(rec[4:], uint32(pid))
	return rec
}

// fakeSystemctl writes a systemctl that prints state and exits with code,
// as the real one does for states other than running.
func fakeSystemctl(t *testing.T, state string, code int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "systemctl")
	script := "#!/bin/sh\n[ \"$1\" = is-system-running ] || exit 64\necho " + state + "\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestShutdownCheck(t *testing.T) {
	dir := t.TempDir()
	utmp := func(name string, level byte) string {
		// A boot record and a login before the runlevel record, and a
		// login after it: the runlevel is the last runlevel record's.
		b := append(utmpRecord(2, 0), utmpRecord(7, 4242)...)
		b = append(b, utmpRecord(utmpRunLvl, int32('N')<<8|int32(level))...)
		b = append(b, utmpRecord(7, 4343)...)
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	running, halting, rebooting := utmp("u5", '5'), utmp("u0", '0'), utmp("u6", '6')
	torn := filepath.Join(dir, "torn")
	os.WriteFile(torn, make([]byte, utmpSize+7), 0o644)
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		name      string
		systemctl string
		utmp      []string
		want      bool
		why       string
	}{
		{"systemd stopping", fakeSystemctl(t, "stopping", 1), []string{running}, true, "systemd: stopping"},
		{"systemd running", fakeSystemctl(t, "running", 0), []string{halting}, false, "systemd: running"},
		{"systemd degraded is not stopping", fakeSystemctl(t, "degraded", 1), nil, false, "systemd: degraded"},
		{"no systemd: runlevel 0", fakeSystemctl(t, "offline", 1), []string{missing, halting}, true, "runlevel 0"},
		{"no systemd: runlevel 6", filepath.Join(dir, "no-systemctl"), []string{rebooting}, true, "runlevel 6"},
		{"no systemd: runlevel 5", fakeSystemctl(t, "offline", 1), []string{running}, false, "runlevel 5"},
		{"no signal at all", fakeSystemctl(t, "offline", 1), []string{missing}, false, "no signal"},
		{"a torn utmp says so", fakeSystemctl(t, "offline", 1), []string{torn}, false, "not a whole number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			down, why := ShutdownCheck{Systemctl: c.systemctl, Utmp: c.utmp}.ShuttingDown()
			if down != c.want || !strings.Contains(why, c.why) {
				t.Fatalf("shutting down %v (%s), want %v (%s)", down, why, c.want, c.why)
			}
		})
	}
}

// A systemctl that hangs does not hold up the agent's stop.
func TestShutdownCheckTimesOut(t *testing.T) {
	p := filepath.Join(t.TempDir(), "systemctl")
	os.WriteFile(p, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755)
	start := time.Now()
	down, why := ShutdownCheck{Systemctl: p, Utmp: []string{}, Timeout: 200 * time.Millisecond}.ShuttingDown()
	if down || time.Since(start) > 5*time.Second || !strings.Contains(why, "no signal") {
		t.Fatalf("shutting down %v (%s) after %v", down, why, time.Since(start))
	}
}

// The last heartbeat says whether the host is shutting down; one sent
// before the sensors run says so, and no other does.
func TestHeartbeatStopAndStart(t *testing.T) {
	for _, down := range []bool{false, true} {
		a := New(Options{Sink: &collectSink{}, HostShutdown: func() (bool, string) { return down, "test" }})
		if hb := a.Heartbeat(0); hb.HostShutdown != down || hb.Starting {
			t.Errorf("last heartbeat with the host shutting down %v: %+v", down, hb)
		}
		hb := a.Heartbeat(time.Second)
		if !hb.Starting || hb.HostShutdown || hb.Detached != nil {
			t.Errorf("heartbeat before Run: %+v, want starting", hb)
		}
		if _, err := event.Encode(&event.Event{ID: "x", Kind: event.KindHeartbeat, Heartbeat: hb}); err != nil {
			t.Fatal(err)
		}
	}
}
