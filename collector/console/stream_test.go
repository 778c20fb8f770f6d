package console

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
)

// The live stream answers only a signed-in person (or a token), behind
// the collector's real guard: without a session it is refused, not
// streamed; with one, each stored alert is an event "change".
func TestStreamNeedsASessionAndTellsOfAlerts(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	dir := t.TempDir()
	tokens, err := auth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	users, err := auth.OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Add("ana", auth.RoleAnalyst, "a secret of her own"); err != nil {
		t.Fatal(err)
	}
	hub, sessions := api.NewHub(), auth.NewSessions()
	c, err := (&Server{Store: st, Users: users, Sessions: sessions, Hub: hub}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer((&api.Server{Auth: tokens, Users: users, Sessions: sessions, Console: c, Store: st, Hub: hub}).Handler())
	defer hs.Close()
	client := hs.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for _, cookie := range []*http.Cookie{nil, {Name: auth.CookieName, Value: strings.Repeat("0", 64)}} {
		req, _ := http.NewRequest("GET", hs.URL+"/alerts/stream", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Errorf("the stream with cookie %v: %d %s, want a refusal", cookie, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}

	rec := httptest.NewRecorder()
	if err := sessions.Start(rec, "ana"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", hs.URL+"/alerts/stream", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("the stream with ana's session: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(10 * time.Second):
			return "(nothing for 10s)"
		}
	}
	var head []string
	for range 3 {
		head = append(head, next())
	}
	if strings.Join(head, "|") != "retry: 1000|: live|" {
		t.Fatalf("the stream begins %q", head)
	}
	// The stream waits on the hub from before its first lines: a
	// notification once they are read is seen.
	hub.Notify()
	if l := next(); l != "event: change" {
		t.Errorf("after a stored alert the stream says %q", l)
	}
}
