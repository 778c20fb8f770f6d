package rules

import (
	"testing"

	"github.com/vigilhq/vigil/event"
)

func TestOperators(t *testing.T) {
	checkWhen(t, []whenCase{
		{`db.rows % 4 == 1 && db.rows / 3 == 3 && -db.rows == 0 - 9`, event.Event{DB: &event.DB{Rows: 9}}, true},
		{`(db.rows > 5 ? "big" : "small") == "big"`, event.Event{DB: &event.DB{Rows: 9}}, true},
		{`file.removable || file.network`, event.Event{File: &event.File{Network: true}}, true},
		// Division and modulo by zero give 0 rather than Inf or NaN.
		{`db.rows / 0 == 0 && db.rows % 0 == 0 && db.rows / db.bytes == 0`, event.Event{DB: &event.DB{Rows: 9}}, true},
		{`db.rows * 2 - 1 >= 17 && db.rows + 1 < 11 && db.rows != 8 && !(db.rows <= 8)`, event.Event{DB: &event.DB{Rows: 9}}, true},
		{`db.rows > db.bytes && db.user != db.database && db.tls == false`, event.Event{DB: &event.DB{Rows: 9, User: "a"}}, true},
		{`(db.tls ? db.tables : ["x"])[0] == "x" && (db.tls ? 1 : 2) == 2 && (db.tls ? true : !db.tls)`, event.Event{DB: &event.DB{}}, true},
		{`time == time && 1 + 2 == 3`, event.Event{}, true},
	})
}

// TestConstantsFold checks that operators over constants are constants, so
// that functions taking constant arguments accept them.
func TestConstantsFold(t *testing.T) {
	checkWhen(t, []whenCase{
		{`within_hours(time, 8 + 1, 20 - 2 * 1 / 1 % 100, "UTC") && hour(time, "UTC") == -(-9)`, event.Event{Time: t0}, true},
	})
}

func TestOperatorErrors(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"or of a string", whenRule(`db.tls || db.user`),
			`t.hcl:3:24: error: Type mismatch; The || operator needs bools, but this is a string.`},
		{"not of a number", whenRule(`!db.rows`),
			`t.hcl:3:15: error: Type mismatch; The ! operator needs a bool, but this is a number.`},
		{"minus a string", whenRule(`-db.user > 1`),
			`t.hcl:3:15: error: Type mismatch; The - operator needs a number, but this is a string.`},
		{"string arithmetic", whenRule(`db.user + 1 > 1`),
			`t.hcl:3:14: error: Type mismatch; The + operator needs numbers, but this is a string.`},
		{"maps compared", whenRule(`labels == labels`),
			`t.hcl:3:14: error: Type mismatch; Values of type map of strings cannot be compared with ==.`},
		{"condition of a string", whenRule(`(db.user ? true : false)`),
			`t.hcl:3:15: error: Type mismatch; The conditional operator needs a bool condition, but this is a string.`},
		{"results of two types", whenRule(`(db.tls ? 1 : "x") == 1`),
			`t.hcl:3:15: error: Type mismatch; Both results of a conditional must have one type; these are number and string.`},
		{"conditional over maps", whenRule(`len(db.tls ? labels : labels) > 0`),
			`t.hcl:3:18: error: Unsupported expression; Conditionals over map of strings values are not supported.`},
	})
}
