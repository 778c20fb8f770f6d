package rules

import (
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestTemplates(t *testing.T) {
	checkWhen(t, []whenCase{
		{`"${host}-x" == "h-x"`, event.Event{Host: "h"}, true},
		{`"${db.rows} rows, tls ${db.tls}, ${db.tables}" == "3 rows, tls true, a,b"`, event.Event{DB: &event.DB{Rows: 3, TLS: true, Tables: []string{"a", "b"}}}, true},
		// A template of constants is a constant pattern.
		{`regex(db.user, "^${"svc"}_")`, event.Event{DB: &event.DB{User: "svc_x"}}, true},
	})
}
