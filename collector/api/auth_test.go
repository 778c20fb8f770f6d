package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// request fetches path with token ("" sends none) and returns the status.
func request(t *testing.T, hs *httptest.Server, path, token string) int {
	t.Helper()
	req, err := http.NewRequest("GET", hs.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Nothing but /healthz answers without a token; a token reads what its role
// allows; a revoked token stops working at once.
func TestEveryPathNeedsAToken(t *testing.T) {
	s, hs := newServer(t)
	paths := []string{"/api/alerts", "/api/alerts/al-1", "/api/cases", "/api/cases/al-1", "/api/agents", "/api/loss", "/api/ocsf", "/api/bundles", "/metrics", "/api/nothing", "/"}
	for _, p := range paths {
		for _, tok := range []string{"", "vgl_0000", "Basic x"} {
			if code := request(t, hs, p, tok); code != http.StatusUnauthorized {
				t.Errorf("%s with token %q: %d, want 401", p, tok, code)
			}
		}
	}
	if code := request(t, hs, "/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz without a token: %d", code)
	}
	scraper, err := s.Auth.Add("prometheus", "metrics")
	if err != nil {
		t.Fatal(err)
	}
	if code := request(t, hs, "/metrics", scraper); code != http.StatusOK {
		t.Errorf("/metrics with a metrics token: %d", code)
	}
	if code := request(t, hs, "/api/alerts", scraper); code != http.StatusForbidden {
		t.Errorf("/api/alerts with a metrics token: %d, want 403", code)
	}
	analyst, err := s.Auth.Add("ana", "soc")
	if err != nil {
		t.Fatal(err)
	}
	if code := request(t, hs, "/api/alerts", analyst); code != http.StatusOK {
		t.Errorf("/api/alerts with a soc token: %d", code)
	}
	if err := s.Auth.Revoke("ana"); err != nil {
		t.Fatal(err)
	}
	if code := request(t, hs, "/api/alerts", analyst); code != http.StatusUnauthorized {
		t.Errorf("/api/alerts with a revoked token: %d, want 401", code)
	}
}

// Without a token store the API answers nothing but /healthz.
func TestNoTokensNoAPI(t *testing.T) {
	s, _ := newServer(t)
	bare := httptest.NewServer((&Server{Store: s.Store, Hub: NewHub()}).Handler())
	defer bare.Close()
	if code := request(t, bare, "/api/alerts", adminToken); code != http.StatusServiceUnavailable {
		t.Errorf("/api/alerts without a token store: %d, want 503", code)
	}
	if code := request(t, bare, "/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
}
