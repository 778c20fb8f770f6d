package convert

import (
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

const (
	// dnsRepeatWindow is how long a process's repeat of a lookup is not
	// reported again: programs resolve the same host over and over, a
	// tunnel never asks the same name twice.
	dnsRepeatWindow = time.Minute
	// recentLookups bounds the lookups remembered for that.
	recentLookups = 8192
)

type lookup struct {
	pid        uint32
	name, kind string
}

// lookups remembers when each recent lookup was last reported. Only the
// reader's goroutine uses it.
type lookups map[lookup]time.Time

// seen says whether l was reported within the window before now, and
// remembers it as reported at now if not.
func (r lookups) seen(l lookup, now time.Time) bool {
	if last, ok := r[l]; ok && now.Sub(last) < dnsRepeatWindow && !now.Before(last) {
		return true
	}
	if len(r) >= recentLookups {
		for k, t := range r {
			if now.Sub(t) >= dnsRepeatWindow {
				delete(r, k)
			}
		}
		if len(r) >= recentLookups {
			clear(r) // a burst of new names: they are reported, repeats again too
		}
	}
	r[l] = now
	return false
}

// dnsQuery makes a dns.query event of a query the sensor could read, unless
// the same process asked the same within dnsRepeatWindow.
func (c *Converter) dnsQuery(r *sensor.DNSQuery) *event.Event {
	q := r.Question
	if q.Name == "" {
		return nil // not a DNS query: its bytes are in the UDP totals
	}
	now := c.clock.Time(r.TS)
	if c.lookups.seen(lookup{r.PID, q.Name, q.Type}, now) {
		return nil
	}
	d := &event.DNS{Name: q.Name, Type: q.Type, Server: r.DstAddr.String()}
	d.Domain, d.Subdomain = SplitDomain(q.Name)
	for label := range strings.SplitSeq(d.Subdomain, ".") {
		d.LongestLabel = max(d.LongestLabel, uint16(len(label))) // a name is at most 255 bytes
	}
	return &event.Event{Time: now, Kind: event.KindDNSQuery, Process: c.shared.process(c.procs.Lookup(&r.Header)), DNS: d}
}

// SplitDomain splits a lower-case name into the domain registered under a
// public suffix and the labels below it: "a.b.example.co.uk" is
// "example.co.uk" and "a.b". A name that is a public suffix, or has a single
// label, is its own domain.
func SplitDomain(name string) (domain, sub string) {
	domain, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return name, ""
	}
	return domain, strings.TrimSuffix(strings.TrimSuffix(name, domain), ".")
}
