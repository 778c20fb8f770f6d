package rules

import (
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestCIDRMatch(t *testing.T) {
	checkWhen(t, []whenCase{
		{`cidrmatch(net.dst_ip, ["10.0.0.0/8", "fd00::/8"])`, event.Event{Net: &event.Net{DstIP: "10.2.3.4"}}, true},
		{`cidrmatch(net.dst_ip, ["10.0.0.0/8", "fd00::/8"])`, event.Event{Net: &event.Net{DstIP: "::ffff:10.2.3.4"}}, true},
		{`cidrmatch(net.dst_ip, ["10.0.0.0/8", "fd00::/8"])`, event.Event{Net: &event.Net{DstIP: "fd00::1"}}, true},
		{`cidrmatch(net.dst_ip, "10.0.0.0/8")`, event.Event{Net: &event.Net{DstIP: "11.0.0.1"}}, false},
		{`cidrmatch(net.dst_ip, "10.0.0.0/8")`, event.Event{Net: &event.Net{DstIP: "not-an-ip"}}, false},
		// A bare address is its own /32 or /128; host bits are masked off.
		{`cidrmatch(net.dst_ip, "192.0.2.7")`, event.Event{Net: &event.Net{DstIP: "192.0.2.7"}}, true},
		{`cidrmatch(net.dst_ip, "192.0.2.7")`, event.Event{Net: &event.Net{DstIP: "192.0.2.8"}}, false},
		{`cidrmatch(net.dst_ip, "192.0.2.7/24")`, event.Event{Net: &event.Net{DstIP: "192.0.2.200"}}, true},
		{`cidrmatch(net.dst_ip, "2001:db8::1")`, event.Event{Net: &event.Net{DstIP: "2001:db8::1"}}, true},
		{`cidrmatch(net.dst_ip, "10.0.0.0/8")`, event.Event{Net: &event.Net{DstIP: ""}}, false},
	})
}

func TestCIDRMatchArguments(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"not a prefix", whenRule(`cidrmatch(net.dst_ip, ["10.0.0.0/8", "10.0.0/8"])`),
			`t.hcl:3:36: error: Invalid CIDR; "10.0.0/8" is not a CIDR prefix like 10.0.0.0/8 or fd00::/8.`},
		{"prefixes read from the event", whenRule(`cidrmatch(net.dst_ip, net.src_ip)`),
			`t.hcl:3:36: error: Invalid function argument; Argument 2 of cidrmatch must be a constant CIDR or list of CIDRs (a literal, var or list), known when rules load.`},
		{"address is a number", whenRule(`cidrmatch(net.dst_port, "10.0.0.0/8")`),
			`t.hcl:3:24: error: Invalid function argument; Argument 1 of cidrmatch must be a string, but this is a number.`},
	})
}
