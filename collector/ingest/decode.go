package ingest

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/event"
)

// decoded is one message as handle takes it: its subject parsed and its
// events decoded, which runs ahead of the store (decodeStage) so that the
// writer only stores.
type decoded struct {
	Msg
	site, agentID, class string
	subjErr              error
	// oversized messages are not split nor decoded.
	oversized bool
	lines     []line
}

// line is one event of a message (EventsOf): its bytes, and the event
// or why it does not decode.
type line struct {
	data []byte
	ev   *event.Event
	err  error
}

// decodeAll parses and decodes a batch of messages; what is wrong with
// a message or line is kept for handle to count and log in store order.
func decodeAll(msgs []Msg) []decoded {
	out := make([]decoded, len(msgs))
	for i, m := range msgs {
		d := &out[i]
		d.Msg = m
		d.site, d.agentID, d.class, d.subjErr = event.ParseSubject(m.Subject)
		if len(m.Data) > event.MaxWireSize {
			d.oversized = true
			continue
		}
		for part := range EventsOf(m) {
			ln := line{data: part.Data}
			if d.subjErr == nil {
				ln.ev, ln.err = event.Decode(part.Data)
			}
			d.lines = append(d.lines, ln)
		}
	}
	return out
}

// fetched is a batch as fetched, with its messages decoded.
type fetched struct {
	msgs []jetstream.Msg
	decs []decoded
}

// decodeStage decodes each batch from in and hands it to out, which it
// closes when in closes: batch n+1 decodes while the writer stores n.
func decodeStage(in <-chan []jetstream.Msg, out chan<- fetched) {
	defer close(out)
	for msgs := range in {
		raw := make([]Msg, len(msgs))
		for i, m := range msgs {
			raw[i] = Msg{Subject: m.Subject(), Data: m.Data()}
		}
		out <- fetched{msgs, decodeAll(raw)}
	}
}
