package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the collector's counters, registered on Registry.
type Metrics struct {
	Registry *prometheus.Registry
	// Messages counts messages read from JetStream by result: stored,
	// duplicate, heartbeat, malformed, oversized, rejected.
	Messages *prometheus.CounterVec
	// Alerts counts stored alerts by rule, severity and source (host,
	// correlation, liveness).
	Alerts *prometheus.CounterVec
	// Lost counts events agents lost, by reason (seq_gap, spool_full, ...).
	Lost *prometheus.CounterVec
	// Batches and BatchSeconds time the store transactions.
	BatchSeconds     prometheus.Histogram
	StoreErrors      prometheus.Counter
	Agents           *prometheus.GaugeVec
	RuleReloadErrors prometheus.CounterFunc
	// Attributions counts server-side statements judged by the join with
	// their client ends, by status and reason (attribute package).
	Attributions *prometheus.CounterVec
	// AttributionHeld and AttributionConns are the statements waiting for
	// their client end and the client ends remembered, now.
	AttributionHeld, AttributionConns prometheus.Gauge
	// AttributionOverflowed counts statements judged before their grace
	// period ended because the queue was full; AttributionEvicted client
	// ends and addresses forgotten early because their table was full.
	AttributionOverflowed, AttributionEvicted prometheus.Counter
}

// New makes and registers the metrics. reloadErrors reports refused rule
// reloads (may be nil).
func New(reloadErrors func() float64) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_collector_messages_total",
			Help: "Events read from JetStream (each event of a message carrying several), by result."}, []string{"result"}),
		Alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_collector_alerts_total",
			Help: "Alerts stored, by rule, severity and source."}, []string{"rule", "severity", "source"}),
		Lost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_collector_lost_events_total",
			Help: "Events agents reported or were found to have lost, by reason."}, []string{"reason"}),
		BatchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_collector_batch_seconds",
			Help: "Time to store one batch of messages.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		StoreErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_collector_store_errors_total",
			Help: "Batches the store failed to commit (redelivered later)."}),
		Agents: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_collector_agents",
			Help: "Agents known, by liveness status."}, []string{"status"}),
		Attributions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_collector_attributions_total",
			Help: "Statements read at a database server, judged against their connection's client end, by status and reason."},
			[]string{"status", "reason"}),
		AttributionHeld: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_collector_attribution_held",
			Help: "Server-side statements waiting for their connection's client end to be reported."}),
		AttributionConns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_collector_attribution_connections",
			Help: "Client ends of database connections remembered for the join."}),
		AttributionOverflowed: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_collector_attribution_overflowed_total",
			Help: "Server-side statements judged before their grace period ended because the queue of waiting statements was full."}),
		AttributionEvicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_collector_attribution_evicted_total",
			Help: "Client ends and addresses forgotten before their time because their table was full."}),
	}
	if reloadErrors == nil {
		reloadErrors = func() float64 { return 0 }
	}
	m.RuleReloadErrors = prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigil_collector_rule_reload_errors_total",
		Help: "Correlation rule reloads refused because the files had errors."}, reloadErrors)
	for _, res := range []string{"stored", "duplicate", "heartbeat", "malformed", "oversized", "rejected"} {
		m.Messages.WithLabelValues(res)
	}
	r.MustRegister(m.Messages, m.Alerts, m.Lost, m.BatchSeconds, m.StoreErrors, m.Agents, m.RuleReloadErrors,
		m.Attributions, m.AttributionHeld, m.AttributionConns, m.AttributionOverflowed, m.AttributionEvicted,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchEnrolment exports how many enrolment records the collector could not
// use (unreadable, malformed): each is an agent locked out.
func (m *Metrics) WatchEnrolment(errors func() float64) error {
	return m.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_collector_enrolment_errors",
		Help: "Enrolment records the collector skipped; their agents' keys are refused until fixed (vigil agents list names them)."}, errors))
}

// WatchCheckpoints exports how many times publishing a checkpoint of the
// store's hash chain failed: a checkpoint that never left the host proves
// nothing against someone who controls it.
func (m *Metrics) WatchCheckpoints(failed func() float64) error {
	return m.Registry.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigil_collector_checkpoint_publish_failures_total",
		Help: "Attempts to publish a signed checkpoint of the store's hash chain that failed (retried every interval)."}, failed))
}
