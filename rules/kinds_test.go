package rules

import (
	"maps"
	"slices"
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestKindSets(t *testing.T) {
	db, file := kindsOf(event.KindDBQuery), kindsOf(event.KindFileWrite)
	both := kindsOf(event.KindDBQuery, event.KindFileWrite)
	for _, c := range []struct {
		name      string
		got, want kindSet
	}{
		{"any and db", kindSet(nil).intersect(db), db},
		{"db and any", db.intersect(nil), db},
		{"db and file", db.intersect(file), kindSet{}},
		{"db or file", db.union(file), both},
		{"db or any", db.union(nil), nil},
		{"both and db", both.intersect(db), db},
	} {
		if (c.got == nil) != (c.want == nil) || !maps.Equal(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestConditionKinds checks which event kinds a rule's condition limits it
// to, which decides the events the engine runs it for.
func TestConditionKinds(t *testing.T) {
	for when, want := range map[string][]event.Kind{
		`kind == "db.query" && db.rows > 1`:                                  {event.KindDBQuery},
		`"db.query" == kind`:                                                 {event.KindDBQuery},
		`kind == "db.query" || kind == "file.write"`:                         {event.KindDBQuery, event.KindFileWrite},
		`contains(["net.transfer", "file.write"], kind)`:                     {event.KindFileWrite, event.KindNetTransfer},
		`startswith(kind, "db.")`:                                            {event.KindDBQuery, event.KindDBSession},
		`(kind == "db.query" || kind == "db.session") && kind == "db.query"`: {event.KindDBQuery},
		`kind != "db.query" && true`:                                         nil,
		`kind == "db.query" || db.rows > 1`:                                  nil,
		`!(kind == "db.query")`:                                              nil,
	} {
		set, _ := Load(Source{Name: "t.hcl", Data: []byte(whenRule(when))})
		if set == nil {
			t.Errorf("%s: rejected", when)
			continue
		}
		ks := set.byName["r"].kinds
		var got []event.Kind
		if ks != nil {
			got = slices.Sorted(maps.Keys(ks))
		}
		if (ks == nil) != (want == nil) || !slices.Equal(got, want) {
			t.Errorf("%s: kinds %v, want %v", when, got, want)
		}
	}
}

func TestKindErrors(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"unknown kind on the left", whenRule(`"db.qeury" == kind`),
			`t.hcl:3:14: error: Unknown event kind; There is no event kind "db.qeury". Did you mean "db.query"?`},
		{"field of other events", whenRule(`kind == "process.exec" && file.path == "/x"`),
			`t.hcl:3:40: error: Field not on these events; file.path is only set on file.write and file.rename events, but this condition only matches process.exec events.`},
		{"field of other events in a list", whenRule(`contains(["process.exec", "net.transfer"], kind) && db.user == "x"`),
			`t.hcl:3:66: error: Field not on these events; db.user is only set on db.query and db.session events, but this condition only matches net.transfer and process.exec events.`},
	})
}
