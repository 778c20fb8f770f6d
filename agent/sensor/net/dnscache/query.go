package dnscache

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Question is what a DNS query asks for.
type Question struct {
	// Name is lower case, without the trailing dot.
	Name string
	// Type is the record type's name ("A", "TXT"), or "TYPE<n>" for a
	// type without one.
	Type string
}

// ErrNotQuery is returned for messages that are responses.
var ErrNotQuery = errors.New("dns message is a response, not a query")

// ParseQuery returns the first question of a DNS query.
func ParseQuery(msg []byte) (Question, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return Question{}, fmt.Errorf("parsing dns header: %w", err)
	}
	if h.Response {
		return Question{}, ErrNotQuery
	}
	q, err := p.Question()
	if err != nil {
		return Question{}, fmt.Errorf("parsing dns question: %w", err)
	}
	return Question{Name: name(q.Name), Type: typeName(q.Type)}, nil
}

// typeName names t as DNS tools print it: dnsmessage's names less "Type".
func typeName(t dnsmessage.Type) string {
	if s, ok := strings.CutPrefix(t.String(), "Type"); ok && s != "" {
		return s
	}
	return fmt.Sprintf("TYPE%d", uint16(t))
}
