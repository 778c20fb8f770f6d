package attribute

import (
	"net/netip"

	"github.com/vigilhq/vigil/event"
)

// connKey names a TCP connection by its client and server addresses,
// IPv4-mapped addresses unmapped so a dual-stack server's view matches the
// client's. A loopback connection has both ends on one host, and every host
// has its own loopback: its key also names the agent that saw it.
type connKey struct {
	client, server netip.AddrPort
	agent          string // set for loopback connections only
}

// addrKey names a client address an agent reports from, scoped like
// connKey.
type addrKey struct {
	addr  netip.Addr
	agent string
}

func (k connKey) addr() addrKey { return addrKey{k.client.Addr(), k.agent} }

// parseEnd reads an "ip:port" as agents write db.client and db.server.
func parseEnd(s string) (netip.AddrPort, bool) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 || !ap.Addr().IsValid() || ap.Addr().IsUnspecified() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), true
}

// keyOf is the key of the connection between client and server as agentID
// reported it.
func keyOf(client, server netip.AddrPort, agentID string) connKey {
	k := connKey{client: client, server: server}
	if client.Addr().IsLoopback() {
		k.agent = agentID
	}
	return k
}

// dbKey is the key of a db event's connection; ok is false when its ends
// are not ip:port pairs (a Unix socket).
func dbKey(ev *event.Event) (connKey, bool) {
	client, ok1 := parseEnd(ev.DB.Client)
	server, ok2 := parseEnd(ev.DB.Server)
	if !ok1 || !ok2 {
		return connKey{}, false
	}
	return keyOf(client, server, ev.AgentID), true
}

// netKey is the key of an outbound TCP connection a net.transfer reports,
// its process being the client.
func netKey(ev *event.Event) (connKey, bool) {
	n := ev.Net
	if n.Proto != "tcp" || n.Direction == "inbound" {
		return connKey{}, false
	}
	src, err1 := netip.ParseAddr(n.SrcIP)
	dst, err2 := netip.ParseAddr(n.DstIP)
	if err1 != nil || err2 != nil || n.SrcPort == 0 || n.DstPort == 0 || src.IsUnspecified() {
		return connKey{}, false
	}
	client := netip.AddrPortFrom(src.Unmap().WithZone(""), n.SrcPort)
	server := netip.AddrPortFrom(dst.Unmap().WithZone(""), n.DstPort)
	return keyOf(client, server, ev.AgentID), true
}
