// Package netsensor is the sensor for outbound transfers: TCP connections with
// the bytes they moved and the process that connected, UDP sends summed per
// process and destination, DNS queries with the process that asked, and the
// answers to them that name the destinations.
//
// Kernel side (bpf/net.bpf.c):
//   - tp_btf/inet_sock_set_state stores the connecting process on the socket
//     (socket-local storage, freed with the socket) and reports the socket's
//     tcp_sock byte counters when it closes;
//   - an iter/tcp program, run by this package every Config.InterimEvery,
//     reports open connections that moved bytes since their last report;
//   - a cgroup_skb egress program on the cgroup v2 root sums UDP sends into
//     one of two maps, which DrainUDP swaps and empties, and reports each DNS
//     query (UDP to port 53) with its sender, remembering it by the sending
//     socket's cookie, its port and the query's id;
//   - a cgroup_skb ingress program on the same root copies the DNS answers
//     (UDP from port 53) that answer a remembered query, on its socket and
//     from the server it went to, into the ring buffer, and counts the
//     others (DNSRefused): any process can send a packet from port 53, and
//     a forged answer taken would name a destination after an approved host.
//     RefusedAnswers adds the answers taken that are not readable as DNS,
//     for the agent's heartbeat (dns_refused).
//
// The source is built twice (see defaultBuildRuns): kernels without the kfunc
// bpf_rdonly_cast or the current-task helpers in cgroup_skb programs get the
// netCompat build, which reads the same fields with bpf_probe_read_kernel.
//
// No TCP work is done per packet. Connections of other network namespaces are
// reported when they close but get no interim reports (the iterator walks the
// agent's namespace).
package netsensor
