package agent

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ShutdownCheck finds whether the host is shutting down or rebooting, so
// the agent's last heartbeat can tell a host shutdown from an agent stopped
// on a host that keeps running. It asks systemd first and reads the SysV
// runlevel in utmp when systemd does not run the host.
type ShutdownCheck struct {
	// Systemctl is the systemctl to ask; empty looks it up in PATH.
	Systemctl string
	// Utmp lists the utmp files to read the runlevel from, first found
	// wins; nil reads /run/utmp, then /var/run/utmp.
	Utmp []string
	// Timeout bounds the question to systemd. Zero: 2 s.
	Timeout time.Duration
}

// ShuttingDown reports whether the host is shutting down, and what said so
// (or why nothing could).
func (c ShutdownCheck) ShuttingDown() (bool, string) {
	state, err := c.systemdState()
	switch {
	case err == nil && state == "stopping":
		return true, "systemd: stopping"
	case err == nil && state != "offline" && state != "unknown" && state != "":
		// systemd runs the host and is not stopping it.
		return false, "systemd: " + state
	}
	level, file, uerr := c.runlevel()
	if uerr != nil {
		return false, fmt.Sprintf("no signal: asking systemd: %v; reading utmp: %v", errOrState(err, state), uerr)
	}
	return level == '0' || level == '6', fmt.Sprintf("runlevel %c in %s", level, file)
}

func errOrState(err error, state string) any {
	if err != nil {
		return err
	}
	return "state " + state
}

// systemdState is what `systemctl is-system-running` prints: "stopping"
// once a shutdown or reboot is under way (shutdown.target queued), and
// "offline" when systemd does not run the host. Its exit status is not
// success for most states, so only its output counts.
func (c ShutdownCheck) systemdState() (string, error) {
	path := c.Systemctl
	if path == "" {
		p, err := exec.LookPath("systemctl")
		if err != nil {
			return "", fmt.Errorf("finding systemctl: %w", err)
		}
		path = p
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "is-system-running").Output()
	state := strings.TrimSpace(string(out))
	if state == "" && err != nil {
		return "", fmt.Errorf("running %s is-system-running: %w", path, err)
	}
	return state, nil
}

// runlevel reads the last runlevel record of the first utmp file found.
func (c ShutdownCheck) runlevel() (byte, string, error) {
	files := c.Utmp
	if files == nil {
		files = []string{"/run/utmp", "/var/run/utmp"}
	}
	var errs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		level, err := utmpRunlevel(b)
		if err != nil {
			return 0, f, fmt.Errorf("reading %s: %w", f, err)
		}
		return level, f, nil
	}
	if len(errs) == 0 {
		return 0, "", errors.New("no utmp file to read")
	}
	return 0, "", errors.New(strings.Join(errs, "; "))
}

// The glibc utmp record on Linux (x86_64, arm64): 384 bytes, ut_type an
// int16 at 0 and ut_pid an int32 at 4, which for a runlevel record holds
// the runlevel's character in its low byte.
const (
	utmpSize   = 384
	utmpRunLvl = 1
)

// utmpRunlevel returns the runlevel of the last runlevel record in b.
func utmpRunlevel(b []byte) (byte, error) {
	if len(b)%utmpSize != 0 {
		return 0, fmt.Errorf("%d bytes is not a whole number of %d-byte utmp records", len(b), utmpSize)
	}
	var level byte
	for off := 0; off < len(b); off += utmpSize {
		rec := b[off : off+utmpSize]
		if int16(binary.NativeEndian.Uint16(rec[0:])) == utmpRunLvl {
			level = byte(binary.NativeEndian.Uint32(rec[4:]))
		}
	}
	if level == 0 {
		return 0, errors.New("no runlevel record")
	}
	return level, nil
}
