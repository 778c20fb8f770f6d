package bus

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Violation is an operation the embedded NATS server refused a client for
// its permissions: a publish (JetStream API calls included: they are
// publishes to $JS.API.>), a reply subject, or a subscription.
type Violation struct {
	// Key is the NKey the connection authenticated with; AgentID and Site
	// name the enrolled agent it belongs to (empty: none).
	Key, AgentID, Site string
	// Op is "publish", "jetstream" (a publish to the JetStream API),
	// "reply" or "subscribe".
	Op      string
	Subject string
}

// violationLogger is the embedded server's logger: the server reports a
// permission violation to its client and its log only, so the log is
// where the collector learns of one. Other lines go to the collector's
// log at debug level.
type violationLogger struct {
	log    *slog.Logger
	report func(Violation)
}

func (l violationLogger) Noticef(format string, v ...any) {}
func (l violationLogger) Tracef(format string, v ...any)  {}
func (l violationLogger) Debugf(format string, v ...any)  {}

func (l violationLogger) Warnf(format string, v ...any) {
	l.log.Debug("embedded NATS: " + fmt.Sprintf(format, v...))
}

func (l violationLogger) Fatalf(format string, v ...any) {
	l.log.Error("embedded NATS: " + fmt.Sprintf(format, v...))
}

func (l violationLogger) Errorf(format string, v ...any) {
	line := fmt.Sprintf(format, v...)
	if vi, ok := parseViolation(line); ok {
		l.report(vi)
		return
	}
	l.log.Debug("embedded NATS: " + line)
}

// parseViolation reads a client's permission violation from a server log
// line, as nats-server v2 writes it:
//
//	<addr> - cid:<n> - "<client name>" - "<account>/nkey:<key>" - Publish Violation - Subject "<subject>"
//
// The client's name and the subject are the client's own words, quoted
// with Go's rules, so they are read as quoted strings, never searched.
func parseViolation(line string) (Violation, bool) {
	_, rest, ok := strings.Cut(line, " - cid:")
	if !ok {
		return Violation{}, false
	}
	if _, rest, ok = strings.Cut(rest, " - "); !ok {
		return Violation{}, false
	}
	// The quoted parts: the client's name and version, then its account
	// and user; the last one is the account and user.
	var auth string
	for strings.HasPrefix(rest, `"`) {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return Violation{}, false
		}
		auth, _ = strconv.Unquote(q)
		if rest, ok = strings.CutPrefix(rest[len(q):], " - "); !ok {
			return Violation{}, false
		}
	}
	var v Violation
	for _, m := range []struct{ prefix, op string }{
		{"Publish Violation - Subject ", "publish"},
		{"Publish Violation - Reply ", "reply"},
		{"Subscription Violation - Subject ", "subscribe"},
	} {
		if after, found := strings.CutPrefix(rest, m.prefix); found {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				return Violation{}, false
			}
			v.Op = m.op
			v.Subject, _ = strconv.Unquote(q)
			break
		}
	}
	if v.Op == "" {
		return Violation{}, false
	}
	if v.Op == "publish" && strings.HasPrefix(v.Subject, "$JS.") {
		v.Op = "jetstream"
	}
	if i := strings.LastIndex(auth, "/nkey:"); i >= 0 {
		v.Key = auth[i+len("/nkey:"):]
	}
	return v, true
}

// reportViolation names the enrolled agent whose key v is and hands it on.
func (b *Bus) reportViolation(v Violation) {
	b.mu.Lock()
	for _, a := range b.agents {
		if a.PublicKey == v.Key && v.Key != "" {
			v.AgentID, v.Site = a.AgentID, a.Site
			break
		}
	}
	b.mu.Unlock()
	b.log.Warn("NATS refused a client for its permissions", "agent_id", v.AgentID, "site", v.Site, "key", v.Key, "op", v.Op, "subject", v.Subject)
	if b.cfg.Violations != nil {
		b.cfg.Violations(v)
	}
}
