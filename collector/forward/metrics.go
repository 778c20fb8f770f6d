package forward

import (
	"github.com/prometheus/client_golang/prometheus"
)

// deliveryMetrics account for every output's deliveries.
type deliveryMetrics struct {
	delivered, failed, rejected *prometheus.CounterVec
	pending, lastSuccess        *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, sinks []Sink) (*deliveryMetrics, error) {
	m := &deliveryMetrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_collector_output_delivered_total",
			Help: "Findings an output delivered."}, []string{"output"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_collector_output_failures_total",
			Help: "Delivery attempts that failed and will be retried."}, []string{"output"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_collector_output_rejected_total",
			Help: "Findings the receiver refused for good, skipped."}, []string{"output"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_collector_output_pending",
			Help: "Alerts waiting for an output (up to one page)."}, []string{"output"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_collector_output_last_success_timestamp_seconds",
			Help: "When an output last delivered a finding."}, []string{"output"}),
	}
	for _, s := range sinks {
		for _, v := range []*prometheus.CounterVec{m.delivered, m.failed, m.rejected} {
			v.WithLabelValues(s.Name())
		}
		m.pending.WithLabelValues(s.Name())
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.delivered, m.failed, m.rejected, m.pending, m.lastSuccess} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
