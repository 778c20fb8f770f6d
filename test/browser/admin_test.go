package browser

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/vigilhq/vigil/collector"
	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/bus"
	"github.com/vigilhq/vigil/internal/testproc"
)

const consoleRule = `rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}

test "pg_dump" {
  events = [{ kind = "process.exec", process = { comm = "pg_dump" } }]
  expect "dump" { count = 1 }
}
`

// runCollector runs a whole collector (NATS admitting enrolled agents
// only, the store, the API and the console) on data and returns its NATS
// and HTTP addresses.
func runCollector(t *testing.T, data string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type addrs struct{ nats, http string }
	ready := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- collector.Run(ctx, collector.Config{DataDir: data, HTTP: "127.0.0.1:0",
			NATS:   bus.Config{Listen: "127.0.0.1:-1", Auth: true},
			Ready:  func(natsURL, httpAddr string) { ready <- addrs{natsURL, httpAddr} },
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case a := <-ready:
		return a.nats, "http://" + a.http
	case err := <-done:
		t.Fatalf("the collector stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the collector is not ready after 30s")
	}
	return "", ""
}

// connectAs connects to NATS with the credentials file at path, as the
// agent would.
func connectAs(url, path string) error {
	key, err := nats.NkeyOptionFromSeed(path)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(url, key, nats.MaxReconnects(0))
	if err != nil {
		return err
	}
	nc.Close()
	return nil
}

// An admin runs the fleet from the console of a real collector: enrols
// ws-9 at leeds and copies its credentials from the page, with which the
// agent connects to NATS; revokes it, after which its next connection is
// refused and the page says who revoked it and when; publishes leeds's
// rules, refused with file and line while they do not compile, and then
// listed by GET /api/bundles with who published them. An analyst sees none
// of the controls and is refused (403) each admin POST.
func TestAdminManagesAgentsAndRulesInBrowser(t *testing.T) {
	data := t.TempDir()
	natsURL, base := runCollector(t, data)
	ctx := browser(t)
	admin, pw := firstAdmin(t, data)

	var creds string
	run(t, ctx, "enrolling ws-9 from the agents page",
		signIn(base, admin, pw),
		chromedp.WaitVisible(`#live`, chromedp.ByID),
		chromedp.Click(`nav a[href="/agents"]`),
		chromedp.WaitVisible(`#enrol`, chromedp.ByID),
		chromedp.SetValue(`#enrol-site`, "leeds", chromedp.ByID),
		chromedp.SetValue(`#enrol-host`, "ws-9", chromedp.ByID),
		chromedp.SetValue(`#enrol-id`, "ag-9", chromedp.ByID),
		chromedp.Click(`#enrol-submit`, chromedp.ByID),
		chromedp.WaitVisible(`#issued-creds`, chromedp.ByID),
		chromedp.Text(`#issued-creds`, &creds, chromedp.ByID),
		screenshot(t.ArtifactDir(), "enrolled.png"))
	path := filepath.Join(t.TempDir(), "agent.nk")
	if err := os.WriteFile(path, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	// The collector admits a new enrolment within its reload interval.
	testproc.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error { return connectAs(natsURL, path) })

	var revocations string
	run(t, ctx, "revoking ag-9",
		chromedp.Click(`#unheard tr[data-agent="ag-9"] button.revoke`),
		chromedp.WaitVisible(`#agents-done`, chromedp.ByID),
		chromedp.Text(`#revocations`, &revocations, chromedp.ByID))
	if !strings.Contains(revocations, "agent:ag-9") || !strings.Contains(revocations, admin) {
		t.Errorf("the revocations table says %q, want ag-9 revoked by %s", revocations, admin)
	}
	testproc.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error {
		if err := connectAs(natsURL, path); err == nil {
			return errors.New("the revoked agent still connects")
		}
		return nil
	})

	var output, published string
	run(t, ctx, "publishing leeds's rules",
		chromedp.Click(`nav a[href="/admin/rules"]`),
		chromedp.WaitVisible(`#publish`, chromedp.ByID),
		chromedp.SetValue(`#publish-site`, "leeds", chromedp.ByID),
		chromedp.SetValue(`#publish-name`, "dumps.hcl", chromedp.ByID),
		chromedp.SetValue(`#publish-rules`, strings.Replace(consoleRule, `"high"`, `"high`, 1), chromedp.ByID),
		chromedp.Click(`#publish-submit`, chromedp.ByID),
		chromedp.WaitVisible(`#rules-output`, chromedp.ByID),
		chromedp.Text(`#rules-output`, &output, chromedp.ByID),
		chromedp.SetValue(`#publish-rules`, consoleRule, chromedp.ByID),
		chromedp.Click(`#publish-submit`, chromedp.ByID),
		chromedp.WaitVisible(`#rules-published`, chromedp.ByID),
		chromedp.Text(`#rules-published`, &published, chromedp.ByID),
		screenshot(t.ArtifactDir(), "rules.png"))
	if !strings.Contains(output, "on dumps.hcl line 2") {
		t.Errorf("a rule that does not compile: the page says %q, want its file and line", output)
	}
	if !strings.Contains(published, "Published bundle 1 for site leeds") {
		t.Errorf("after publishing the page says %q", published)
	}
	token, err := os.ReadFile(filepath.Join(data, auth.AdminFile))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/api/bundles", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list api.Bundles
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Bundles) != 1 || list.Bundles[0].Site != "leeds" || list.Bundles[0].Version != 1 || list.Bundles[0].PublishedBy != admin {
		t.Errorf("GET /api/bundles: %+v, %v", list, err)
	}

	users, err := auth.OpenUsers(data)
	if err != nil {
		t.Fatal(err)
	}
	anaPW, err := users.Add("ana", auth.RoleAnalyst, "a secret of her own")
	if err != nil {
		t.Fatal(err)
	}
	var controls int
	var codes []int
	run(t, ctx, "signing in as an analyst",
		chromedp.Navigate(base+"/alerts"),
		chromedp.Click(`header button`),
		chromedp.WaitVisible("#name", chromedp.ByID),
		signIn(base, "ana", anaPW),
		chromedp.WaitVisible(`#live`, chromedp.ByID),
		chromedp.Navigate(base+"/agents"),
		chromedp.WaitVisible(`#agents`, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll('#enrol, button.revoke, a[href="/admin/rules"], #publish').length`, &controls),
		chromedp.Evaluate(`Promise.all([
			fetch('/admin/agents', {method: 'POST', body: new URLSearchParams({action: 'enrol', site: 'leeds', host: 'ws-10', agent_id: 'ag-10'})}),
			fetch('/admin/agents', {method: 'POST', body: new URLSearchParams({action: 'revoke', agent_id: 'ag-9'})}),
			fetch('/admin/rules', {method: 'POST', body: new URLSearchParams({site: 'leeds', rules: 'rule "r" {}'})}),
		]).then(rs => rs.map(r => r.status))`, &codes, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if controls != 0 {
		t.Errorf("the analyst's agents page shows %d admin controls", controls)
	}
	if len(codes) != 3 || codes[0] != 403 || codes[1] != 403 || codes[2] != 403 {
		t.Errorf("the analyst's admin POSTs answered %v, want 403 each", codes)
	}
	if _, err := os.Stat(filepath.Join(data, "agents", "ag-10.json")); err == nil {
		t.Error("the analyst enrolled an agent")
	}
}
