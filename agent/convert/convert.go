package convert

import (
	"github.com/vigilhq/vigil/agent/enrich"
	"github.com/vigilhq/vigil/agent/sensor"
	"github.com/vigilhq/vigil/event"
)

// recentRenames is how many written paths are remembered to relate renames
// to them.
const recentRenames = 4096

// Converter makes events of records. Record is for the goroutine that reads
// the ring buffer; UDP and Files may be called from others.
type Converter struct {
	procs  *enrich.Table
	clock  enrich.Clock
	mounts *enrich.Mounts
	recent *recentPaths
	// lookups are the reader's recent DNS lookups.
	lookups lookups
	// shared hands out descriptions that the reader's events share.
	shared shared
}

// New returns a converter describing processes with procs, stamping times
// with clock and naming devices with mounts.
func New(procs *enrich.Table, clock enrich.Clock, mounts *enrich.Mounts) *Converter {
	return &Converter{procs: procs, clock: clock, mounts: mounts, recent: newRecentPaths(recentRenames), lookups: lookups{}}
}

// Record returns the event of a process, file or net record, or nil when
// it makes none (a fork, a rename of a file not seen written, a record of
// another kind).
func (c *Converter) Record(rec any) *event.Event {
	switch r := rec.(type) {
	case *sensor.Fork:
		c.procs.Fork(r)
	case *sensor.Exec:
		return c.exec(r)
	case *sensor.Exit:
		return c.exit(r)
	case *sensor.FileWrite:
		return c.fileWrite(r, &c.shared)
	case *sensor.Rename:
		return c.rename(r)
	case *sensor.TCP:
		return c.tcp(r)
	case *sensor.DNSQuery:
		return c.dnsQuery(r)
	}
	return nil
}
