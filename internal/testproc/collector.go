package testproc

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CollectorOptions describe one vigil-collector process.
type CollectorOptions struct {
	// Bin is the vigil-collector binary.
	Bin  string
	Data string
	// NATSPort is where the embedded NATS server listens on 127.0.0.1.
	NATSPort int
	// Args follow the flags above, so they can override them.
	Args []string
	// Nice runs the collector under nice -n Nice when above 0.
	Nice int
	// OwnProcessGroup keeps a terminal's Ctrl-C from reaching the
	// collector, so that the program that started it stops it in order.
	OwnProcessGroup bool
	Log             string
	// Wait bounds the wait for /healthz (default a minute).
	Wait time.Duration
}

// Collector is a running vigil-collector.
type Collector struct {
	*Proc
	API  string // http://127.0.0.1:port
	NATS string // the embedded NATS server's URL
	Data string
}

// StartCollector runs vigil-collector with its API on a free port and
// returns once /healthz answers.
func StartCollector(ctx context.Context, o CollectorOptions) (*Collector, error) {
	httpPort, err := FindFreePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"run", "--data", o.Data, "--nats-listen", fmt.Sprintf("127.0.0.1:%d", o.NATSPort),
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort)}, o.Args...)
	cmd := exec.Command(o.Bin, args...)
	if o.Nice > 0 {
		cmd = exec.Command("nice", append([]string{"-n", strconv.Itoa(o.Nice), o.Bin}, args...)...)
	}
	if o.OwnProcessGroup {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	p, err := Start(cmd, o.Log)
	if err != nil {
		return nil, err
	}
	p.Name = "vigil-collector"
	c := &Collector{Proc: p, API: fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		NATS: fmt.Sprintf("nats://127.0.0.1:%d", o.NATSPort), Data: o.Data}
	if err := p.WaitFor(ctx, cmp.Or(o.Wait, time.Minute), c.healthy); err != nil {
		p.Stop(syscall.SIGTERM, stopGrace)
		return nil, err
	}
	return c, nil
}

var healthClient = &http.Client{Timeout: 5 * time.Second}

func (c *Collector) healthy() error {
	resp, err := healthClient.Get(c.API + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz: %s", resp.Status)
	}
	return nil
}

// Get asks the collector's API for path with its admin token, the one a
// first start writes to the data directory.
func (c *Collector) Get(ctx context.Context, path string) (*http.Response, error) {
	tok, err := os.ReadFile(filepath.Join(c.Data, "api-token"))
	if err != nil {
		return nil, fmt.Errorf("reading the collector's admin token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.API+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	return http.DefaultClient.Do(req)
}
