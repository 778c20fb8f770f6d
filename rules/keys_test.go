package rules

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/vigilhq/vigil/event"
)

// countBy is a threshold of limit 0 counting db.query events by the given by.
func countBy(by string) string {
	return fmt.Sprintf("threshold \"t\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = %s\n  window = \"1h\"\n  limit = 0\n}\n", by)
}

func TestKeyNamesAndValues(t *testing.T) {
	ev := event.Event{Kind: event.KindDBQuery, Time: t0, Process: &event.Process{LoginUID: 7, LoginUser: "alice"},
		DB: &event.DB{Rows: 5, TLS: true, User: "app"}}
	for _, c := range []struct {
		by   string
		want map[string]string
	}{
		{`[person, db.user]`, map[string]string{"person": "alice", "db.user": "app"}},
		{`{ who = person, rows = db.rows, tls = db.tls }`, map[string]string{"who": "alice", "rows": "5", "tls": "true"}},
		{`[lower(db.user)]`, map[string]string{"lower(db.user)": "app"}},
	} {
		set, _ := loadOne(t, countBy(c.by))
		alerts := NewEngine(set, Options{}).Process(&ev)
		if len(alerts) != 1 || !reflect.DeepEqual(alerts[0].Alert.Group, c.want) {
			t.Errorf("by = %s: alerts %v, want group %v", c.by, alerts, c.want)
		}
	}
}

func TestKeyErrors(t *testing.T) {
	nine := "[host, site, person, db.user, db.database, db.server, db.client, db.engine, process.comm]"
	checkRejects(t, []rejectCase{
		{"duplicate key", countBy(`[person, person]`),
			`t.hcl:4:17: error: Duplicate key; Key "person" appears twice.`},
		{"empty by", countBy(`[]`),
			`t.hcl:4:8: error: Empty by; by needs at least one key.`},
		{"too many keys", countBy(nine),
			`t.hcl:4:8: error: Too many keys; by takes at most 8 keys.`},
		{"map key", countBy(`[labels]`),
			`t.hcl:4:9: error: Invalid key; A key must be a string, number, bool or list of strings, not a map of strings.`},
		{"key is one field, not a list", countBy(`person`),
			`t.hcl:4:8: error: Invalid by; by must be a list of fields, like [person, host], or an object, like { customer = db.identifiers["customer_id"] }.`},
		{"quoted key name", countBy(`{ "who" = person }`),
			`t.hcl:4:10: error: Invalid key name; Key names must be plain identifiers.`},
	})
}
