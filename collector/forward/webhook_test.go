package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/collector/ocsf"
)

// hook is a webhook receiver that checks signatures as a SIEM would and
// answers with the statuses it is given, then 200.
type hook struct {
	mu       sync.Mutex
	secret   []byte
	statuses []int
	got      []string // deliveries accepted
	bad      []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, _ := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get(HeaderSignature) != Sign(h.secret, ts, body) || r.Header.Get("Content-Type") != "application/json" {
		h.bad = append(h.bad, r.Header.Get(HeaderDelivery))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if len(h.statuses) > 0 {
		s := h.statuses[0]
		h.statuses = h.statuses[1:]
		if s != http.StatusOK {
			http.Error(w, "not now", s)
			return
		}
	}
	h.got = append(h.got, r.Header.Get(HeaderDelivery))
}

func finding(uid string) (*ocsf.DetectionFinding, []byte) {
	return &ocsf.DetectionFinding{FindingInfo: ocsf.FindingInfo{UID: uid}}, []byte(`{"finding_info":{"uid":"` + uid + `"}}`)
}

// 2xx delivers; a receiver refusing the finding itself rejects it; other
// failures (5xx, 408, 429, a wrong URL or secret) are retried.
func TestWebhookStatuses(t *testing.T) {
	h := &hook{secret: []byte("0123456789abcdef0123")}
	srv := httptest.NewServer(h)
	defer srv.Close()
	s, err := NewWebhookSink(srv.URL, h.secret, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status            int
		retried, rejected bool
	}{{200, false, false}, {503, true, false}, {429, true, false}, {408, true, false}, {404, true, false},
		{400, false, true}, {413, false, true}, {422, false, true}} {
		h.statuses = []int{tc.status}
		f, body := finding(fmt.Sprint("f-", tc.status))
		err := s.Send(context.Background(), f, body)
		switch {
		case tc.status == 200 && err != nil:
			t.Errorf("200: %v", err)
		case tc.retried && (err == nil || isRejected(err)):
			t.Errorf("%d: %v, want a retryable error", tc.status, err)
		case tc.rejected && !isRejected(err):
			t.Errorf("%d: %v, want a rejection", tc.status, err)
		}
	}
	wrong, _ := NewWebhookSink(srv.URL, []byte("not-the-secret-at-all"), time.Second)
	f, body := finding("forged")
	if err := wrong.Send(context.Background(), f, body); err == nil || isRejected(err) || len(h.bad) != 1 || h.bad[0] != "forged" {
		t.Errorf("wrong secret: %v (want retried), receiver refused %v", err, h.bad)
	}
	if _, err := NewWebhookSink(srv.URL, []byte("short"), time.Second); err == nil {
		t.Error("a 5-byte secret accepted")
	}
}

func isRejected(err error) bool { return errors.Is(err, ErrRejected) }

// Through the forwarder, a webhook down for a while gets every finding in
// order once it is back, each signed.
func TestWebhookOutage(t *testing.T) {
	h := &hook{secret: []byte("0123456789abcdef0123"), statuses: []int{502, 502, 503}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	st := openStore(t)
	s, err := NewWebhookSink(srv.URL, h.secret, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	run(t, Options{Store: st, Sinks: []Sink{s}, FromStart: true})
	for i := 1; i <= 3; i++ {
		put(t, st, i, false, t0)
	}
	waitFor(t, func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if fmt.Sprint(h.got) != "[a-1 a-2 a-3]" || len(h.bad) != 0 {
			return fmt.Errorf("accepted %v, bad signatures %v", h.got, h.bad)
		}
		return nil
	})
}
