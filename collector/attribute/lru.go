package attribute

import (
	"container/list"
	"time"
)

// lru is a map bounded to max entries: putting one more forgets the entry
// touched longest ago. Entries also carry when they were last touched, so
// those older than a cutoff can be dropped from the old end.
type lru[K comparable, V any] struct {
	max     int
	ll      *list.List // of *entry[K, V], most recently touched first
	m       map[K]*list.Element
	evicted uint64 // entries forgotten because the map was full
}

type entry[K comparable, V any] struct {
	k  K
	v  V
	at time.Time
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, ll: list.New(), m: map[K]*list.Element{}}
}

// get returns k's value if it was touched at or after since.
func (c *lru[K, V]) get(k K, since time.Time) (V, bool) {
	if el, ok := c.m[k]; ok {
		if e := el.Value.(*entry[K, V]); !e.at.Before(since) {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// put sets k's value, touched at at, forgetting the oldest entry when the
// map is full.
func (c *lru[K, V]) put(k K, v V, at time.Time) {
	if el, ok := c.m[k]; ok {
		e := el.Value.(*entry[K, V])
		e.v = v
		if at.After(e.at) {
			e.at = at
		}
		c.ll.MoveToFront(el)
		return
	}
	c.m[k] = c.ll.PushFront(&entry[K, V]{k: k, v: v, at: at})
	if c.ll.Len() > c.max {
		c.remove(c.ll.Back())
		c.evicted++
	}
}

// expire forgets entries touched before cutoff, from the old end; an entry
// touched with an older time than its newer neighbours goes when they do.
func (c *lru[K, V]) expire(cutoff time.Time) {
	for el := c.ll.Back(); el != nil; el = c.ll.Back() {
		if !el.Value.(*entry[K, V]).at.Before(cutoff) {
			return
		}
		c.remove(el)
	}
}

// delete forgets k.
func (c *lru[K, V]) delete(k K) {
	if el, ok := c.m[k]; ok {
		c.remove(el)
	}
}

func (c *lru[K, V]) remove(el *list.Element) {
	delete(c.m, el.Value.(*entry[K, V]).k)
	c.ll.Remove(el)
}

func (c *lru[K, V]) len() int { return c.ll.Len() }
