package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/internal/testproc"
)

// collector is vigil-collector with its embedded NATS server.
type collector struct {
	*testproc.Collector
}

// startCollector starts the site's collector; niced, it stands in for a
// collector on another machine: it gets only the CPU the workload leaves,
// and what it still takes counts against the agent.
func (b *bench) startCollector(niced bool) (*collector, error) {
	o := testproc.CollectorOptions{Bin: filepath.Join(b.bin, "vigil-collector"), Data: filepath.Join(b.site, "collector"),
		NATSPort: b.natsPort, Args: []string{"--rules", b.packs(), "--host-rules", b.packs()},
		OwnProcessGroup: true, Log: filepath.Join(b.site, "collector.log")}
	if niced {
		o.Nice = 19
	}
	c, err := testproc.StartCollector(b.ctx, o)
	if err != nil {
		return nil, err
	}
	return &collector{c}, nil
}

func (c *collector) stop() {
	if c != nil {
		stop(c.Proc, syscall.SIGTERM, 30*time.Second)
	}
}

// counters are the collector's message and loss counters.
type counters struct {
	stored float64
	lost   map[string]float64
}

func (c counters) lostTotal() float64 {
	t := 0.0
	for _, v := range c.lost {
		t += v
	}
	return t
}

var metricRe = regexp.MustCompile(`^(vigil_collector_messages_total|vigil_collector_lost_events_total)\{(?:result|reason)="([^"]*)"\} ([0-9.e+]+)$`)

func (c *collector) counters() (counters, error) {
	resp, err := c.Get(context.Background(), "/metrics")
	if err != nil {
		return counters{}, err
	}
	defer resp.Body.Close()
	out := counters{lost: map[string]float64{}}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := metricRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[3], 64)
		switch {
		case m[1] == "vigil_collector_messages_total" && (m[2] == "stored" || m[2] == "duplicate"):
			out.stored += v
		case m[1] == "vigil_collector_lost_events_total":
			out.lost[m[2]] += v
		}
	}
	return out, sc.Err()
}

// drain waits until the collector has stored nothing new for quiet, or
// until limit; it returns the counters then and how long it waited.
func (b *bench) drain(c *collector, quiet, limit time.Duration) (counters, time.Duration, error) {
	start := time.Now()
	last, err := c.counters()
	if err != nil {
		return last, 0, err
	}
	lastChange := time.Now()
	for time.Since(start) < limit {
		if err := sleep(b.ctx, 200*time.Millisecond); err != nil {
			return last, time.Since(start), err
		}
		now, err := c.counters()
		if err != nil {
			return last, time.Since(start), err
		}
		if now.stored != last.stored || now.lostTotal() != last.lostTotal() {
			last, lastChange = now, time.Now()
		} else if time.Since(lastChange) >= quiet {
			return now, lastChange.Sub(start), nil
		}
	}
	return last, time.Since(start), nil
}

// alert is what /api/alerts returns, as far as the bench needs it.
type alert struct {
	N        int64     `json:"n"`
	Received time.Time `json:"received"`
	Event    struct {
		Time    time.Time `json:"time"`
		Process struct {
			PID int `json:"pid"`
		} `json:"process"`
		Alert struct {
			Rule string `json:"rule"`
		} `json:"alert"`
	} `json:"event"`
	seen time.Time // when the bench's poll returned it
}

func (c *collector) alertsAfter(ctx context.Context, after int64, rule string, wait time.Duration) ([]alert, error) {
	resp, err := c.Get(ctx, fmt.Sprintf("/api/alerts?after=%d&rule=%s&wait=%s", after, rule, wait))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("/api/alerts: %s: %s", resp.Status, b)
	}
	var list []alert
	return list, json.NewDecoder(resp.Body).Decode(&list)
}
