// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * db.bpf.c: the bytes of database connections, both directions, for the
 * agent's PostgreSQL and MySQL protocol trackers.
 *
 * Plaintext connections are read at the socket syscalls. TLS connections are
 * read from OpenSSL's SSL_read/SSL_write (and _ex) through uprobes the agent
 * attaches to each libssl it finds; the socket syscalls an SSL call makes
 * tie the SSL object to its connection, and the connection's ciphertext is
 * then no longer captured.
 *
 * A TCP connection is a database connection when either port is a configured
 * database port, or when its first bytes are a PostgreSQL startup or SSL
 * request or a MySQL server greeting, whichever end sent or received them. A
 * Unix-domain stream connection (psql or mariadb on the database host) is
 * one by its first bytes alone, and is named by its sockets' inodes, its
 * peer and its path (db_unix_rec) rather than by addresses and ports.
 */
#include "common.h"
#include "bpf_endian.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define TCP_CLOSE 7
#define CAP_MASK (MAX_CAPTURE - 1)
#define MAX_IOV 4

/* Bytes captured per call, at most MAX_CAPTURE (set by the loader). */
const volatile __u32 capture_bytes = MAX_CAPTURE;
/* Whether db_paths holds any path (set by the loader): with none, a new
 * Unix socket's path is not read. */
const volatile __u8 have_db_paths = 0;

const struct db_data_rec *unused_db_data_rec __attribute__((unused));
const struct db_close_rec *unused_db_close_rec __attribute__((unused));
const struct db_unix_rec *unused_db_unix_rec __attribute__((unused));

/* A Unix socket path, zero-filled: the key of db_paths. Longer than a
 * path can be, so that an index masked with PATH_MASK stays inside. */
#define PATH_MASK 127
struct db_path {
	char path[PATH_MASK + 1];
};

/* Configured database server socket paths: a path, or a PostgreSQL-style
 * name with its trailing port digits cut ("/run/postgresql/.s.PGSQL."
 * stands for every port's socket there). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct db_path);
	__type(value, __u8);
} db_paths SEC(".maps");

/* Configured database server ports. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u8);
} db_ports SEC(".maps");

enum sock_kind {
	SOCK_UNKNOWN = 0, /* not a database port: decided by its first bytes */
	SOCK_DB = 1,
	SOCK_OTHER = 2,
	/* A database connection the agent follows from its other end (a local
	 * client of a local server): nothing is captured, the close is still
	 * reported. Only user space sets it. */
	SOCK_MUTED = 3,
};

struct sock_state {
	__u8 kind;
	__u8 tls; /* an SSL object runs over it: its syscalls carry ciphertext */
	/* The ends' ports when first seen (TCP), or the socket's inode number
	 * (Unix, 0 for TCP): a closed socket's address is soon another socket's,
	 * and these tell the two apart, here and in user space when it mutes a
	 * socket by address. */
	__u16 lport;
	__u16 rport;
	__u16 pad;
	__u64 ino;
};

/* TCP and Unix stream sockets seen that are not (or not yet known to be)
 * database connections, by struct sock address: an LRU, since a Unix
 * socket's close is seen by no program and most sockets are of no interest.
 * An entry it evicts costs at worst a socket classified again from bytes in
 * mid-stream. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_state);
} socks SEC(".maps");

/* Database connections (SOCK_DB, SOCK_MUTED), by struct sock address: a
 * plain hash, which evicts nothing, so no churn of other sockets can make
 * the kernel forget one. A TCP entry goes at the socket's close, a Unix one
 * when user space finds its socket gone (no program sees a Unix socket's
 * close). A full map is counted (map_full) and the connection is not
 * captured. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_state);
} db_socks SEC(".maps");

enum io_shape {
	IO_BUF = 0,
	IO_IOV = 1,
	IO_MSG = 2,
};

struct ssl_args {
	__u64 ssl;
	__u64 buf;
	__u64 done; /* size_t * the _ex calls fill with the byte count */
	__u8 dir;
};

/* The SSL call a thread is inside, between entry and return. Task storage
 * rather than a hash by pid_tgid: the exit of every read and write on a
 * database or not yet classified TCP socket looks here, and a thread that
 * never called into libssl has no entry to find. */
struct task_io {
	struct ssl_args ssl;
	__u8 ssl_pending;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_io);
} task_io SEC(".maps");

/* The socket under each SSL object. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} ssl_socks SEC(".maps");

struct db_scratch {
	struct db_data_rec rec;
	__u8 spill[MAX_CAPTURE]; /* lets the verifier see iovec copies stay inside */
	struct db_unix_rec unix_rec;
	struct db_path path;
};

/* One per CPU, indexed by CPU: too large for a per-CPU map's 32 KiB values.
 * The loader sizes it to the possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct db_scratch);
} db_scratch_map SEC(".maps");

/* Turns an address held as a number into a pointer the verifier lets the
 * program read fields through with plain loads (the JIT guards them against
 * faults) instead of one bpf_probe_read_kernel call per field: on the
 * syscall path of every process, the helper calls were most of the cost.
 * The verifier replaces the call with a move. Kernel 6.2 or later (the net
 * sensor has a compat build too). kfield reads one field (one pointer
 * hop) through such a pointer.
 *
 * Built a second time with VIGIL_NO_RDONLY_CAST for older kernels (the
 * loader picks the build by the kfunc's presence in the kernel's BTF): the
 * address stays a plain number and each field costs a helper read. */
#ifndef VIGIL_NO_RDONLY_CAST
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id) __ksym;
#define kernel_ptr(addr, type) ((type *)bpf_rdonly_cast((void *)(addr), bpf_core_type_id_kernel(type)))
#define kfield(p, field) ((p)->field)
#else
#define kernel_ptr(addr, type) ((type *)(addr))
#define kfield(p, field) BPF_CORE_READ(p, field)
#endif

/* The file operations of every socket file (socket_file_ops), learnt from
 * the first TCP socket seen: the kernel does not export its address. Once
 * known, a file with other operations is turned away without reading its
 * inode, which plain files on the write path would otherwise pay for. */
__u64 sock_fops = 0;

/* The TCP or Unix stream socket behind descriptor fd of the current task
 * t, or NULL; *ino is the socket's inode number for a Unix socket, else 0.
 * The checks run cheapest and most often failing first: plain files leave
 * after reading their struct file. */
static __always_inline struct sock *fd_sock(struct task_struct *t, long fd, __u64 *ino)
{
	__u64 addr = (__u64)fd_file(t, fd);
	if (!addr)
		return NULL;
	struct file *f = kernel_ptr(addr, struct file);
	__u64 fops = (__u64)kfield(f, f_op);
	__u64 known = sock_fops;
	if (known) {
		if (fops != known)
			return NULL;
	} else {
		struct inode *ino = kfield(f, f_inode);
		if (!ino || (kfield(ino, i_mode) & S_IFMT) != S_IFSOCK)
			return NULL;
	}
	struct socket *so = kernel_ptr(kfield(f, private_data), struct socket);
	struct sock *sk = kfield(so, sk);
	if (!sk)
		return NULL;
	__u16 family = kfield(sk, __sk_common.skc_family);
	if (family == AF_INET || family == AF_INET6) {
		if (kfield(sk, sk_protocol) != IPPROTO_TCP)
			return NULL;
		*ino = 0;
	} else if (family == AF_UNIX) {
		if (kfield(sk, sk_type) != SOCK_STREAM)
			return NULL;
		struct inode *in = kfield(f, f_inode);
		*ino = kfield(in, i_ino);
		if (!*ino)
			return NULL;
	} else {
		return NULL;
	}
	if (!known)
		sock_fops = fops;
	return sk;
}

/* The inode number of socket sk (a kernel_ptr), or 0 once it has none. */
static __always_inline __u64 sock_ino(struct sock *sk)
{
	struct socket *so = kfield(sk, sk_socket);
	if (!so)
		return 0;
	struct file *f = kfield(so, file);
	if (!f)
		return 0;
	struct inode *in = kfield(f, f_inode);
	if (!in)
		return 0;
	return kfield(in, i_ino);
}

/* The other end of Unix stream socket sk, as an address. */
static __always_inline __u64 unix_peer(struct sock *sk)
{
	struct unix_sock *u = kernel_ptr((__u64)sk, struct unix_sock);
	return (__u64)kfield(u, peer);
}

static __always_inline bool is_db_port(__u16 port)
{
	return bpf_map_lookup_elem(&db_ports, &port) != NULL;
}

/* The ends of sk, whose inode number is ino if it is a Unix socket (0 for
 * TCP). */
static __always_inline void fill_conn(struct db_conn *c, struct sock *sk, __u64 ino)
{
	c->sock = (__u64)sk;
	c->ino = ino;
	if (ino) {
		c->family = AF_UNIX;
		c->lport = 0;
		c->rport = 0;
		__builtin_memset(c->laddr, 0, sizeof(c->laddr));
		__builtin_memset(c->raddr, 0, sizeof(c->raddr));
		c->peer = unix_peer(sk);
		return;
	}
	c->peer = 0;
	c->family = kfield(sk, __sk_common.skc_family);
	c->lport = kfield(sk, __sk_common.skc_num);
	c->rport = bpf_ntohs(kfield(sk, __sk_common.skc_dport));
	if (c->family == AF_INET) {
		__builtin_memset(c->laddr, 0, sizeof(c->laddr));
		__builtin_memset(c->raddr, 0, sizeof(c->raddr));
		*(__u32 *)c->laddr = kfield(sk, __sk_common.skc_rcv_saddr);
		*(__u32 *)c->raddr = kfield(sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr);
	}
}

/* Reports the close of the database connection whose entry st, at address
 * key, a new socket has taken over, so that user space ends it before the
 * new socket's first bytes. */
static __always_inline void report_replaced(__u64 key, struct sock_state *st)
{
	struct db_close_rec r = {};
	fill_hdr(&r.hdr, REC_DB_CLOSE);
	r.conn.sock = key;
	r.conn.family = st->ino ? AF_UNIX : 0;
	r.conn.lport = st->lport;
	r.conn.rport = st->rport;
	r.conn.ino = st->ino;
	submit(&r, sizeof(r));
}

/* Enters st, a database connection's state, in db_socks at key and returns
 * the entry; NULL, counted, when the map is full. */
static __always_inline struct sock_state *track_db(__u64 key, struct sock_state *st)
{
	if (bpf_map_update_elem(&db_socks, &key, st, BPF_ANY) != 0) {
		count_drop(DROP_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&db_socks, &key);
}

static __always_inline struct db_scratch *get_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&db_scratch_map, &cpu);
}

/*
 * Decide from a connection's first bytes, sent or received, whether it
 * speaks a database protocol: a PostgreSQL StartupMessage (protocol 3.0),
 * SSLRequest or GSSENCRequest (the client's first message), or a MySQL
 * protocol-10 greeting (the server's). Either end of a connection is
 * recognised: the server end of a Unix socket has no port to go by.
 */
static __always_inline __u8 classify(const __u8 *b, long n)
{
	if (n < 8)
		return SOCK_OTHER;
	__u32 len = (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
	__u32 code = (__u32)b[4] << 24 | (__u32)b[5] << 16 | (__u32)b[6] << 8 | b[7];
	if (len >= 8 && len < 10000 && (code == 0x00030000 || code == 80877103 || code == 80877104))
		return SOCK_DB;
	__u32 plen = (__u32)b[0] | (__u32)b[1] << 8 | (__u32)b[2] << 16;
	if (b[3] == 0 && b[4] == 10 && plen > 20 && plen < 1024)
		return SOCK_DB;
	return SOCK_OTHER;
}

/* Copies the path Unix socket sk (a kernel_ptr) is bound to into dst and
 * returns its length, 0 when it is bound to none. */
static __always_inline __u16 unix_path(struct sock *sk, char *dst)
{
	struct unix_sock *u = kernel_ptr((__u64)sk, struct unix_sock);
	struct unix_address *a = kfield(u, addr);
	if (!a)
		return 0;
	int len = kfield(a, len) - (int)sizeof(__u16); /* sun_family */
	if (len <= 0)
		return 0;
	if (len > UNIX_PATH)
		len = UNIX_PATH;
	/* A path's length counts its NUL; an abstract name starts with one
	 * and is read whole. */
	long n = bpf_probe_read_kernel_str(dst, len, a->name[0].sun_path);
	if (n > 1)
		return n - 1;
	if (bpf_probe_read_kernel(dst, len, a->name[0].sun_path) != 0)
		return 0;
	return len;
}

/* Whether Unix socket sk's server address (its own, for a server end,
 * whose accepted socket has its listener's; else its peer's) is a
 * configured database socket path, exactly or but for its trailing port
 * digits. Run once per Unix socket, at its first call with bytes. Not
 * inlined, like db_report_unix: one copy of the code per program. */
static __noinline bool db_socket_path(__u64 addr)
{
	struct db_scratch *s = get_scratch();
	if (!s)
		return false;
	struct sock *sk = kernel_ptr(addr, struct sock);
	struct db_path *k = &s->path;
	__builtin_memset(k, 0, sizeof(*k));
	__u16 len = unix_path(sk, k->path);
	if (!len) {
		__u64 peer = unix_peer(sk);
		if (!peer)
			return false;
		len = unix_path(kernel_ptr(peer, struct sock), k->path);
	}
	if (!len || k->path[0] == 0)
		return false;
	if (bpf_map_lookup_elem(&db_paths, k))
		return true;
	/* Cut the port number (five digits at most) off the name's end. */
	__u32 end = len;
	for (int j = 0; j < 5; j++) {
		__u32 i = end - 1;
		if (i == 0 || i >= UNIX_PATH)
			break;
		char c = k->path[i & PATH_MASK];
		if (c < '0' || c > '9')
			break;
		k->path[i & PATH_MASK] = 0;
		end = i;
	}
	return end < len && bpf_map_lookup_elem(&db_paths, k);
}

/* Sends the names of the ends of Unix socket addr (inode ino), just found
 * to carry a database protocol. */
static __noinline void db_report_unix(__u64 addr, __u64 ino)
{
	struct db_scratch *s = get_scratch();
	if (!s)
		return;
	struct sock *sk = kernel_ptr(addr, struct sock);
	struct db_unix_rec *u = &s->unix_rec;
	fill_hdr(&u->hdr, REC_DB_UNIX);
	fill_conn(&u->conn, sk, ino);
	u->path_len = unix_path(sk, u->path);
	u->peer_path_len = 0;
	u->peer_ino = 0;
	if (u->conn.peer) {
		struct sock *peer = kernel_ptr(u->conn.peer, struct sock);
		u->peer_path_len = unix_path(peer, u->peer_path);
		u->peer_ino = sock_ino(peer);
	}
	submit(u, sizeof(*u));
}

/* Decides an unclassified connection's kind from its first n captured
 * bytes, moving a database connection's entry from socks to db_socks;
 * false when it is not one (or db_socks is full). */
static __always_inline bool classified(struct db_scratch *s, struct sock *sk, struct sock_state *st, long n)
{
	if (st->kind != SOCK_UNKNOWN)
		return true;
	st->kind = classify(s->rec.data, n);
	if (st->kind != SOCK_DB)
		return false;
	__u64 key = (__u64)sk;
	struct sock_state db = *st;
	bpf_map_delete_elem(&socks, &key);
	if (!track_db(key, &db))
		return false;
	if (db.ino)
		db_report_unix(key, db.ino);
	return true;
}

/* Tracking state of sk (inode number ino if it is a Unix socket, else 0),
 * created on first sight. An entry whose ports or inode are not sk's is a
 * closed socket's whose close went unseen (a call on it returned after its
 * TCP_CLOSE, or a Unix socket, whose close no tracepoint shows), at an
 * address a new socket has taken: it is replaced, so the new socket
 * inherits nothing (muted, TLS, a kind), and the old connection's close is
 * reported. A closed TCP socket gets no entry. */
static __always_inline struct sock_state *sock_state(struct sock *sk, __u64 ino)
{
	__u64 key = (__u64)sk;
	__u16 lport = 0, rport = 0;
	if (!ino) {
		lport = kfield(sk, __sk_common.skc_num);
		rport = bpf_ntohs(kfield(sk, __sk_common.skc_dport));
	}
	struct sock_state *st;
	if (ino) {
		/* Most Unix sockets are not database connections: those the
		 * LRU knows (an inode is no other socket's) cost one lookup. */
		st = bpf_map_lookup_elem(&socks, &key);
		if (st && st->ino == ino)
			return st;
	}
	/* A TCP database connection (every call of a busy client) costs
	 * one. */
	st = bpf_map_lookup_elem(&db_socks, &key);
	if (st) {
		if (st->lport == lport && st->rport == rport && st->ino == ino)
			return st;
		report_replaced(key, st);
		bpf_map_delete_elem(&db_socks, &key);
	}
	if (!ino) {
		st = bpf_map_lookup_elem(&socks, &key);
		if (st && st->lport == lport && st->rport == rport && st->ino == 0)
			return st;
	}
	if (!ino && kfield(sk, __sk_common.skc_state) == TCP_CLOSE)
		return NULL;
	struct sock_state fresh = {};
	fresh.lport = lport;
	fresh.rport = rport;
	fresh.ino = ino;
	if (!ino && (is_db_port(lport) || is_db_port(rport))) {
		fresh.kind = SOCK_DB;
		return track_db(key, &fresh);
	}
	if (ino && have_db_paths && db_socket_path(key)) {
		/* Known by where it connects, even in mid-stream: a connection
		 * open before the agent started. */
		fresh.kind = SOCK_DB;
		st = track_db(key, &fresh);
		if (st)
			db_report_unix(key, ino);
		return st;
	}
	fresh.kind = SOCK_UNKNOWN;
	bpf_map_update_elem(&socks, &key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&socks, &key);
}

static __always_inline void send_rec(struct db_data_rec *r, __u32 cap)
{
	__u64 size = sizeof(*r) - MAX_CAPTURE + (cap & CAP_MASK);
	if (cap >= MAX_CAPTURE)
		size = sizeof(*r);
	submit(r, size);
}

/* Captures one buffer's bytes for sk, classifying an unknown connection. */
static __always_inline void capture_buf(struct sock *sk, struct sock_state *st, __u64 buf, long n, __u8 dir,
					__u8 tls)
{
	struct db_scratch *s = get_scratch();
	if (!s)
		return;
	struct db_data_rec *r = &s->rec;
	__u32 cap = n < capture_bytes ? n : capture_bytes;
	if (cap > MAX_CAPTURE)
		cap = MAX_CAPTURE;
	__u32 head = cap, tail = 0;
	if (n > cap && cap >= 2 * CAPTURE_TAIL) {
		/* Too long to keep whole: keep its head and its tail. */
		head = cap - CAPTURE_TAIL;
		tail = CAPTURE_TAIL;
	}
	if (bpf_probe_read_user(r->data, head, (void *)buf) != 0)
		return;
	if (tail && bpf_probe_read_user(&r->data[head & CAP_MASK], CAPTURE_TAIL, (void *)(buf + n - CAPTURE_TAIL)) != 0)
		return;
	__u64 ino = st->ino; /* st may move to db_socks below */
	if (!classified(s, sk, st, cap))
		return;
	fill_hdr(&r->hdr, REC_DB_DATA);
	fill_conn(&r->conn, sk, ino);
	r->len = n;
	r->cap = cap;
	r->tail = tail;
	r->dir = dir;
	r->tls = tls;
	send_rec(r, cap);
}

struct iovec_user {
	__u64 base;
	__u64 len;
};

/* Captures the first MAX_IOV buffers of an iovec array, n bytes in all. */
static __always_inline void capture_iov(struct sock *sk, struct sock_state *st, __u64 iov, __u32 cnt, long n,
					__u8 dir)
{
	struct db_scratch *s = get_scratch();
	if (!s)
		return;
	struct db_data_rec *r = &s->rec;
	__u32 want = n < capture_bytes ? n : capture_bytes;
	if (want > MAX_CAPTURE)
		want = MAX_CAPTURE;
	__u32 off = 0;
	for (int i = 0; i < MAX_IOV; i++) {
		if (i >= cnt || off >= want)
			break;
		struct iovec_user v = {};
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(iov + i * sizeof(v))) != 0)
			break;
		__u32 take = v.len < want - off ? v.len : want - off;
		if (take > CAP_MASK)
			take = CAP_MASK;
		if (bpf_probe_read_user(&r->data[off & CAP_MASK], take, (void *)v.base) != 0)
			break;
		off += take;
	}
	if (off == 0)
		return;
	__u64 ino = st->ino; /* st may move to db_socks below */
	if (!classified(s, sk, st, off))
		return;
	fill_hdr(&r->hdr, REC_DB_DATA);
	fill_conn(&r->conn, sk, ino);
	r->len = n;
	r->cap = off;
	r->tail = 0;
	r->dir = dir;
	r->tls = 0;
	send_rec(r, off);
}

static __always_inline bool go_tls_tie(struct task_struct *t, struct pt_regs *regs, struct sock *sk,
				       struct sock_state *st);

/*
 * A socket read or write, at its return: nothing is done at entry. The
 * arguments are read back from the registers the task entered the kernel
 * with (syscall_regs), so a call that moved no bytes (most reads on a
 * non-blocking socket return EAGAIN) costs a compare, and no state is kept
 * between entry and exit. The descriptor is looked up after the call: a
 * socket closed by another thread during the call is missed, as it would be
 * one call later.
 */
static __always_inline void io_exit(long ret, __u8 dir, __u8 shape)
{
	if (ret <= 0 || is_vigil())
		return;
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = syscall_regs(t);
	if (!regs)
		return;
	__u64 ino = 0;
	struct sock *sk = fd_sock(t, (int)PT_REGS_PARM1_SYSCALL(regs), &ino);
	if (!sk)
		return;
	struct sock_state *st = sock_state(sk, ino);
	if (!st)
		return;
	/* Before the SSL check: ssl_return captures nothing on a muted or
	 * non-database connection either, so its SSL object need not be tied to
	 * it, and half the calls of a local client and server (the muted server
	 * end) skip the task storage lookup. */
	if (st->kind == SOCK_OTHER || st->kind == SOCK_MUTED)
		return;
	struct task_io *tio = bpf_task_storage_get(&task_io, t, 0, 0);
	if (tio && tio->ssl_pending) {
		/* Inside SSL_read/SSL_write: this is ciphertext of ssl's connection.
		 * The tie is written only when new: an update of the LRU hash
		 * allocates and swaps an element, a lookup reads one, and an SSL
		 * object keeps its socket for the connection's life. */
		__u64 key = (__u64)sk;
		__u64 *cur = bpf_map_lookup_elem(&ssl_socks, &tio->ssl.ssl);
		if (!cur || *cur != key)
			bpf_map_update_elem(&ssl_socks, &tio->ssl.ssl, &key, BPF_ANY);
		st->tls = 1;
		return;
	}
	if (go_tls_tie(t, regs, sk, st))
		return;
	if (st->tls)
		return;
	__u64 buf = PT_REGS_PARM2_SYSCALL(regs);
	if (shape == IO_BUF) {
		capture_buf(sk, st, buf, ret, dir, 0);
		return;
	}
	__u64 iov = buf;
	__u32 cnt = PT_REGS_PARM3_SYSCALL(regs);
	if (shape == IO_MSG) {
		struct user_msghdr m = {};
		if (bpf_probe_read_user(&m, sizeof(m), (void *)buf) != 0)
			return;
		iov = (__u64)m.msg_iov;
		cnt = m.msg_iovlen;
	}
	capture_iov(sk, st, iov, cnt, ret, dir);
}

SYSCALL_EXIT(db_exit_write, write, io_exit, DB_SEND, IO_BUF)
SYSCALL_EXIT(db_exit_sendto, sendto, io_exit, DB_SEND, IO_BUF)
SYSCALL_EXIT(db_exit_read, read, io_exit, DB_RECV, IO_BUF)
SYSCALL_EXIT(db_exit_recvfrom, recvfrom, io_exit, DB_RECV, IO_BUF)
SYSCALL_EXIT(db_exit_writev, writev, io_exit, DB_SEND, IO_IOV)
SYSCALL_EXIT(db_exit_readv, readv, io_exit, DB_RECV, IO_IOV)
SYSCALL_EXIT(db_exit_sendmsg, sendmsg, io_exit, DB_SEND, IO_MSG)
SYSCALL_EXIT(db_exit_recvmsg, recvmsg, io_exit, DB_RECV, IO_MSG)

/* ---- OpenSSL ---- */

static __always_inline void ssl_enter(__u64 ssl, __u64 buf, __u64 done, __u8 dir)
{
	if (is_vigil())
		return;
	struct task_io *tio =
		bpf_task_storage_get(&task_io, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tio) {
		count_drop(DROP_MAP_FULL);
		return;
	}
	tio->ssl = (struct ssl_args){.ssl = ssl, .buf = buf, .done = done, .dir = dir};
	tio->ssl_pending = 1;
}

/* The state of the socket at key under a TLS library's call, when its
 * plaintext is to be captured: a database connection's not muted, or one
 * not classified yet; else NULL. */
static __always_inline struct sock_state *plaintext_state(__u64 key)
{
	struct sock_state *st = bpf_map_lookup_elem(&db_socks, &key);
	if (!st) {
		st = bpf_map_lookup_elem(&socks, &key);
		if (!st || st->kind != SOCK_UNKNOWN)
			return NULL;
	} else if (st->kind == SOCK_MUTED) {
		return NULL;
	}
	return st;
}

static __always_inline void ssl_return(long ret, bool ex)
{
	struct task_io *tio = bpf_task_storage_get(&task_io, bpf_get_current_task_btf(), 0, 0);
	if (!tio || !tio->ssl_pending)
		return;
	tio->ssl_pending = 0;
	struct ssl_args a = tio->ssl;
	long n = ret;
	if (ex) {
		__u64 done = 0;
		if (ret != 1 || bpf_probe_read_user(&done, sizeof(done), (void *)a.done) != 0)
			return;
		n = done;
	}
	if (n <= 0)
		return;
	__u64 *skp = bpf_map_lookup_elem(&ssl_socks, &a.ssl);
	if (!skp)
		return;
	__u64 key = *skp;
	struct sock_state *st = plaintext_state(key);
	if (!st)
		return;
	capture_buf(kernel_ptr(key, struct sock), st, a.buf, n, a.dir, 1);
}

SEC("uprobe/SSL_write")
int BPF_KPROBE(ssl_write, void *ssl, const void *buf, int num)
{
	ssl_enter((__u64)ssl, (__u64)buf, 0, DB_SEND);
	return 0;
}

SEC("uretprobe/SSL_write")
int BPF_KRETPROBE(ssl_write_ret, int ret)
{
	ssl_return(ret, false);
	return 0;
}

SEC("uprobe/SSL_read")
int BPF_KPROBE(ssl_read, void *ssl, void *buf, int num)
{
	ssl_enter((__u64)ssl, (__u64)buf, 0, DB_RECV);
	return 0;
}

SEC("uretprobe/SSL_read")
int BPF_KRETPROBE(ssl_read_ret, int ret)
{
	ssl_return(ret, false);
	return 0;
}

SEC("uprobe/SSL_write_ex")
int BPF_KPROBE(ssl_write_ex, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	ssl_enter((__u64)ssl, (__u64)buf, (__u64)written, DB_SEND);
	return 0;
}

SEC("uretprobe/SSL_write_ex")
int BPF_KRETPROBE(ssl_write_ex_ret, int ret)
{
	ssl_return(ret, true);
	return 0;
}

SEC("uprobe/SSL_read_ex")
int BPF_KPROBE(ssl_read_ex, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	ssl_enter((__u64)ssl, (__u64)buf, (__u64)readbytes, DB_RECV);
	return 0;
}

SEC("uretprobe/SSL_read_ex")
int BPF_KRETPROBE(ssl_read_ex_ret, int ret)
{
	ssl_return(ret, true);
	return 0;
}

/* ---- connection end ---- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(db_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (newstate != TCP_CLOSE)
		return 0;
	__u64 key = (__u64)sk;
	if (bpf_map_lookup_elem(&db_socks, &key)) {
		struct db_close_rec r = {};
		fill_hdr(&r.hdr, REC_DB_CLOSE);
		fill_conn(&r.conn, (struct sock *)sk, 0);
		submit(&r, sizeof(r));
		bpf_map_delete_elem(&db_socks, &key);
		return 0;
	}
	bpf_map_delete_elem(&socks, &key);
	return 0;
}

/* ---- Go crypto/tls ----
 *
 * (*tls.Conn).Write and Read, probed at entry and at each RET instruction
 * (the agent finds them: a uretprobe would break Go's stack copying). Go
 * passes arguments and results in registers (RAX, RBX, RCX...) and keeps
 * the running goroutine in R14; a goroutine can change threads between the
 * call and its return, and even inside a socket syscall it makes, so calls
 * are keyed by process and goroutine, not by thread. The socket syscalls a
 * call makes on its goroutine tie the tls.Conn to its socket, as the SSL
 * calls' do for an SSL object.
 */

struct go_key {
	__u32 tgid;
	__u32 pad;
	__u64 id; /* the goroutine (g) for go_calls, the *tls.Conn for go_conns */
};

struct go_call {
	__u64 conn;
	__u64 buf;
	__u8 dir;
};

/* Calls between entry and return, by goroutine. A goroutine blocked in a
 * Read holds its entry for as long as it waits. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_key);
	__type(value, struct go_call);
} go_calls SEC(".maps");

/* The socket under each tls.Conn, by process: Go heaps start at the same
 * address in every process. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_key);
	__type(value, __u64);
} go_conns SEC(".maps");

/* At a socket syscall's return: if the goroutine making it is inside a
 * tls.Conn call, the bytes are its ciphertext, and the call's tls.Conn
 * runs over sk. R14 holds the goroutine in Go's syscall path (an ABIInternal
 * function); in another program it is whatever it is, and finds no call. */
static __always_inline bool go_tls_tie(struct task_struct *t, struct pt_regs *regs, struct sock *sk,
				       struct sock_state *st)
{
	struct go_key key = {.tgid = t->tgid, .id = regs->r14};
	struct go_call *call = bpf_map_lookup_elem(&go_calls, &key);
	if (!call)
		return false;
	struct go_key ck = {.tgid = key.tgid, .id = call->conn};
	__u64 sock = (__u64)sk;
	__u64 *cur = bpf_map_lookup_elem(&go_conns, &ck);
	if (!cur || *cur != sock)
		bpf_map_update_elem(&go_conns, &ck, &sock, BPF_ANY);
	st->tls = 1;
	return true;
}

/* Go's layout from 1.17 to 1.26 (TestGoConnLayout checks it against a
 * program's DWARF): a tls.Conn starts with its net.Conn, an interface whose
 * second word is the value; a *net.TCPConn or *net.UnixConn points first at
 * its netFD, which starts with its poll.FD, whose Sysfd follows a 16-byte
 * mutex. */
#define GO_IFACE_DATA 8
#define GO_NETFD_SYSFD 16
/* The words of a wrapping net.Conn searched for the connection it wraps: a
 * net.Conn field's value word, or a *net.TCPConn field. */
#define GO_WRAP_WORDS 8

/* The database connection under Go connection c, if c is a *net.TCPConn or
 * *net.UnixConn whose descriptor is one the sensor tracks in this process;
 * a word that merely looks like one finds no tracked socket. */
static __always_inline __u64 go_conn_sock(struct task_struct *t, __u64 c)
{
	__u64 netfd = 0;
	long fd = -1;
	if (!c || bpf_probe_read_user(&netfd, sizeof(netfd), (void *)c) != 0 || !netfd)
		return 0;
	if (bpf_probe_read_user(&fd, sizeof(fd), (void *)(netfd + GO_NETFD_SYSFD)) != 0)
		return 0;
	__u64 ino = 0;
	__u64 sk = (__u64)fd_sock(t, fd, &ino);
	if (!sk || !plaintext_state(sk))
		return 0;
	return sk;
}

/* Ties the tls.Conn at conn to its socket through the net.Conn it runs
 * over, so that its plaintext is read whichever goroutine or thread moves
 * the ciphertext (a relay, a tunnel, a multiplexer): the net.Conn itself,
 * or one a wrapper holds in its first GO_WRAP_WORDS words. The wrapper is
 * searched only while the tls.Conn has no live tie, since a direct
 * connection is found at the first try. */
static __always_inline void go_tls_tie_conn(__u32 tgid, __u64 conn)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 data = 0;
	if (bpf_probe_read_user(&data, sizeof(data), (void *)(conn + GO_IFACE_DATA)) != 0 || !data)
		return;
	struct go_key ck = {.tgid = tgid, .id = conn};
	__u64 *cur = bpf_map_lookup_elem(&go_conns, &ck);
	__u64 sk = go_conn_sock(t, data);
	if (!sk) {
		if (cur && plaintext_state(*cur))
			return;
		__u64 words[GO_WRAP_WORDS] = {};
		if (bpf_probe_read_user(words, sizeof(words), (void *)data) != 0)
			return;
		for (int i = 0; i < GO_WRAP_WORDS && !sk; i++)
			sk = go_conn_sock(t, words[i]);
		if (!sk)
			return;
	}
	if (!cur || *cur != sk)
		bpf_map_update_elem(&go_conns, &ck, &sk, BPF_ANY);
	struct sock_state *st = plaintext_state(sk);
	if (st)
		st->tls = 1;
}

static __always_inline void go_tls_enter(struct pt_regs *ctx, __u8 dir)
{
	if (is_vigil())
		return;
	struct go_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .id = ctx->r14};
	go_tls_tie_conn(key.tgid, ctx->ax);
	/* func (c *Conn) Write(b []byte) (int, error): c in RAX, b's data in RBX. */
	struct go_call call = {.conn = ctx->ax, .buf = ctx->bx, .dir = dir};
	if (bpf_map_update_elem(&go_calls, &key, &call, BPF_ANY) != 0)
		count_drop(DROP_MAP_FULL);
}

SEC("uprobe/go_tls_write")
int go_tls_write(struct pt_regs *ctx)
{
	go_tls_enter(ctx, DB_SEND);
	return 0;
}

SEC("uprobe/go_tls_read")
int go_tls_read(struct pt_regs *ctx)
{
	go_tls_enter(ctx, DB_RECV);
	return 0;
}

/* At a RET of Write or Read: the byte count is in RAX. */
SEC("uprobe/go_tls_ret")
int go_tls_ret(struct pt_regs *ctx)
{
	struct go_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .id = ctx->r14};
	struct go_call *pending = bpf_map_lookup_elem(&go_calls, &key);
	if (!pending)
		return 0;
	struct go_call call = *pending;
	bpf_map_delete_elem(&go_calls, &key);
	long n = (long)ctx->ax;
	if (n <= 0)
		return 0;
	struct go_key ck = {.tgid = key.tgid, .id = call.conn};
	__u64 *skp = bpf_map_lookup_elem(&go_conns, &ck);
	if (!skp)
		return 0;
	__u64 sock = *skp;
	struct sock_state *st = plaintext_state(sock);
	if (!st)
		return 0;
	capture_buf(kernel_ptr(sock, struct sock), st, call.buf, n, call.dir, 1);
	return 0;
}
