package browser

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/collector/api"
)

// Each admin POST of the console, and the charts' data, through the
// collector's real guard: without credentials a browser is sent to sign
// in, an analyst's token is refused (403), an admin's gets through; a
// cross-site POST is refused even with an admin's credentials.
func TestAdminPostsNeedAnAdmin(t *testing.T) {
	dir := t.TempDir()
	var srv *api.Server
	_, hs, _ := collectorHTTPWith(t, dir, func(s *api.Server) { srv = s })
	analyst, err := srv.Auth.Add("ana", "analyst")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := srv.Auth.Add("root", "admin")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path, token, origin string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(url.Values{"action": {"revoke"}, "agent_id": {"ag-1"}, "site": {"leeds"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	for _, c := range []struct{ method, path string }{{"POST", "/admin/agents"}, {"POST", "/admin/rules"}, {"GET", "/admin/rules"}} {
		if code, loc := send(c.method, c.path, "", ""); code != http.StatusSeeOther || loc != "/login" {
			t.Errorf("%s %s without credentials: %d to %q, want a redirect to /login", c.method, c.path, code, loc)
		}
		if code, _ := send(c.method, c.path, analyst, ""); code != http.StatusForbidden {
			t.Errorf("%s %s as an analyst: %d, want 403", c.method, c.path, code)
		}
		// An admin gets through: to the page, or to be told what is wrong
		// with the form (no rules) or that this collector enrols no agents.
		if code, _ := send(c.method, c.path, admin, ""); code != http.StatusOK && code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("%s %s as an admin: %d", c.method, c.path, code)
		}
	}
	for _, path := range []string{"/admin/agents", "/admin/rules"} {
		if code, _ := send("POST", path, admin, "https://evil.example"); code != http.StatusForbidden {
			t.Errorf("a cross-site POST %s: %d, want 403", path, code)
		}
	}
	if code, _ := send("GET", "/alerts/charts", "", ""); code != http.StatusSeeOther {
		t.Errorf("/alerts/charts without credentials: %d", code)
	}
	if code, _ := send("GET", "/alerts/charts", analyst, ""); code != http.StatusOK {
		t.Errorf("/alerts/charts as an analyst: %d", code)
	}
}
