package dnscache

import (
	"container/list"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Answer says that Addr was given as an address of Name.
type Answer struct {
	// Name is the name that was asked for (the question), without the
	// trailing dot: what the user typed, not the CDN host it aliases.
	Name string
	// Target is the name the address record belongs to when a CNAME chain
	// led there; empty when it is Name itself.
	Target string
	Addr   netip.Addr
	TTL    time.Duration
}

// ErrNotAnswer is returned for messages that are not responses.
var ErrNotAnswer = errors.New("dns message is not a response")

// maxChain bounds how far CNAME chains are followed.
const maxChain = 8

// Parse returns the A and AAAA answers in msg. A message cut short (the
// sensor keeps the first bytes of each) gives the answers before the cut and
// no error, as long as the question was read.
func Parse(msg []byte) ([]Answer, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil, fmt.Errorf("parsing dns header: %w", err)
	}
	if !h.Response {
		return nil, ErrNotAnswer
	}
	if h.RCode != dnsmessage.RCodeSuccess {
		return nil, nil
	}
	q, err := p.Question()
	if errors.Is(err, dnsmessage.ErrSectionDone) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("parsing dns question: %w", err)
	}
	asked := name(q.Name)
	if err := p.SkipAllQuestions(); err != nil {
		return nil, fmt.Errorf("parsing dns questions: %w", err)
	}

	// alias -> canonical name, to walk a CNAME chain back to the question.
	var cnames map[string]string
	type rec struct {
		owner string
		addr  netip.Addr
		ttl   uint32
	}
	var addrs []rec
	for {
		rh, err := p.AnswerHeader()
		if err != nil {
			break // ErrSectionDone, or the message was cut: keep what we have
		}
		switch rh.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				break
			}
			addrs = append(addrs, rec{name(rh.Name), netip.AddrFrom4(r.A), rh.TTL})
			continue
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				break
			}
			addrs = append(addrs, rec{name(rh.Name), netip.AddrFrom16(r.AAAA), rh.TTL})
			continue
		case dnsmessage.TypeCNAME:
			r, err := p.CNAMEResource()
			if err != nil {
				break
			}
			if cnames == nil {
				cnames = map[string]string{}
			}
			cnames[name(rh.Name)] = name(r.CNAME)
			continue
		default:
			if err := p.SkipAnswer(); err == nil {
				continue
			}
		}
		break
	}

	out := make([]Answer, 0, len(addrs))
	for _, a := range addrs {
		if a.owner == "" {
			continue // the root: names nothing
		}
		ans := Answer{Name: a.owner, Addr: a.addr, TTL: time.Duration(a.ttl) * time.Second}
		if a.owner != asked && reaches(cnames, asked, a.owner) {
			ans.Name, ans.Target = asked, a.owner
		}
		out = append(out, ans)
	}
	return out, nil
}

// reaches reports whether the CNAME chain from name leads to target.
func reaches(cnames map[string]string, from, target string) bool {
	for range maxChain {
		next, ok := cnames[from]
		if !ok {
			return false
		}
		if next == target {
			return true
		}
		from = next
	}
	return false
}

func name(n fmt.Stringer) string {
	return strings.ToLower(strings.TrimSuffix(n.String(), "."))
}

// Options bound a Cache.
type Options struct {
	// MaxEntries bounds the addresses kept; the least recently added go
	// first. Zero means 65536.
	MaxEntries int
	// MinTTL keeps answers at least this long whatever their TTL: a
	// connection opened under a 30 s TTL and reported an hour later should
	// still be named. Zero means one hour.
	MinTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Cache maps addresses to the name last seen resolving to them. It is safe
// for concurrent use.
type Cache struct {
	opts Options

	mu      sync.Mutex
	entries map[netip.Addr]*list.Element
	order   *list.List // of *entry, most recently added at the front
}

type entry struct {
	addr    netip.Addr
	name    string
	expires time.Time
}

// New returns an empty cache.
func New(opts Options) *Cache {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 1 << 16
	}
	if opts.MinTTL <= 0 {
		opts.MinTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache{opts: opts, entries: map[netip.Addr]*list.Element{}, order: list.New()}
}

// Add remembers answers.
func (c *Cache) Add(answers []Answer) {
	now := c.opts.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range answers {
		addr := a.Addr.Unmap()
		if !addr.IsValid() || a.Name == "" {
			continue
		}
		expires := now.Add(max(a.TTL, c.opts.MinTTL))
		if el, ok := c.entries[addr]; ok {
			e := el.Value.(*entry)
			e.name, e.expires = a.Name, expires
			c.order.MoveToFront(el)
			continue
		}
		c.entries[addr] = c.order.PushFront(&entry{addr: addr, name: a.Name, expires: expires})
		for c.order.Len() > c.opts.MaxEntries {
			old := c.order.Back()
			delete(c.entries, old.Value.(*entry).addr)
			c.order.Remove(old)
		}
	}
}

// AddMessage parses a DNS message and remembers its answers.
func (c *Cache) AddMessage(msg []byte) ([]Answer, error) {
	answers, err := Parse(msg)
	if err != nil {
		return nil, err
	}
	c.Add(answers)
	return answers, nil
}

// Lookup returns the name addr was last given for, if that has not expired.
// IPv4-mapped IPv6 addresses are looked up as IPv4.
func (c *Cache) Lookup(addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[addr]
	if !ok {
		return "", false
	}
	e := el.Value.(*entry)
	if c.opts.Now().After(e.expires) {
		delete(c.entries, addr)
		c.order.Remove(el)
		return "", false
	}
	return e.name, true
}

// Len is the number of addresses held, expired ones included until looked up
// or pushed out.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
