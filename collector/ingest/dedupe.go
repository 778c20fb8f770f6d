package ingest

import (
	"github.com/vigilhq/vigil/event"
)

// ownNumber checks that a numbered event is deduplicated by what it is:
// the store keeps one event per id, so the id must be the one its boot and
// seq make, and the boot must be its agent's. Otherwise an agent could
// store the same seq twice under two ids, or take another agent's boot id
// and have that agent's events dropped as duplicates of its own. An event
// that fails is counted (malformed or rejected) and not stored; a taken
// boot also raises an identity alert, once per cooldown.
func (in *Ingest) ownNumber(b *batch, msg Msg, ev *event.Event) (bool, error) {
	if ev.Seq == 0 {
		return true, nil
	}
	if want := event.MakeID(ev.BootID, ev.Seq); ev.ID != want {
		b.results["malformed"]++
		in.o.Logger.Warn("event whose id is not its boot and seq skipped", "subject", msg.Subject, "id", ev.ID, "want", want)
		return false, nil
	}
	owner, err := b.tx.BootOwner(ev.AgentID, ev.BootID)
	if err != nil {
		return false, err
	}
	if owner != "" {
		b.results["rejected"]++
		in.o.Logger.Warn("event claiming another agent's boot rejected", "subject", msg.Subject, "boot_id", ev.BootID, "boot_of", owner)
		if al := in.o.Liveness.BootClaim(ev, owner, b.now); al != nil {
			return false, b.putAlert(al, "liveness")
		}
		return false, nil
	}
	return true, nil
}
