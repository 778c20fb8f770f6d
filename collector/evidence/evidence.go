package evidence

import (
	"fmt"
	"strings"

	"github.com/vigilhq/vigil/event"
)

// Describe says in one line what an evidence event shows.
func Describe(e *event.Event) string {
	switch {
	case e.DB != nil:
		d := e.DB
		s := fmt.Sprintf("%s %s: %s — %d rows, %s in %.0f ms", d.Engine, d.Command, d.Statement, d.Rows, Bytes(d.Bytes), d.DurationMS)
		if len(d.Tables) > 0 {
			s += "; tables " + strings.Join(d.Tables, ", ")
		}
		if d.Executions > 1 {
			s += fmt.Sprintf(" (%d runs)", d.Executions)
		}
		if e.Kind == event.KindDBSession && d.Encrypted {
			s = fmt.Sprintf("%s session to %s as %s: encrypted, statements not readable", d.Engine, d.Server, d.User)
		}
		return s
	case e.File != nil:
		f := e.File
		where := "local disk"
		switch {
		case f.Removable:
			where = "removable media"
		case f.Network:
			where = "network file system"
		}
		if e.Kind == event.KindFileRename {
			return fmt.Sprintf("renamed %s to %s (%s, %s)", f.OldPath, f.Path, f.FSType, where)
		}
		return fmt.Sprintf("wrote %s to %s (%s on %s, %s)", Bytes(f.Bytes), f.Path, f.FSType, f.Mount, where)
	case e.Net != nil:
		n := e.Net
		dst := n.DstIP
		if n.DstName != "" {
			dst = n.DstName + " (" + n.DstIP + ")"
		}
		return fmt.Sprintf("%s %s to %s:%d: %s sent, %s received", n.Direction, n.Proto, dst, n.DstPort,
			Bytes(n.BytesSent), Bytes(n.BytesReceived))
	case e.Exit != nil:
		return fmt.Sprintf("process exited with code %d", e.Exit.Code)
	case e.Kind == event.KindProcessExec && e.Process != nil:
		return "ran " + e.Process.Cmdline
	}
	return string(e.Kind)
}

// Lineage names the process, who logged in, and the session it ran in.
func Lineage(e *event.Event) string {
	// A statement read at the database server and tied to its client end
	// names the client's process and person, not the server's backend.
	p := e.AsClient().Process
	if p == nil {
		return ""
	}
	exe := p.Exe
	if exe == "" {
		exe = p.Comm
	}
	s := fmt.Sprintf("%s (pid %d, parent %d) as %s", exe, p.PID, p.PPID, p.User)
	if p.LoginUser != "" {
		s += fmt.Sprintf(", logged in as %s, session %d", p.LoginUser, p.Session)
	}
	if p.TTY != "" {
		s += " on " + p.TTY
	}
	return s
}

// Bytes writes a size as a person reads it, in binary units.
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
