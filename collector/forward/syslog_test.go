package forward

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/octetcounting"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/vigilhq/vigil/collector/ocsf"
)

// tcpSyslog is a syslog receiver reading octet-counted RFC 5424 frames
// with a well-kept parser; drop closes the first connection after one
// message, as a restarting receiver would.
type tcpSyslog struct {
	ln     net.Listener
	mu     sync.Mutex
	msgs   []*rfc5424.SyslogMessage
	errs   []error
	conns  int
	closed bool // the first connection was closed by the receiver
}

func newTCPSyslog(t *testing.T, drop bool) *tcpSyslog {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpSyslog{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns++
			first := r.conns == 1
			r.mu.Unlock()
			go func() {
				defer c.Close()
				n := 0
				octetcounting.NewParser(syslog.WithBestEffort(), syslog.WithListener(func(res *syslog.Result) {
					r.mu.Lock()
					defer r.mu.Unlock()
					if res.Error != nil {
						r.errs = append(r.errs, res.Error)
						return
					}
					r.msgs = append(r.msgs, res.Message.(*rfc5424.SyslogMessage))
					n++
					if drop && first && n == 1 {
						c.Close()
						r.closed = true
					}
				})).Parse(bufio.NewReader(c))
			}()
		}
	}()
	return r
}

func (r *tcpSyslog) uids(t *testing.T) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		var f ocsf.DetectionFinding
		if err := json.Unmarshal([]byte(*m.Message), &f); err != nil {
			t.Errorf("message is not a finding: %v", err)
		}
		out = append(out, f.FindingInfo.UID)
	}
	return out
}

// Messages are RFC 5424 with octet counting over TCP, the finding as MSG,
// the severity mapped; a receiver that closes the connection gets the next
// finding on a new one, nothing lost.
func TestSyslogTCP(t *testing.T) {
	r := newTCPSyslog(t, true)
	s, err := NewSyslogSink("tcp://"+r.ln.Addr().String(), nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	run(t, Options{Store: st, Sinks: []Sink{s}, FromStart: true})
	put(t, st, 1, false, t0)
	waitFor(t, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.msgs) != 1 || !r.closed {
			return fmt.Errorf("%d messages, first connection closed %v", len(r.msgs), r.closed)
		}
		return nil
	})
	put(t, st, 2, false, t0)
	put(t, st, 3, false, t0)
	waitFor(t, func() error {
		if got := fmt.Sprint(r.uids(t)); got != "[a-1 a-2 a-3]" {
			return fmt.Errorf("received %s", got)
		}
		return nil
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs[0]
	if *m.Severity != 3 || *m.Facility != facilityLocal0 || *m.Appname != "vigil-collector" || *m.MsgID != "ocsf-2004" || m.Version != 1 ||
		!m.Timestamp.Equal(t0) || len(r.errs) != 0 || r.conns < 2 {
		t.Errorf("message %+v, errors %v, %d connections (want a reconnect)", m.Base, r.errs, r.conns)
	}
}

// Over UDP each finding is one datagram a RFC 5424 parser accepts.
func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := NewSyslogSink("udp://"+pc.LocalAddr().String(), nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, body := finding("u-1")
	f.SeverityID = 5
	if err := s.Send(context.Background(), f, body); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rfc5424.NewParser().Parse(buf[:n])
	if err != nil {
		t.Fatalf("datagram %q: %v", buf[:n], err)
	}
	if sm := m.(*rfc5424.SyslogMessage); *sm.Severity != 2 || *sm.Message != string(body) {
		t.Errorf("datagram %+v", sm.Base)
	}
}

func TestSyslogTargets(t *testing.T) {
	for _, bad := range []string{"", "syslog.example:514", "http://x:1", "tcp://"} {
		if _, err := NewSyslogSink(bad, nil, time.Second); err == nil {
			t.Errorf("target %q accepted", bad)
		}
	}
}
