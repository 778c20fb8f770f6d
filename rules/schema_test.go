package rules

import "testing"

// TestRequiredAttributes checks that each block reports the attributes it
// cannot do without, at the block's opening brace.
func TestRequiredAttributes(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"threshold window", "threshold \"t\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = [person]\n  limit = 1\n}\n",
			`t.hcl:1:15: error: Missing required argument; The argument "window" is required, but no definition was found.`},
		{"threshold limit", "threshold \"t\" {\n  severity = \"low\"\n  when = kind == \"db.query\"\n  by = [person]\n  window = \"1h\"\n}\n",
			`t.hcl:1:15: error: Missing required argument; The argument "limit" is required, but no definition was found.`},
		{"sequence by", "sequence \"s\" {\n  severity = \"low\"\n  window = \"1h\"\n}\n",
			`t.hcl:1:14: error: Missing required argument; The argument "by" is required, but no definition was found.`},
		{"step when", "sequence \"s\" {\n  severity = \"low\"\n  by = [person]\n  window = \"1h\"\n  step \"a\" {\n  }\n}\n",
			`t.hcl:5:12: error: Missing required argument; The argument "when" is required, but no definition was found.`},
		{"variable default", "variable \"v\" {\n}\n",
			`t.hcl:1:14: error: Missing required argument; The argument "default" is required, but no definition was found.`},
		{"list items", "list \"l\" {\n}\n",
			`t.hcl:1:10: error: Missing required argument; The argument "items" is required, but no definition was found.`},
		{"condition when", "condition \"c\" {\n}\n",
			`t.hcl:1:15: error: Missing required argument; The argument "when" is required, but no definition was found.`},
		{"exception rules", "exception \"e\" {\n  when = true\n  reason = \"x\"\n}\n",
			`t.hcl:1:15: error: Missing required argument; The argument "rules" is required, but no definition was found.`},
		{"test events", goodRule + "test \"x\" {\n  expect \"dump\" {}\n}\n",
			`t.hcl:5:10: error: Missing required argument; The argument "events" is required, but no definition was found.`},
	})
}

func TestUnexpectedContent(t *testing.T) {
	checkRejects(t, []rejectCase{
		{"rule without a name", "rule {\n  severity = \"low\"\n  when = true\n}\n",
			`t.hcl:1:6: error: Missing name for rule; All rule blocks must have 1 labels (name).`},
		{"values with a block", "values {\n  x {\n  }\n}\n",
			`t.hcl:2:3: error: Unexpected "x" block; Blocks are not allowed here.`},
		{"window on a rule", "rule \"r\" {\n  severity = \"low\"\n  when = true\n  window = \"1h\"\n}\n",
			`t.hcl:4:3: error: Unsupported argument; An argument named "window" is not expected here.`},
		{"by on a list", "list \"l\" {\n  items = [\"a\"]\n  by = [person]\n}\n",
			`t.hcl:3:3: error: Unsupported argument; An argument named "by" is not expected here.`},
	})
}
