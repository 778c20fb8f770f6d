package console

import (
	"github.com/vigilhq/vigil/collector/evidence"
	"github.com/vigilhq/vigil/event"
)

// describe says in one line what an evidence event shows.
func describe(e *event.Event) string { return evidence.Describe(e) }

// lineage names the process, who logged in, and the session it ran in.
func lineage(e *event.Event) string { return evidence.Lineage(e) }

func humanBytes(n uint64) string { return evidence.Bytes(n) }
