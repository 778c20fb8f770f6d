package metrics

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilhq/vigil/collector/liveness"
)

// fleet exports every agent's last heartbeat as gauges, read at scrape
// time, so a dashboard shows the fleet's health without a store query.
type fleet struct {
	health                                                          func() []liveness.Health
	now                                                             func() time.Time
	up, age, skew, spool, spoolDropped, kernelDrops, cpu, rss, info *prometheus.Desc
}

func newFleet(health func() []liveness.Health) *fleet {
	l := []string{"agent_id", "site", "host"}
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string(nil), l...), extra...), nil)
	}
	return &fleet{health: health, now: time.Now,
		up:           d("vigil_agent_up", "1 while the agent's heartbeats arrive, 0 when it is silent or stopped.", "status"),
		age:          d("vigil_agent_last_heartbeat_age_seconds", "Seconds since the agent's last heartbeat."),
		skew:         d("vigil_agent_clock_skew_seconds", "The agent's clock less the collector's as its last heartbeat arrived (delivery delay counts as behind): rules' windows and event times are the agent's."),
		spool:        d("vigil_agent_spool_depth", "Events waiting in the agent's spool."),
		spoolDropped: d("vigil_agent_spool_dropped", "Events the agent's full spool dropped since it started."),
		kernelDrops:  d("vigil_agent_kernel_drops", "Records the agent's sensors dropped in the kernel since it started, by sensor.", "sensor"),
		cpu:          d("vigil_agent_cpu_ratio", "The agent's share of the host's CPU over its last heartbeat interval (1 = every core)."),
		rss:          d("vigil_agent_rss_bytes", "The agent's resident memory."),
		info:         d("vigil_agent_info", "The agent's version, kernel and host rule set, as labels.", "version", "kernel", "rule_set"),
	}
}

// Describe implements prometheus.Collector.
func (f *fleet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.up, f.age, f.skew, f.spool, f.spoolDropped, f.kernelDrops, f.cpu, f.rss, f.info} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (f *fleet) Collect(ch chan<- prometheus.Metric) {
	now := f.now()
	for _, h := range f.health() {
		l := []string{h.AgentID, h.Site, h.Host}
		up := 0.0
		if h.Status == "ok" {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(f.up, prometheus.GaugeValue, up, append(l, h.Status)...)
		ch <- prometheus.MustNewConstMetric(f.age, prometheus.GaugeValue, now.Sub(h.LastHeartbeat).Seconds(), l...)
		hb := h.Heartbeat
		if hb == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(f.skew, prometheus.GaugeValue, h.ClockSkew.Seconds(), l...)
		ch <- prometheus.MustNewConstMetric(f.spool, prometheus.GaugeValue, float64(hb.SpoolDepth), l...)
		ch <- prometheus.MustNewConstMetric(f.spoolDropped, prometheus.GaugeValue, float64(hb.SpoolDropped), l...)
		for sensor, n := range hb.KernelDrops {
			ch <- prometheus.MustNewConstMetric(f.kernelDrops, prometheus.GaugeValue, float64(n), append(l, sensor)...)
		}
		ch <- prometheus.MustNewConstMetric(f.cpu, prometheus.GaugeValue, hb.CPUPercent/100, l...)
		ch <- prometheus.MustNewConstMetric(f.rss, prometheus.GaugeValue, float64(hb.RSSBytes), l...)
		ch <- prometheus.MustNewConstMetric(f.info, prometheus.GaugeValue, 1, append(l, hb.Version, hb.KernelVersion, hb.RuleSetHash)...)
	}
}

// WatchFleet exports health's agents on every scrape.
func (m *Metrics) WatchFleet(health func() []liveness.Health) error {
	return m.Registry.Register(newFleet(health))
}

// SetBuildInfo exports vigil_build_info with the collector's version.
func (m *Metrics) SetBuildInfo(version string) error {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_build_info",
		Help: "The running collector's version and Go version, as labels; always 1."}, []string{"component", "version", "goversion"})
	g.WithLabelValues("collector", version, runtime.Version()).Set(1)
	return m.Registry.Register(g)
}
