// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* net.bpf.c: outbound transfers. TCP connections with the bytes they moved,
 * attributed to the process that connected; UDP sends summed per process and
 * destination; DNS queries with their sender, and the answers to them, for
 * naming destinations.
 *
 * Per-packet cost. TCP costs nothing per packet: the owner is stored on the
 * socket at connect (tp_btf/inet_sock_set_state, a few calls per connection),
 * the byte counters the kernel keeps in struct tcp_sock are read when the
 * connection closes, and interim reports come from a TCP socket iterator that
 * user space runs every interval. The two cgroup_skb programs see every packet
 * of every socket: TCP packets leave after two loads and a compare; UDP sends
 * add one header load and a hash update, queries to port 53 a hash update
 * and a ring record; UDP receives add a header load, and only answers from
 * port 53 to a remembered query are copied (a hash lookup and delete).
 * Measured with bpf_stats on a 2 GiB TCP transfer plus 200k UDP sends of
 * 100 B (kernel 6.18, VM): egress about 250 ns per packet averaged over both,
 * ingress about 90 ns; the state-change program a few microseconds per
 * connection state change. The UDP and DNS paths alone: BenchmarkUDPPrograms
 * in agent/sensor/net, figures in docs/benchmarks.md. */
#include "common.h"
#include "bpf_endian.h"

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* Keep the record types in BTF so bpf2go can generate their Go twins. */
const struct tcp_rec *unused_tcp_rec __attribute__((unused));
const struct dns_rec *unused_dns_rec __attribute__((unused));
const struct dns_query_rec *unused_dns_query_rec __attribute__((unused));
const struct udp_key *unused_udp_key __attribute__((unused));
const struct udp_total *unused_udp_total __attribute__((unused));

/* Report connections to and from 127.0.0.0/8 and ::1 (set by the loader). */
const volatile __u8 include_loopback = 0;

/* What vigil keeps on each watched TCP socket, freed with the socket. */
struct tcp_owner {
	struct rec_hdr who; /* the connecting process; pid 0 when accepted */
	__u64 start_ts;
	__u64 sent_reported; /* bytes_acked at the previous report */
	__u64 received_reported;
	__u8 outbound;
	__u8 established;
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcp_owner);
} tcp_owners SEC(".maps");

static __always_inline bool v4_loopback(__u32 be_addr)
{
	return (be_addr & 0xff) == 127; /* first octet in network order */
}

static __always_inline bool v6_loopback(const __u8 a[16])
{
	__u32 w[4];
	__builtin_memcpy(w, a, 16);
	if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1))
		return true;
	/* ::ffff:127.x.y.z, an IPv4 loopback peer of an IPv6 socket */
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff) && v4_loopback(w[3]);
}

static __always_inline bool sk_loopback(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_INET)
		return v4_loopback(BPF_CORE_READ(sk, __sk_common.skc_daddr));
	__u8 a[16];
	BPF_CORE_READ_INTO(&a, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	return v6_loopback(a);
}

/* Payload bytes acknowledged and received so far. The kernel's counters
 * follow sequence numbers, in which the SYN and the FIN take one each: the SYN
 * is left out by the baseline taken when the connection is established, the
 * FINs here. Our FIN is acknowledged when a FIN state has nothing unacked; the
 * peer's was received when tcp_fin marked the socket SOCK_DONE. */
static __always_inline void tcp_payload(struct tcp_sock *tp, int state, __u64 *sent, __u64 *received)
{
	*sent = BPF_CORE_READ(tp, bytes_acked);
	*received = BPF_CORE_READ(tp, bytes_received);
	bool fin_state = state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING ||
			 state == TCP_LAST_ACK;
	if (fin_state && *sent > 0 && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))
		*sent -= 1;
	unsigned long flags = BPF_CORE_READ((struct sock *)tp, __sk_common.skc_flags);
	if ((flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) && *received > 0)
		*received -= 1;
}

/* Send the bytes moved since the previous report and remember the totals.
 * state is the socket's state (before the change, for a close). */
static __always_inline void report_tcp(struct tcp_sock *tp, struct tcp_owner *o, __u32 reason, int state)
{
	__u64 sent, received;
	tcp_payload(tp, state, &sent, &received);
	if (sent < o->sent_reported)
		sent = o->sent_reported;
	if (received < o->received_reported)
		received = o->received_reported;
	if (reason == TCP_REPORT_INTERIM && sent == o->sent_reported && received == o->received_reported)
		return; /* idle since the previous report */

	struct tcp_rec r = {};
	__builtin_memcpy(&r.hdr, &o->who, sizeof(r.hdr));
	r.hdr.type = REC_TCP;
	r.hdr.ts = bpf_ktime_get_boot_ns();
	r.reason = reason;
	r.outbound = o->outbound;
	r.start_ts = o->start_ts;
	r.bytes_sent = sent - o->sent_reported;
	r.bytes_received = received - o->received_reported;

	struct sock *sk = (struct sock *)tp;
	r.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* inet_sport, not skc_num: closing gives the local port back and zeroes
	 * skc_num before the state change we report from. */
	r.sport = bpf_ntohs(BPF_CORE_READ(tp, inet_conn.icsk_inet.inet_sport));
	r.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (r.family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)r.saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)r.daddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&r.saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&r.daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}

	if (ring_output(&r, sizeof(r)) != 0) {
		count_drop(DROP_RINGBUF_FULL);
		return; /* keep the bytes for the next report */
	}
	o->sent_reported = sent;
	o->received_reported = received;
}

/* Connections are followed from connect() (SYN_SENT, in the process that
 * connects) or from the handshake completing on a listener (SYN_RECV ->
 * ESTABLISHED, softirq, no process), and reported when they close. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_set_state, struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;

	if (newstate == TCP_SYN_SENT) {
		if (is_vigil() || (!include_loopback && sk_loopback(sk)))
			return 0;
		struct tcp_owner *o = bpf_sk_storage_get(&tcp_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!o) {
			count_drop(DROP_MAP_FULL);
			return 0;
		}
		fill_hdr(&o->who, REC_TCP);
		o->start_ts = o->who.ts;
		o->outbound = 1;
		o->established = 0;
		o->sent_reported = 0;
		o->received_reported = 0;
		return 0;
	}

	if (newstate == TCP_ESTABLISHED) {
		if (oldstate == TCP_SYN_SENT) {
			struct tcp_owner *o = bpf_sk_storage_get(&tcp_owners, sk, 0, 0);
			struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
			if (o && tp) {
				o->established = 1;
				/* baseline: the SYN's sequence number */
				o->sent_reported = BPF_CORE_READ(tp, bytes_acked);
				o->received_reported = BPF_CORE_READ(tp, bytes_received);
			}
			return 0;
		}
		if (oldstate != TCP_SYN_RECV || (!include_loopback && sk_loopback(sk)))
			return 0;
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
		if (!tp)
			return 0;
		struct tcp_owner *o = bpf_sk_storage_get(&tcp_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!o) {
			count_drop(DROP_MAP_FULL);
			return 0;
		}
		__builtin_memset(&o->who, 0, sizeof(o->who));
		o->start_ts = bpf_ktime_get_boot_ns();
		o->outbound = 0;
		o->established = 1;
		o->sent_reported = BPF_CORE_READ(tp, bytes_acked);
		o->received_reported = BPF_CORE_READ(tp, bytes_received);
		return 0;
	}

	if (newstate == TCP_CLOSE) {
		struct tcp_owner *o = bpf_sk_storage_get(&tcp_owners, sk, 0, 0);
		if (!o)
			return 0;
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
		if (tp && o->established)
			report_tcp(tp, o, TCP_REPORT_CLOSE, oldstate);
		bpf_sk_storage_delete(&tcp_owners, sk);
	}
	return 0;
}

/* Run by user space every interim interval: one report for each watched open
 * connection that moved bytes since its previous report. The iterator holds
 * the socket lock, so it never races the close report for the same socket. */
SEC("iter/tcp")
int tcp_interim(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	if (!skc)
		return 0;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0; /* request and time-wait sockets */
	struct tcp_owner *o = bpf_sk_storage_get(&tcp_owners, tp, 0, 0);
	if (o && o->established)
		report_tcp(tp, o, TCP_REPORT_INTERIM, BPF_CORE_READ(skc, skc_state));
	return 0;
}

/* --- UDP --------------------------------------------------------------- */

struct udp_sums {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct udp_key);
	__type(value, struct udp_total);
} udp_sums_a SEC(".maps"), udp_sums_b SEC(".maps");

/* Which of the two sums maps the kernel adds to. User space swaps it before
 * draining the other: replacing an entry of a map-in-map waits for running
 * programs (synchronize_rcu), so no add lands in the map being drained. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct udp_sums);
} udp_active SEC(".maps") = {
	.values = {[0] = &udp_sums_a},
};

/* Where a packet goes and how many payload bytes it carries, from the IP
 * header the cgroup_skb programs see at offset 0. Returns the offset of the
 * UDP header, or 0 when the packet is not UDP. */
static __always_inline __u32 udp_locate(struct __sk_buff *skb, __u16 *family, __u8 addr[16], bool dst)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) != 0 || ip.protocol != IPPROTO_UDP)
			return 0;
		if (ip.frag_off & bpf_htons(0x1fff))
			return 0; /* not the first fragment */
		*family = AF_INET;
		__u32 a = dst ? ip.daddr : ip.saddr;
		__builtin_memcpy(addr, &a, 4);
		return ip.ihl * 4;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) != 0 || ip6.nexthdr != IPPROTO_UDP)
			return 0; /* extension headers are not followed */
		*family = AF_INET6;
		__builtin_memcpy(addr, dst ? (void *)&ip6.daddr : (void *)&ip6.saddr, 16);
		return sizeof(ip6);
	}
	return 0;
}

static __always_inline bool addr_loopback(__u16 family, const __u8 a[16])
{
	if (family == AF_INET) {
		__u32 v;
		__builtin_memcpy(&v, a, 4);
		return v4_loopback(v);
	}
	return v6_loopback(a);
}

static __always_inline bool is_udp_sock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return false;
	sk = bpf_sk_fullsock(sk);
	return sk && sk->protocol == IPPROTO_UDP;
}

/* Kernel sockets (UDP tunnels such as VXLAN or WireGuard) send from softirq
 * or kernel threads, where the current task is whoever was interrupted; what
 * they carry is other traffic, reported at its own socket.
 *
 * Two builds of this file (the loader picks one, see agent/sensor/net):
 * the default one reads the bitfield with a plain load through the kfunc
 * bpf_rdonly_cast (6.2+). The compat one (VIGIL_NET_COMPAT, for 5.17 on) has
 * no kfunc: it takes the socket's address as a number by reading the
 * bpf_sock pointer back from the stack, and reads the bitfield's word at its
 * CO-RE offset with bpf_probe_read_kernel, which cgroup_skb programs get
 * from bpf_base_func_proto when loaded with CAP_PERFMON (the verifier lets
 * such programs pass pointers to helpers as plain values). */
#ifndef VIGIL_NET_COMPAT
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id) __ksym;

static __always_inline bool kernel_sock(struct __sk_buff *skb)
{
	struct bpf_sock *bsk = skb->sk;
	if (!bsk)
		return true;
	struct sock *sk = bpf_rdonly_cast(bsk, bpf_core_type_id_kernel(struct sock));
	return BPF_CORE_READ_BITFIELD(sk, sk_kern_sock);
}
#else
static __always_inline bool kernel_sock(struct __sk_buff *skb)
{
	struct bpf_sock *bsk = skb->sk;
	if (!bsk)
		return true;
	__u64 addr = 0;
	if (bpf_probe_read_kernel(&addr, sizeof(addr), &bsk) != 0 || addr == 0)
		return true;
	struct sock *sk = (struct sock *)addr;
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock);
}
#endif

/* The sending task. cgroup_skb programs get bpf_get_current_pid_tgid from
 * 6.10 and bpf_get_current_comm later still; the compat build reads both
 * from the task_struct that bpf_get_current_task_btf (5.15+) returns. */
#ifndef VIGIL_NET_COMPAT
#define current_pid_tgid() bpf_get_current_pid_tgid()
#define current_comm(buf, task) bpf_get_current_comm(buf, sizeof(buf))
#else
static __always_inline __u64 current_pid_tgid(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return (__u64)BPF_CORE_READ(task, tgid) << 32 | (__u32)BPF_CORE_READ(task, pid);
}
#define current_comm(buf, task) BPF_CORE_READ_STR_INTO(&(buf), task, comm)
#endif

/* --- DNS queries ------------------------------------------------------ */

#define DNS_QR 0x8000 /* the header's flag for a response */

/* A DNS query not answered yet, by the socket that sent it (its cookie, so
 * no other socket, even one bound to the same port, takes the answer), the
 * query's id and the socket's port. */
struct dns_pending_key {
	__u64 cookie;
	__u16 id;
	__u16 port; /* the querying socket's, network order */
	__u32 pad;
};

/* The server the query went to: only it may answer. */
struct dns_pending {
	__u8 server[16];
	__u16 family;
	__u16 pad[3];
};

/* LRU: queries never answered go first when it is full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct dns_pending_key);
	__type(value, struct dns_pending);
} dns_pending SEC(".maps");

/* Answers refused because no query of this host asked for them (forged or
 * unsolicited, or sent after their query was pushed out of dns_pending). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dns_refused SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_query_rec);
} dns_query_scratch SEC(".maps");

/* The id and flags words at the start of a DNS message at off. */
struct dns_head {
	__u16 id;
	__u16 flags;
};

/* A query leaving a user socket for port 53: remember it so that its answer
 * is taken, and report it with its sender. */
static __always_inline void dns_query(struct __sk_buff *skb, __u32 off, __u16 sport, __u16 family, const __u8 daddr[16])
{
	struct dns_head h;
	if (bpf_skb_load_bytes(skb, off, &h, sizeof(h)) != 0 || (h.flags & bpf_htons(DNS_QR)))
		return;
	struct dns_pending_key k = {.cookie = bpf_get_socket_cookie(skb), .id = h.id, .port = sport};
	struct dns_pending p = {.family = family};
	__builtin_memcpy(p.server, daddr, 16);
	bpf_map_update_elem(&dns_pending, &k, &p, BPF_ANY);

	__u32 zero = 0;
	struct dns_query_rec *r = bpf_map_lookup_elem(&dns_query_scratch, &zero);
	if (!r)
		return;
	fill_hdr_task(&r->hdr, REC_DNS_QUERY, bpf_get_current_task_btf());
	__u32 len = skb->len - off;
	r->orig_len = len > 0xffff ? 0xffff : len;
	r->family = family;
	r->dport = 53;
	__builtin_memcpy(r->daddr, daddr, 16);
	if (len > MAX_DNS_QUERY)
		len = MAX_DNS_QUERY;
	if (len == 0 || bpf_skb_load_bytes(skb, off, r->data, len) != 0)
		return;
	r->len = len;
	submit(r, offsetof(struct dns_query_rec, data) + len);
}

/* UDP sends, summed per sender and destination. Egress of a user socket's
 * datagram runs in the sending syscall, so the current task is the sender. */
SEC("cgroup_skb/egress")
int udp_egress(struct __sk_buff *skb)
{
	if (!is_udp_sock(skb) || kernel_sock(skb))
		return 1;
	__u64 pid_tgid = current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (tgid == 0 || vigil_tgid(tgid))
		return 1;

	struct udp_key key = {.pid = tgid};
	__u32 off = udp_locate(skb, &key.family, key.daddr, true);
	if (off == 0)
		return 1;
	struct udphdr uh;
	if (bpf_skb_load_bytes(skb, off, &uh, sizeof(uh)) != 0)
		return 1;
	/* Queries to a local stub resolver are loopback traffic: seen anyway. */
	if (uh.dest == bpf_htons(53) && skb->len > off + sizeof(uh) + sizeof(struct dns_head))
		dns_query(skb, off + sizeof(uh), uh.source, key.family, key.daddr);
	if (!include_loopback && addr_loopback(key.family, key.daddr))
		return 1;
	key.dport = bpf_ntohs(uh.dest);
	/* A GSO send is one skb longer than a datagram: count from skb->len. */
	__u64 payload = skb->len > off + sizeof(uh) ? skb->len - off - sizeof(uh) : 0;

	__u32 zero = 0;
	void *sums = bpf_map_lookup_elem(&udp_active, &zero);
	if (!sums)
		return 1;
	__u64 now = bpf_ktime_get_boot_ns();
	struct udp_total *t = bpf_map_lookup_elem(sums, &key);
	if (!t) {
		struct udp_total init = {.first_ts = now, .tid = (__u32)pid_tgid};
		struct task_struct *task = bpf_get_current_task_btf();
		init.uid = BPF_CORE_READ(task, cred, uid.val);
		init.loginuid = BPF_CORE_READ(task, loginuid.val);
		init.sessionid = BPF_CORE_READ(task, sessionid);
		current_comm(init.comm, task);
		/* NOEXIST: another CPU may have created it meanwhile; add to theirs. */
		long err = bpf_map_update_elem(sums, &key, &init, BPF_NOEXIST);
		t = bpf_map_lookup_elem(sums, &key);
		if (!t) {
			if (err)
				count_drop(DROP_MAP_FULL);
			return 1;
		}
	}
	__sync_fetch_and_add(&t->bytes, payload);
	__sync_fetch_and_add(&t->packets, 1);
	t->last_ts = now;
	return 1;
}

/* --- DNS answers -------------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_rec);
} dns_scratch SEC(".maps");

static __always_inline bool same_addr(__u16 family, const __u8 a[16], const __u8 b[16])
{
	__u32 x[4], y[4];
	__builtin_memcpy(x, a, 16);
	__builtin_memcpy(y, b, 16);
	if (family == AF_INET)
		return x[0] == y[0];
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

static __always_inline void count_refused(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&dns_refused, &zero);
	if (n)
		*n += 1;
}

/* DNS answers (UDP from port 53) delivered to a socket on the host, loopback
 * included (local stub resolvers answer on 127.0.0.53), taken only when they
 * answer a query that socket sent to that server: anyone can send a packet
 * from port 53, and a forged answer would name destinations at will. */
SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb)
{
	if (!is_udp_sock(skb))
		return 1;
	__u16 family;
	__u8 src[16];
	__u32 off = udp_locate(skb, &family, src, false);
	if (off == 0)
		return 1;
	struct udphdr uh;
	if (bpf_skb_load_bytes(skb, off, &uh, sizeof(uh)) != 0 || uh.source != bpf_htons(53))
		return 1;
	off += sizeof(uh);
	struct dns_head h;
	if (skb->len <= off + sizeof(h) || bpf_skb_load_bytes(skb, off, &h, sizeof(h)) != 0 || !(h.flags & bpf_htons(DNS_QR)))
		return 1;
	struct dns_pending_key k = {.cookie = bpf_get_socket_cookie(skb), .id = h.id, .port = uh.dest};
	struct dns_pending *p = bpf_map_lookup_elem(&dns_pending, &k);
	if (!p || p->family != family || !same_addr(family, p->server, src)) {
		count_refused();
		return 1;
	}
	bpf_map_delete_elem(&dns_pending, &k);
	__u32 len = skb->len - off;

	__u32 zero = 0;
	struct dns_rec *r = bpf_map_lookup_elem(&dns_scratch, &zero);
	if (!r)
		return 1;
	r->type = REC_DNS;
	r->orig_len = len > 0xffff ? 0xffff : len;
	r->ts = bpf_ktime_get_boot_ns();
	if (len > MAX_DNS)
		len = MAX_DNS;
	if (len == 0 || bpf_skb_load_bytes(skb, off, r->data, len) != 0)
		return 1;
	r->len = len;
	submit(r, offsetof(struct dns_rec, data) + len);
	return 1;
}
