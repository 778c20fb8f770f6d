package forward

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/vigilhq/vigil/collector/ocsf"
)

// facilityLocal0 is the facility findings are sent under (16: local0).
const facilityLocal0 = 16

// syslogSeverity maps OCSF severity ids to syslog severities: critical to
// crit (2), high to err (3), medium to warning (4), low to notice (5),
// informational to info (6).
var syslogSeverity = map[int]uint8{5: 2, 4: 3, 3: 4, 2: 5, 1: 6}

// SyslogSink sends each finding as an RFC 5424 message, its MSG the
// finding's JSON: over TCP or TLS with octet-counting framing (RFC 6587),
// or over UDP, one datagram each. Syslog has no acknowledgements: a
// finding written just as the receiver goes away can be lost; the webhook
// output is the one to use where every finding must be confirmed.
type SyslogSink struct {
	network, addr string
	tls           *tls.Config
	host          string
	conn          net.Conn
	timeout       time.Duration
}

// NewSyslogSink sends to target, "tcp://host:port", "tls://host:port" or
// "udp://host:port".
func NewSyslogSink(target string, tlsConfig *tls.Config, timeout time.Duration) (*SyslogSink, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("syslog target %q: want tcp://, tls:// or udp://host:port", target)
	}
	switch u.Scheme {
	case "tcp", "udp", "tls":
	default:
		return nil, fmt.Errorf("syslog target %q: scheme %q; want tcp, tls or udp", target, u.Scheme)
	}
	host, _ := os.Hostname()
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return &SyslogSink{network: u.Scheme, addr: u.Host, tls: tlsConfig, host: host, timeout: timeout}, nil
}

// Name implements Sink.
func (s *SyslogSink) Name() string { return "syslog" }

// Message is the RFC 5424 message of a finding.
func (s *SyslogSink) Message(f *ocsf.DetectionFinding, body []byte) (string, error) {
	sev, ok := syslogSeverity[f.SeverityID]
	if !ok {
		sev = 5
	}
	m := &rfc5424.SyslogMessage{}
	m.SetPriority(facilityLocal0*8 + sev)
	m.SetVersion(1)
	m.SetTimestamp(time.UnixMilli(f.Time).UTC().Format(time.RFC3339Nano))
	m.SetHostname(s.host)
	m.SetAppname("vigil-collector")
	m.SetProcID(strconv.Itoa(os.Getpid()))
	m.SetMsgID("ocsf-2004")
	m.SetMessage(string(body))
	return m.String()
}

// Send implements Sink. A broken connection is dropped and the finding
// retried on a new one.
func (s *SyslogSink) Send(ctx context.Context, f *ocsf.DetectionFinding, body []byte) error {
	msg, err := s.Message(f, body)
	if err != nil {
		return fmt.Errorf("%w: building the syslog message: %w", ErrRejected, err)
	}
	if s.conn != nil && s.network != "udp" && !alive(s.conn) {
		// The receiver closed it (a restart): a write would still be
		// accepted by the kernel and then lost.
		s.conn.Close()
		s.conn = nil
	}
	if s.conn == nil {
		if err := s.dial(ctx); err != nil {
			return err
		}
	}
	frame := []byte(msg)
	if s.network != "udp" {
		frame = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.conn.Write(frame); err != nil {
		s.conn.Close()
		s.conn = nil
		return fmt.Errorf("writing to syslog %s: %w", s.addr, err)
	}
	return nil
}

// alive says whether a stream connection is still open: a receiver never
// writes, so a read that does not time out at once means it closed.
func alive(c net.Conn) bool {
	if err := c.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return false
	}
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *SyslogSink) dial(ctx context.Context) error {
	d := &net.Dialer{Timeout: s.timeout}
	var err error
	switch s.network {
	case "tls":
		s.conn, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	default:
		s.conn, err = d.DialContext(ctx, s.network, s.addr)
	}
	if err != nil {
		s.conn = nil
		return fmt.Errorf("connecting to syslog %s: %w", s.addr, err)
	}
	return nil
}

// Close implements Sink.
func (s *SyslogSink) Close() error {
	if s.conn == nil {
		return nil
	}
	return s.conn.Close()
}
