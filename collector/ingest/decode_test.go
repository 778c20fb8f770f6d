package ingest

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testproc"
)

// stageMsg is a fetched message whose payload notes when it is read.
type stageMsg struct {
	jetstream.Msg
	subject string
	data    []byte
	read    *atomic.Bool
}

func (m stageMsg) Subject() string { return m.subject }
func (m stageMsg) Data() []byte {
	m.read.Store(true)
	return m.data
}

// The next batch is decoded while the writer still holds the one before,
// so storing does not wait for decoding.
func TestDecodeStageRunsAhead(t *testing.T) {
	enc := func(seq uint64) stageMsg {
		ev := &event.Event{ID: event.MakeID("b1", seq), Time: t0, Kind: event.KindFileWrite, Site: "leeds", Host: "ws1",
			AgentID: "ag-1", BootID: "b1", Seq: seq, File: &event.File{Path: "/tmp/x", Bytes: 1}}
		data, err := event.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		return stageMsg{subject: event.Subject("leeds", "ag-1", event.ClassEvents), data: data, read: new(atomic.Bool)}
	}
	a, b := enc(1), enc(2)
	in := make(chan []jetstream.Msg, 2)
	out := make(chan fetched)
	go decodeStage(in, out)
	in <- []jetstream.Msg{a}
	in <- []jetstream.Msg{b}
	close(in)
	first := <-out
	// The writer holds the first batch; the second is decoded meanwhile.
	testproc.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if !b.read.Load() {
			return errors.New("the second batch was not decoded while the first was held")
		}
		return nil
	})
	second := <-out
	if len(first.decs) != 1 || first.decs[0].lines[0].ev == nil || first.decs[0].lines[0].ev.Seq != 1 {
		t.Fatalf("first batch decoded as %+v", first.decs)
	}
	if len(second.decs) != 1 || second.decs[0].lines[0].ev == nil || second.decs[0].lines[0].ev.Seq != 2 {
		t.Fatalf("second batch decoded as %+v", second.decs)
	}
	if _, ok := <-out; ok {
		t.Fatal("the stage did not close its output when its input closed")
	}
}

// What is wrong with a message is kept for handle to count: a bad line
// among good ones, an unknown subject, an oversized message.
func TestDecodeAllKeepsWhatIsWrong(t *testing.T) {
	good, err := event.Encode(&event.Event{ID: "b1-1", Time: t0, Kind: event.KindFileWrite, Site: "leeds", Host: "ws1",
		AgentID: "ag-1", BootID: "b1", Seq: 1, File: &event.File{Path: "/tmp/x", Bytes: 1}})
	if err != nil {
		t.Fatal(err)
	}
	subj := event.Subject("leeds", "ag-1", event.ClassEvents)
	decs := decodeAll([]Msg{
		{Subject: subj, Data: append(append(append([]byte{}, good...), '\n'), "{nope"...)},
		{Subject: "not.a.subject", Data: good},
		{Subject: subj, Data: []byte(strings.Repeat("x", event.MaxWireSize+1))},
	})
	if len(decs[0].lines) != 2 || decs[0].lines[0].err != nil || decs[0].lines[1].err == nil {
		t.Errorf("a good line then a bad one: %+v", decs[0].lines)
	}
	if decs[1].subjErr == nil || len(decs[1].lines) != 1 || decs[1].lines[0].ev != nil {
		t.Errorf("an unknown subject: %+v", decs[1])
	}
	if !decs[2].oversized || decs[2].lines != nil {
		t.Errorf("an oversized message: %+v", decs[2])
	}
}
