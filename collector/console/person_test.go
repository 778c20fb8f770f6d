package console

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/auth"
)

// A person's page shows their alerts, their cases and their events per
// day and kind over the last 14 days; someone else's page shows none of
// them.
func TestPersonPage(t *testing.T) {
	st, _ := serve(t, auth.Principal{})
	h, err := (&Server{Store: st, Now: func() time.Time { return time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC) }}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	w := do(h, "GET", "/people/mona", nil)
	page := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("mona's page: %d %s", w.Code, page)
	}
	for _, want := range []string{`href="/alerts/al-1"`, `href="/cases/al-1"`, "<th>db.query</th>", `data-day="2026-01-06"`, `data-day="2025-12-24"`} {
		if !strings.Contains(page, want) {
			t.Errorf("mona's page lacks %q", want)
		}
	}
	if strings.Contains(page, `data-day="2025-12-23"`) {
		t.Error("mona's page shows a 15th day")
	}
	if !regexp.MustCompile(`data-day="2026-01-05"><td>2026-01-05</td><td class="count">1</td>`).MatchString(page) {
		t.Errorf("mona's page does not count her query on the 5th:\n%s", page)
	}
	w = do(h, "GET", "/people/ali", nil)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "al-1") || strings.Contains(w.Body.String(), "<th>db.query</th>") {
		t.Errorf("ali's page shows mona's: %d\n%s", w.Code, w.Body)
	}
}
