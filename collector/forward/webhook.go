package forward

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/collector/ocsf"
)

// Webhook headers. The signature covers the timestamp and the body, so a
// receiver that checks it (and the timestamp's age) knows the finding came
// from this collector and was not replayed.
const (
	HeaderSignature = "X-Vigil-Signature" // "sha256=" + hex HMAC-SHA256 of "<timestamp>.<body>"
	HeaderTimestamp = "X-Vigil-Timestamp" // Unix seconds when sent
	HeaderDelivery  = "X-Vigil-Delivery"  // the finding's uid, the same on every retry
)

// WebhookSink POSTs each finding as JSON to a URL.
type WebhookSink struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// NewWebhookSink posts to url, signing with secret (at least 16 bytes).
func NewWebhookSink(url string, secret []byte, timeout time.Duration) (*WebhookSink, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("webhook secret is %d bytes; it needs at least 16", len(secret))
	}
	return &WebhookSink{url: url, secret: secret, client: &http.Client{Timeout: timeout}, now: time.Now}, nil
}

// Sign is the signature of body sent at unix time ts, as HeaderSignature
// carries it.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Name implements Sink.
func (s *WebhookSink) Name() string { return "webhook" }

// Send implements Sink: 2xx is delivered. A receiver that refuses the
// finding itself (400, 413, 415, 422) rejects it for good; anything else,
// a wrong secret or URL included, is retried, since fixing the
// configuration should deliver what waited.
func (s *WebhookSink) Send(ctx context.Context, f *ocsf.DetectionFinding, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil-collector")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(s.secret, ts, body))
	req.Header.Set(HeaderDelivery, f.FindingInfo.UID)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("posting to the webhook: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusBadRequest || c == http.StatusRequestEntityTooLarge || c == http.StatusUnsupportedMediaType ||
		c == http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: webhook answered %s: %s", ErrRejected, resp.Status, bytes.TrimSpace(msg))
	default:
		return fmt.Errorf("webhook answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
}

// Close implements Sink.
func (s *WebhookSink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}
