package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A rule counting an identifier the agents do not hash is an error of
// rules check, at the rule, naming what the agents hash; the pack passes
// against the packaged agent.hcl.
func TestRulesCheckIdentifiersTheAgentsHash(t *testing.T) {
	if code, stdout, stderr := runCLI("rules", "check", "--agent-config", "../../packaging/etc/agent.hcl", packDir); code != exitOK {
		t.Fatalf("the pack against the packaged agent.hcl: %d\n%s%s", code, stdout, stderr)
	}
	dir := t.TempDir()
	agent := writeFile(t, dir, "agent.hcl", "db {\n  identifiers = { customer_id = [\"customers.id\"] }\n}\n")
	rules := writeFile(t, dir, "r.hcl", `threshold "lookups" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  distinct = db.identifiers["customer_ref"]
  window   = "8h"
  limit    = 100
}
`)
	code, stdout, _ := runCLI("rules", "check", "--agent-config", agent, rules)
	if code != exitFail || !strings.Contains(stdout, "Identifier not hashed by the agents") ||
		!strings.Contains(stdout, "r.hcl line 5") || !strings.Contains(stdout, `the agents hash "customer_id"`) {
		t.Fatalf("check of a rule counting an unhashed identifier: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("rules", "check", "--json", "--agent-config", agent, rules)
	var res checkJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != exitFail || res.OK || len(res.Diagnostics) != 1 {
		t.Fatalf("--json: %d %v %+v", code, err, res)
	}
	// A config whose identifiers are off makes the pack's distinct counts
	// errors too.
	off := writeFile(t, dir, "off.hcl", "db {\n  identifiers = {}\n}\n")
	if code, stdout, _ := runCLI("rules", "check", "--agent-config", off, packDir); code != exitFail || !strings.Contains(stdout, "customer_id") {
		t.Fatalf("the pack against an agent hashing nothing: %d\n%s", code, stdout)
	}
}
