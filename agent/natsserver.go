package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	psnet "github.com/shirou/gopsutil/v3/net"
	"github.com/shirou/gopsutil/v3/process"
)

// NATSServer finds the NATS server the agent publishes to when that server
// runs on this host (a co-hosted collector: make run, a one-box site), so
// the sensors ignore its activity as they ignore the agent's. Everything
// that server writes is the agent's own stream coming back: its JetStream
// store and the collector's database. Reported, each write would be
// published and so written again, for ever.
//
// Connected, given to the publisher, finds the process listening on the
// address the agent connected to; Agent.Run hands it to the sensors. The
// publisher sends nothing on a connection before Connected returns, so the
// server's writes for what the agent sends are never reported.
type NATSServer struct {
	log *slog.Logger
	// listener finds the pid listening on a local address, and uids a
	// process's user ids (test seams).
	listener func(ctx context.Context, addr netip.AddrPort) (int32, error)
	uids     func(pid int32) ([]uint32, error)

	mu  sync.Mutex
	pid uint32
	set pidSetter
}

// pidSetter is the sensors' side (sensor.Set).
type pidSetter interface{ SetNATSServerPID(uint32) error }

// NewNATSServer returns a NATSServer that logs to log.
func NewNATSServer(log *slog.Logger) *NATSServer {
	return &NATSServer{log: log, listener: localListener, uids: processUIDs}
}

// Connected is called with the address of the server the agent has just
// connected (or reconnected) to, and with "" when the connection is lost:
// the pid is then forgotten, since the server may be gone and its pid
// given to another process by the time the agent reconnects.
func (p *NATSServer) Connected(addr string) {
	var pid uint32
	if addr != "" {
		var err error
		if pid, err = p.serverPID(addr); err != nil {
			p.log.Warn("the activity of the NATS server's process stays reported", "server", addr, "err", err)
		}
		if pid != 0 {
			p.log.Info("the NATS server the agent publishes to runs on this host: its activity is not reported", "server", addr, "pid", pid)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if addr == "" && p.pid != 0 {
		p.log.Info("disconnected from the NATS server on this host: its process is reported until the agent reconnects", "pid", p.pid)
	}
	p.pid = pid
	p.apply()
}

// serverPID is the pid of the process listening on addr when addr is on
// this host, that process runs as a system account, and it is not the
// agent itself (a test that embeds the server: the agent's own pid is the
// sensors' business); else 0.
//
// A person's process is never quieted: anyone may listen on the collector's
// port while the collector is down, and the agent, reconnecting, would
// otherwise hide that process's activity.
func (p *NATSServer) serverPID(addr string) (uint32, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return 0, fmt.Errorf("server address %q: %w", addr, err)
	}
	local, err := isLocal(ap.Addr())
	if err != nil || !local {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pid, err := p.listener(ctx, ap)
	if err != nil || pid <= 0 || int(pid) == os.Getpid() {
		return 0, err
	}
	uids, err := p.uids(pid)
	if err != nil {
		return 0, fmt.Errorf("user of pid %d listening on %s: %w", pid, addr, err)
	}
	for _, u := range uids {
		if u >= firstPersonUID {
			return 0, fmt.Errorf("pid %d listening on %s runs as uid %d, not a system account", pid, addr, u)
		}
	}
	return uint32(pid), nil
}

// firstPersonUID is the first uid of people's accounts (UID_MIN in Debian's
// login.defs); system accounts, such as the packaged collector's vigil
// user, are below it.
const firstPersonUID = 1000

// processUIDs returns a process's real, effective, saved and file system
// uids.
func processUIDs(pid int32) ([]uint32, error) {
	pr, err := process.NewProcess(pid)
	if err != nil {
		return nil, err
	}
	ids, err := pr.Uids()
	if err != nil {
		return nil, err
	}
	out := make([]uint32, len(ids))
	for i, u := range ids {
		out[i] = uint32(u)
	}
	return out, nil
}

// current is the pid found so far (0: none).
func (p *NATSServer) current() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// attach hands the sensors the pid found so far, and any found later.
func (p *NATSServer) attach(set pidSetter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.set = set
	p.apply()
}

func (p *NATSServer) apply() {
	if p.set == nil {
		return
	}
	if err := p.set.SetNATSServerPID(p.pid); err != nil {
		p.log.Error("cannot tell the sensors to ignore the NATS server on this host", "pid", p.pid, "err", err)
	}
}

// isLocal reports whether a is a loopback address or one of this host's.
func isLocal(a netip.Addr) (bool, error) {
	a = a.Unmap()
	if a.IsLoopback() {
		return true, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false, fmt.Errorf("listing this host's addresses: %w", err)
	}
	for _, ia := range addrs {
		if n, ok := ia.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == a {
				return true, nil
			}
		}
	}
	return false, nil
}

// localListener finds the process with a TCP socket listening on addr
// (or on every address, at addr's port). 0 when there is none.
func localListener(ctx context.Context, addr netip.AddrPort) (int32, error) {
	conns, err := psnet.ConnectionsWithoutUidsWithContext(ctx, "tcp")
	if err != nil {
		return 0, fmt.Errorf("listing TCP sockets: %w", err)
	}
	want := addr.Addr().Unmap()
	for _, c := range conns {
		if c.Status != "LISTEN" || c.Laddr.Port != uint32(addr.Port()) || c.Pid <= 0 {
			continue
		}
		ip, err := netip.ParseAddr(c.Laddr.IP)
		if err != nil {
			continue
		}
		if ip = ip.Unmap(); ip == want || ip.IsUnspecified() {
			return c.Pid, nil
		}
	}
	return 0, nil
}
