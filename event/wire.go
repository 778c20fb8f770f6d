package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxWireSize bounds one encoded event on the wire. Anything larger is
// refused by Decode: no legitimate event comes near it (statements are
// truncated by the agent long before), so a bigger one is a bug or an attack.
const MaxWireSize = 256 << 10

// Subject layout: vigil.<site>.<agent_id>.<class>. NATS permissions pin each
// agent to its own vigil.<site>.<agent_id>.> so the subject proves who sent a
// message; the collector then checks the payload says the same.
const (
	SubjectRoot = "vigil"

	ClassEvents    = "events"
	ClassAlerts    = "alerts"
	ClassHeartbeat = "heartbeat"
)

// ErrMalformed wraps every reason Decode refuses a message.
var ErrMalformed = errors.New("malformed event")

// ClassOf is the subject class an event of kind k is published under.
func ClassOf(k Kind) string {
	switch k {
	case KindAlert:
		return ClassAlerts
	case KindHeartbeat:
		return ClassHeartbeat
	}
	return ClassEvents
}

// ValidToken says whether s can be one token of a NATS subject: ASCII
// letters, digits, '-' and '_' only, 1 to 64 characters. Sites and agent ids
// must be tokens so no one can name a site "a.*" and widen a permission.
func ValidToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Subject is the subject an agent publishes events of class to.
func Subject(site, agentID, class string) string {
	return SubjectRoot + "." + site + "." + agentID + "." + class
}

// AgentSubjects is the wildcard covering every subject of one agent.
func AgentSubjects(site, agentID string) string {
	return SubjectRoot + "." + site + "." + agentID + ".>"
}

// CommittedRoot is the subject root of the collector's watermarks, outside
// the events stream's vigil.>: they are core NATS messages, not stored.
const CommittedRoot = "vigil-committed"

// CommittedSubject is where the collector tells an agent what it has
// stored: a JSON object of boot id to the highest seq of that boot stored
// with every seq before it (or counted lost). Each agent may subscribe to
// its own only.
func CommittedSubject(agentID string) string {
	return CommittedRoot + "." + agentID
}

// ParseSubject splits a vigil subject into site, agent id and class.
func ParseSubject(subj string) (site, agentID, class string, err error) {
	parts := strings.Split(subj, ".")
	if len(parts) != 4 || parts[0] != SubjectRoot {
		return "", "", "", fmt.Errorf("%w: subject %q is not vigil.<site>.<agent_id>.<class>", ErrMalformed, subj)
	}
	switch parts[3] {
	case ClassEvents, ClassAlerts, ClassHeartbeat:
	default:
		return "", "", "", fmt.Errorf("%w: subject %q has unknown class %q", ErrMalformed, subj, parts[3])
	}
	return parts[1], parts[2], parts[3], nil
}

// encodeBufs are Encode's scratch buffers: an event appended to an empty
// slice grows it many times, in a scratch buffer it is written once and
// copied once, into a slice of its size (docs/benchmarks.md).
var encodeBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxKeptBuf is the largest scratch buffer kept for reuse: a rare huge
// event does not pin its buffer.
const maxKeptBuf = 64 << 10

// Encode renders ev for the wire, in a new slice of its own.
func Encode(ev *Event) ([]byte, error) {
	bp := encodeBufs.Get().(*[]byte)
	b, err := AppendJSON((*bp)[:0], ev)
	if cap(b) <= maxKeptBuf {
		*bp = b[:0]
		defer encodeBufs.Put(bp)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	if len(b) > MaxWireSize {
		return nil, fmt.Errorf("encoding event %s: %d bytes is over the %d byte limit", ev.ID, len(b), MaxWireSize)
	}
	return bytes.Clone(b), nil
}

// Decode parses one event from the wire and checks it is well formed: size,
// JSON, identity fields, a known kind whose payload is present. A peer can
// send anything, so every error wraps ErrMalformed and nothing panics.
func Decode(data []byte) (*Event, error) {
	if len(data) > MaxWireSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(data), MaxWireSize)
	}
	ev := new(Event)
	// decodeFast reads what agents send; what it is not sure of goes to
	// encoding/json, which then also words the error. It succeeds only on
	// valid UTF-8.
	if !decodeFast(data, ev) {
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("%w: not UTF-8", ErrMalformed)
		}
		// Unmarshal refuses trailing data after the object itself.
		*ev = Event{}
		if err := json.Unmarshal(data, ev); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

// Validate checks the fields every receiver relies on.
func (ev *Event) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	switch {
	case ev.ID == "" || len(ev.ID) > 128:
		return bad("id must be 1 to 128 characters")
	case !ValidToken(ev.Site):
		return bad("site %q is not a subject token", ev.Site)
	case !ValidToken(ev.AgentID):
		return bad("agent_id %q is not a subject token", ev.AgentID)
	case ev.BootID == "" || len(ev.BootID) > 64:
		return bad("boot_id must be 1 to 64 characters")
	case len(ev.Host) > 255:
		return bad("host is longer than 255 characters")
	case ev.Time.IsZero():
		return bad("time is missing")
	}
	// Heartbeats and the publisher's own records sit outside the agent's
	// numbered stream (seq 0); everything else is numbered.
	if ev.Kind != KindHeartbeat && ev.Seq == 0 && ev.Kind != KindAgentLoss {
		return bad("%s event without seq", ev.Kind)
	}
	var ok bool
	switch ev.Kind {
	case KindProcessExec:
		ok = ev.Process != nil
	case KindProcessExit:
		ok = ev.Process != nil && ev.Exit != nil
	case KindFileWrite, KindFileRename:
		ok = ev.File != nil
	case KindNetTransfer:
		ok = ev.Net != nil
	case KindDNSQuery:
		ok = ev.DNS != nil
	case KindDBQuery, KindDBSession:
		ok = ev.DB != nil
	case KindAgentLoss:
		ok = ev.Loss != nil
		if l := ev.Loss; ok && (l.FromSeq != 0 || l.ToSeq != 0 || l.BootID != "") {
			if l.FromSeq == 0 || l.ToSeq < l.FromSeq || l.BootID == "" || len(l.BootID) > 64 {
				return bad("loss range %q %d-%d: want a boot id and 1 <= from_seq <= to_seq", l.BootID, l.FromSeq, l.ToSeq)
			}
		}
	case KindHeartbeat:
		ok = ev.Heartbeat != nil
	case KindAlert:
		ok = ev.Alert != nil && ev.Alert.Rule != "" && SeverityRank(ev.Alert.Severity) >= 0
		if ok && len(ev.Alert.Evidence) > 1000 {
			return bad("alert has %d evidence ids (limit 1000)", len(ev.Alert.Evidence))
		}
	default:
		return bad("unknown kind %q", ev.Kind)
	}
	if !ok {
		return bad("%s event without its payload", ev.Kind)
	}
	return nil
}
