package console

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/event"
)

const passingRule = `rule "dump" {
  severity = "high"
  when     = kind == "process.exec" && process.comm == "pg_dump"
}

test "pg_dump" {
  events = [{ kind = "process.exec", process = { comm = "pg_dump" } }]
  expect "dump" { count = 1 }
}
`

// An admin publishes pasted rules for a site: rules that do not compile,
// fail their tests or read an identifier the site's agents do not hash
// are refused naming file:line and nothing is published; rules that pass
// are signed into the site's next bundle, listed with who published it,
// and recorded in the audit log. Uploaded files publish too.
func TestPublishRulesFromTheConsole(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	data := t.TempDir()
	// leeds's agent hashes customers.id only.
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SeenAgent(&event.Event{ID: "hb", Kind: event.KindHeartbeat, Site: "leeds", Host: "ws1", AgentID: "ag-1", BootID: "b1",
		Heartbeat: &event.Heartbeat{IntervalS: 10, Identifiers: []string{"customers.id"}}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	h, err := (&Server{Store: st, DataDir: data}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	admin := as(h, auth.Principal{Name: "root", Role: auth.RoleAdmin, Person: true})

	for name, c := range map[string]struct{ rules, want string }{
		"syntax":     {"rule \"x\" {\n  severity = \n}\n", "on mine.hcl line 2"},
		"test fails": {strings.Replace(passingRule, "count = 1", "count = 2", 1), "FAIL  pg_dump"},
		"identifier": {`threshold "emails" {
  severity = "high"
  when     = kind == "db.query"
  by       = [person]
  distinct = db.identifiers["email"]
  window   = "1h"
  limit    = 100
}
`, "Identifier not hashed by the agents"},
	} {
		w := do(admin, "POST", "/admin/rules", url.Values{"site": {"leeds"}, "name": {"mine.hcl"}, "rules": {c.rules}})
		if w.Code != 400 || !strings.Contains(w.Body.String(), c.want) || !strings.Contains(w.Body.String(), "Not published") {
			t.Errorf("%s: %d, want 400 naming %q:\n%s", name, w.Code, c.want, w.Body)
		}
	}
	if pub, _ := bundles.Published(data); len(pub) != 0 {
		t.Fatalf("refused rules were published: %v", pub)
	}

	w := do(admin, "POST", "/admin/rules", url.Values{"site": {"leeds"}, "name": {"mine.hcl"}, "rules": {passingRule}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Published bundle <b>1</b> for site leeds") {
		t.Fatalf("publish: %d\n%s", w.Code, w.Body)
	}
	list, err := api.SiteBundles(context.Background(), st, data)
	if err != nil || len(list.Bundles) != 1 || list.Bundles[0].Version != 1 || list.Bundles[0].PublishedBy != "root" ||
		list.Bundles[0].Files[0] != "mine.hcl" {
		t.Fatalf("bundles after publishing: %+v, %v", list, err)
	}
	if log, _ := st.AuditLog(context.Background(), "bundle:leeds", 0); len(log) != 1 || log[0].Action != "rules_publish" ||
		!strings.HasPrefix(log[0].Detail, "version 1 hash ") {
		t.Errorf("audit: %+v", log)
	}

	// Uploaded, for every site: the next version.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("site", "*")
	fw, _ := mw.CreateFormFile("files", "dumps.hcl")
	_, _ = fw.Write([]byte(passingRule))
	mw.Close()
	r := httptest.NewRequest("POST", "/admin/rules", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	rw := httptest.NewRecorder()
	admin.ServeHTTP(rw, r)
	if rw.Code != http.StatusOK || !strings.Contains(rw.Body.String(), "Published bundle <b>2</b> for every site") {
		t.Fatalf("upload: %d\n%s", rw.Code, rw.Body)
	}
	page := do(admin, "GET", "/admin/rules", nil).Body.String()
	for _, want := range []string{`<tr class="bundle" data-site="*"><td>*</td><td class="version">2</td>`, `<td class="by">root</td>`, "dumps.hcl"} {
		if !strings.Contains(page, want) {
			t.Errorf("the rules page lacks %q", want)
		}
	}
}
