package rules

import (
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestMathFunctions(t *testing.T) {
	checkWhen(t, []whenCase{
		{`abs(db.rows - 10) <= 2 && max(db.rows, 3) == 9 && min(db.rows, 3) == 3`, event.Event{DB: &event.DB{Rows: 9}}, true},
		{`abs(0 - db.rows) == 9 && max(-1, -2) == -1`, event.Event{DB: &event.DB{Rows: 9}}, true},
	})
	checkRejects(t, []rejectCase{
		{"abs of a string", whenRule(`abs(db.user) > 1`),
			`t.hcl:3:18: error: Invalid function argument; Argument 1 of abs must be a number, but this is a string.`},
		{"max of a string", whenRule(`max(db.rows, db.user) > 1`),
			`t.hcl:3:27: error: Invalid function argument; Argument 2 of max must be a number, but this is a string.`},
	})
}
