package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilhq/vigil/collector/ocsf"
	"github.com/vigilhq/vigil/collector/store"
)

// A Sink takes one finding at a time. An error wrapping ErrRejected means
// the receiver refused this finding for good (it is counted and skipped);
// any other error is retried.
type Sink interface {
	// Name names the output in metrics, logs and the store's cursor.
	Name() string
	Send(ctx context.Context, f *ocsf.DetectionFinding, body []byte) error
	Close() error
}

// ErrRejected marks a finding the receiver will never accept as it is.
var ErrRejected = errors.New("rejected by the receiver")

// Options configure a Forwarder.
type Options struct {
	Store *store.Store
	Sinks []Sink
	// Wake is signalled when alerts are stored (nil: the Forwarder polls).
	Wake func() <-chan struct{}
	// EvidenceWait is how long a finding waits for its evidence events.
	// Zero: 30 s.
	EvidenceWait time.Duration
	// Poll bounds how long an output waits without a wake-up, so findings
	// waiting for evidence are looked at again. Zero: 2 s.
	Poll time.Duration
	// Retry is the first retry's delay after a failed delivery; later
	// ones double up to five minutes. Zero: 1 s.
	Retry time.Duration
	// FromStart delivers alerts stored before an output was first
	// configured; by default a new output starts with the next alert.
	FromStart bool
	// Metrics registers the delivery counters (nil: none).
	Metrics prometheus.Registerer
	Logger  *slog.Logger
	Now     func() time.Time
}

// Forwarder runs every output.
type Forwarder struct {
	o Options
	m *deliveryMetrics
	// stepped, if set, is called after each look at an output's alerts
	// (tests wait on it).
	stepped func(output string)
}

// New returns a Forwarder over opts.
func New(opts Options) (*Forwarder, error) {
	if opts.EvidenceWait == 0 {
		opts.EvidenceWait = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll == 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Retry == 0 {
		opts.Retry = time.Second
	}
	seen := map[string]bool{}
	for _, s := range opts.Sinks {
		if seen[s.Name()] {
			return nil, fmt.Errorf("two outputs are named %q", s.Name())
		}
		seen[s.Name()] = true
	}
	m, err := newMetrics(opts.Metrics, opts.Sinks)
	if err != nil {
		return nil, err
	}
	return &Forwarder{o: opts, m: m}, nil
}

// Run delivers until ctx ends, each output on its own so that one
// receiver's outage holds back no other.
func (fw *Forwarder) Run(ctx context.Context) {
	done := make(chan struct{}, len(fw.o.Sinks))
	for _, s := range fw.o.Sinks {
		go func() {
			defer func() { done <- struct{}{} }()
			(&output{fw: fw, sink: s}).run(ctx)
		}()
	}
	for range fw.o.Sinks {
		<-done
	}
	for _, s := range fw.o.Sinks {
		if err := s.Close(); err != nil {
			fw.o.Logger.Warn("closing output", "output", s.Name(), "err", err)
		}
	}
}

// render is the finding of alert n, or why it cannot be rendered yet.
func (fw *Forwarder) render(ctx context.Context, a store.Alert) (*ocsf.DetectionFinding, []byte, bool, error) {
	d, err := fw.o.Store.AlertByID(ctx, a.Event.ID)
	if err != nil {
		return nil, nil, false, err
	}
	if len(d.Missing) > 0 && fw.o.Now().Sub(a.Received) < fw.o.EvidenceWait {
		return nil, nil, false, nil // its evidence may still come
	}
	f := ocsf.Finding(d.Event, d.Evidence, d.Missing)
	b, err := json.Marshal(f)
	if err != nil {
		return nil, nil, false, fmt.Errorf("encoding the finding of alert %s: %w", a.Event.ID, err)
	}
	return f, b, true, nil
}
