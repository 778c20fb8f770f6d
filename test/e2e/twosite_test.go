package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/event"
	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testkernel"
	"github.com/vigilhq/vigil/internal/testproc"
)

// One person active at two sites within the hour: two agents, enrolled
// with their own ids at sites leeds and manila, each report part of what
// the person does, and the collector's correlation rules tie the two
// sites' events into one alert about the person.
//
// Both agents run on this machine and every sensor sees the whole kernel
// (the database sensor recognises PostgreSQL on any port), so the sites
// are told apart by giving the agents disjoint sensors: leeds watches
// database queries, manila file writes. The person queries the database at
// leeds and copies a file at manila.
func TestPersonAtTwoSites(t *testing.T) {
	testkernel.RequireRoot(t)
	requireTools(t, "psql", "cp", "useradd")
	srv := testdb.StartPostgres(t, testdb.Options{})
	out, err := exec.Command("psql", srv.DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `
CREATE TABLE customers (id int PRIMARY KEY, email text);
INSERT INTO customers SELECT g, 'customer' || g || '@example.com' FROM generate_series(1, 100) g;
CREATE ROLE support_ro LOGIN;
GRANT SELECT ON customers TO support_ro;`).CombinedOutput()
	if err != nil {
		t.Fatalf("loading customers: %v: %s", err, out)
	}
	mona := ensurePerson(t, "vigil-e2e-mona")
	keyFile, _ := deploymentKey(t)
	rulesDir := testRules(t, "values {\n  off_shift_queries = 1000000\n}\n")
	data := t.TempDir()
	natsPort := testproc.FreePort(t)
	c := startCollector(t, data, natsPort, "--rules", rulesDir, "--host-rules", rulesDir)
	agents := map[string]*agentProc{
		"leeds": startAgent(t, c, data, c.NATS, agentOpts{site: "leeds", host: "ws-leeds-07", dbPorts: []int{srv.Port},
			rulesDir: rulesDir, keyFile: keyFile, idColumns: []string{"customers.id"}, sensors: []string{"db"}}),
		"manila": startAgent(t, c, data, c.NATS, agentOpts{site: "manila", host: "ws-manila-03",
			rulesDir: rulesDir, keyFile: keyFile, sensors: []string{"file"}}),
	}
	if agents["leeds"].id == agents["manila"].id {
		t.Fatalf("both agents enrolled as %s", agents["leeds"].id)
	}
	// Activity of mona's (from either agent) so far.
	activity := func(site string) int {
		return storedEvents(t, data, agents[site].id, event.KindDBQuery, mona.name, "") +
			storedEvents(t, data, agents[site].id, event.KindFileWrite, mona.name, "")
	}

	// Morning at leeds: customer lookups, one site, no correlation alert.
	for id := range 3 {
		mona.run(t, "psql", pgURL(srv.Port, "support_ro", "disable"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
			"-c", fmt.Sprintf("SELECT id, email FROM customers WHERE id = %d", id+1))
	}
	testproc.CheckFor(t, 60*time.Second, poll, func() error {
		if n := activity("leeds"); n < 3 {
			return fmt.Errorf("%d of mona's 3 leeds queries stored", n)
		}
		return nil
	})
	if n := activity("manila"); n != 0 {
		t.Fatalf("manila's agent reported %d events of mona's at leeds", n)
	}
	if a := c.alertsFor(t, "person_at_two_sites", mona.name); len(a) != 0 {
		t.Fatalf("person_at_two_sites after activity at one site: %s", a[0].Event.Alert.Summary)
	}

	// Within the hour, mona's account copies a file at manila.
	src := filepath.Join(mona.home, "notes.txt")
	if err := os.WriteFile(src, []byte("shift notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mona.run(t, "cp", src, filepath.Join(mona.home, "notes-copy.txt"))

	a := c.awaitAlert(t, "person_at_two_sites", mona.name)
	if a.Event.Alert.Scope != "global" || a.Event.Alert.Value != 2 || a.Event.Alert.Group["person"] != mona.name {
		t.Errorf("alert scope %q value %v group %v; want global, 2, person %s", a.Event.Alert.Scope, a.Event.Alert.Value, a.Event.Alert.Group, mona.name)
	}
	by := evidenceOf(t, a, mona.name, []event.Kind{event.KindDBQuery, event.KindFileWrite}, event.KindDBQuery, event.KindFileWrite)
	for kind, site := range map[event.Kind]string{event.KindDBQuery: "leeds", event.KindFileWrite: "manila"} {
		for _, ev := range by[kind] {
			if ev.Site != site || ev.AgentID != agents[site].id || ev.Host != agents[site].host {
				t.Errorf("%s evidence %s from %s/%s agent %s, want %s's agent %s", kind, ev.ID, ev.Site, ev.Host, ev.AgentID, site, agents[site].id)
			}
		}
	}
	if n := len(c.alertsFor(t, "person_at_two_sites", mona.name)); n != 1 {
		t.Errorf("%d person_at_two_sites alerts about mona, want one", n)
	}
	var sites []string
	for _, ev := range a.Evidence {
		if !slices.Contains(sites, ev.Site) {
			sites = append(sites, ev.Site)
		}
	}
	if len(sites) != 2 {
		t.Errorf("evidence from sites %v, want leeds and manila", sites)
	}
}
