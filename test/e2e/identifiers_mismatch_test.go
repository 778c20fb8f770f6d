package e2e

// An agent whose identifier columns do not include the name the pack counts
// distinct customers under (customer_identifier) counts no customer: the
// SOC must see that, in the agents list and as an alert, instead of a quiet
// distinct-customer rule.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// renamedIdentifiers is a db block whose operator hashes the customer
// columns under a name of their own: with no identifiers block at all the
// agent hashes the shipped names, so a mismatch takes a name like this.
const renamedIdentifiers = `  identifiers = {
    cust_id = ["customers.id", "email"]
  }
`

var identifiersBlock = regexp.MustCompile(`(?s)\n  identifiers = \{\n.*?\n  \}\n`)

func TestIdentifiersMismatchReachesSOC(t *testing.T) {
	testkernel.RequireRoot(t)
	rulesDir := testRules(t, "")
	// The hosts run the pack as shipped; the collector's copy is the SOC's.
	hostRules := testRules(t, "")
	data := t.TempDir()
	c := startCollector(t, data, testproc.FreePort(t), "--rules", rulesDir)

	// One host with the packaged agent.hcl, one whose db block hashes
	// the customer columns under a name of its own.
	goodCreds, good := enrolCLI(t, data, "leeds", "ws-idm-01")
	startAgentProcess(t, packagedAgent(t, t.TempDir(), "leeds", "ws-idm-01", good, hostRules, c.NATS, goodCreds), 4)
	oldCreds, old := enrolCLI(t, data, "leeds", "ws-idm-02")
	cfg := packagedAgent(t, t.TempDir(), "leeds", "ws-idm-02", old, hostRules, c.NATS, oldCreds)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !identifiersBlock.Match(b) {
		t.Fatalf("the packaged agent.hcl has no identifiers block to replace:\n%s", b)
	}
	if err := os.WriteFile(cfg, identifiersBlock.ReplaceAll(b, []byte("\n"+renamedIdentifiers)), 0o600); err != nil {
		t.Fatal(err)
	}
	startAgentProcess(t, cfg, 4)

	// The agents list shows what each hashes and what its rules miss.
	c.heartbeatOf(t, old, "", func(hb *event.Heartbeat) error {
		if !slices.Equal(hb.IdentifiersMissing, []string{"customer_id"}) || !slices.Equal(hb.Identifiers, []string{"cust_id"}) {
			return fmt.Errorf("heartbeat of ws-idm-02: identifiers %v, missing %v; want cust_id hashed and customer_id missing", hb.Identifiers, hb.IdentifiersMissing)
		}
		return nil
	})
	c.heartbeatOf(t, good, "", func(hb *event.Heartbeat) error {
		if !slices.Contains(hb.Identifiers, "customer_id") || len(hb.IdentifiersMissing) != 0 {
			return fmt.Errorf("heartbeat of ws-idm-01: identifiers %v, missing %v; want customer_id hashed, nothing missing", hb.Identifiers, hb.IdentifiersMissing)
		}
		return nil
	})
	// The collector raises an alert naming the agent, the name and the fix.
	c.agentAlert(t, "vigil_identifiers_mismatch", old, "", func(al *event.Alert) error {
		for _, want := range []string{old, "ws-idm-02", "customer_id", "cust_id", "db.identifiers"} {
			if !strings.Contains(al.Summary, want) {
				return fmt.Errorf("summary %q does not name %s", al.Summary, want)
			}
		}
		return nil
	})

	// The packaged host's heartbeats were judged above: it raised none.
	for _, al := range c.alertsFor(t, "vigil_identifiers_mismatch", "") {
		if al.Event.AgentID == good {
			t.Errorf("the packaged host raised a mismatch: %s", al.Event.Alert.Summary)
		}
	}

	// The SOC's rules start counting a name no agent hashes (a values
	// file at the collector only): the packaged host, whose own rules are
	// content, is now out of step with the collector's, which says so.
	values := "values {\n  customer_identifier = \"shopper_ref\"\n}\n"
	if err := os.WriteFile(filepath.Join(rulesDir, "zz-site-values.hcl"), []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	c.agentAlert(t, "vigil_identifiers_mismatch", good, "", func(al *event.Alert) error {
		if !strings.Contains(al.Summary, "shopper_ref") || !strings.Contains(al.Summary, "ws-idm-01") {
			return fmt.Errorf("summary %q does not name ws-idm-01 and shopper_ref", al.Summary)
		}
		return nil
	})
}
