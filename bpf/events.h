/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * events.h: the one definition of every record the kernel sends to vigil-agent.
 * Each record starts with struct rec_hdr; its type says which struct follows.
 * The Go decoders in agent/sensor/... mirror these layouts (bpf2go generates
 * the Go types from them, so a change here is a compile error there).
 */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#define TASK_COMM_LEN 16
#define MAX_FILENAME 256
#define MAX_ARGS 512
#define MAX_PATH 512
#define MAX_TTY 32
#define MAX_FSTYPE 16

enum rec_type {
	REC_EXEC = 1,
	REC_EXIT = 2,
	REC_FORK = 3,
	REC_FILE_WRITE = 4,
	REC_FILE_RENAME = 5,
	REC_TCP = 6,
	REC_DNS = 7,
	REC_DNS_QUERY = 16,
	REC_DB_DATA = 8,
	REC_DB_CLOSE = 9,
	REC_DB_UNIX = 10,
	REC_LIB_MAPPED = 17, /* has a ring of its own, but every type stays distinct */
};

/* Which sensor dropped records: index into each sensor's drops map. */
enum drop_reason {
	DROP_RINGBUF_FULL = 0,
	DROP_MAP_FULL = 1,
	DROP_REASONS = 2,
};

struct rec_hdr {
	__u32 type;
	__u32 pid; /* thread group id, what user space calls the pid */
	__u32 tid;
	__u32 uid;
	__u32 loginuid;
	__u32 sessionid;
	__u64 ts; /* CLOCK_BOOTTIME ns */
	char comm[TASK_COMM_LEN];
};

struct exec_rec {
	struct rec_hdr hdr;
	__u32 ppid;
	__u32 gid;
	__u64 start_boottime; /* task start, CLOCK_BOOTTIME ns */
	__u16 filename_len;
	__u16 args_len; /* NUL-separated argv bytes captured */
	__u8 args_truncated;
	__u8 pad[3];
	char tty[MAX_TTY];
	char filename[MAX_FILENAME];
	char args[MAX_ARGS];
};

struct exit_rec {
	struct rec_hdr hdr;
	__u32 ppid;
	__s32 exit_code; /* as wait(2) reports it */
	__u64 start_boottime;
};

struct fork_rec {
	struct rec_hdr hdr; /* the child */
	__u32 ppid;
	__u32 pad;
	__u64 start_boottime;
};

enum file_reason {
	FILE_CLOSE = 1,
	FILE_EXIT = 2,
	FILE_INTERIM = 3,
	FILE_IDLE = 4, /* swept by user space after the file went quiet */
};

enum file_bits {
	FILE_CREATED = 1,    /* opened with O_CREAT and the file was new */
	FILE_PATH_TRUNC = 2, /* path longer than MAX_PATH: leading part kept */
	FILE_OPEN_SEEN = 4,  /* open flags are from the open call, not f_flags */
};

/* One written file's running totals; also the value of the files map. */
struct written_file {
	__u64 inode;      /* the file's inode: tells a reused struct file address */
	__u32 writer_pid; /* first writer since the last report */
	__u32 writer_tid;
	__u64 first_ts;
	__u64 last_ts;
	__u64 last_report;
	__u64 bytes;
	__u64 writes;
	__u32 open_flags;
	__u32 bits;
	__u32 dev;
	__u32 fs_magic;
	__u32 ignored; /* path matched a filter: skip without resolving again */
	__u16 path_len;
	__u16 pad;
	char fstype[MAX_FSTYPE];
	char path[MAX_PATH];
};

struct file_rec {
	struct rec_hdr hdr;
	__u32 reason;
	__u32 pad;
	struct written_file st;
};

struct rename_rec {
	struct rec_hdr hdr;
	__u16 old_base_len;
	__u16 old_name_len;
	__u16 new_base_len;
	__u16 new_name_len;
	char old_base[MAX_PATH]; /* directory the old name is relative to, if relative */
	char old_name[MAX_FILENAME];
	char new_base[MAX_PATH];
	char new_name[MAX_FILENAME];
};

enum tcp_reason {
	TCP_REPORT_CLOSE = 1,
	TCP_REPORT_INTERIM = 2,
};

/* A TCP connection's bytes since its previous report. Outbound connections
 * carry the process that called connect(); inbound ones (outbound = 0) are
 * accepted in softirq context and carry no process (hdr.pid = 0). */
struct tcp_rec {
	struct rec_hdr hdr; /* hdr.ts: when the report was made */
	__u32 reason;       /* enum tcp_reason */
	__u16 family;       /* AF_INET or AF_INET6 */
	__u16 sport;        /* host byte order */
	__u16 dport;        /* host byte order */
	__u8 outbound;
	__u8 pad;
	__u32 pad2;
	__u8 saddr[16]; /* AF_INET: first 4 bytes */
	__u8 daddr[16];
	__u64 start_ts;       /* connect() (or accept), CLOCK_BOOTTIME ns */
	__u64 bytes_sent;     /* acknowledged by the peer, since the previous report */
	__u64 bytes_received; /* since the previous report */
};

/* The first MAX_DNS bytes of a DNS answer that arrived over UDP from port 53
 * on the socket that sent its query, from the server asked, with the query's
 * id (1232 is the EDNS buffer size resolvers use since DNS flag day 2020). */
#define MAX_DNS 1232

struct dns_rec {
	__u32 type;     /* REC_DNS */
	__u16 len;      /* bytes of data captured; the ring record is cut after them */
	__u16 orig_len; /* UDP payload length on the wire */
	__u64 ts;
	__u8 data[MAX_DNS];
};

/* The start of a DNS query a process sent over UDP to port 53: its header
 * and question (a name is at most 255 bytes), with the sender. */
#define MAX_DNS_QUERY 288

struct dns_query_rec {
	struct rec_hdr hdr;
	__u16 len;      /* bytes of data captured; the ring record is cut after them */
	__u16 orig_len; /* UDP payload length on the wire */
	__u16 family;   /* AF_INET or AF_INET6 */
	__u16 dport;    /* host byte order */
	__u8 daddr[16]; /* the server asked; AF_INET: first 4 bytes */
	__u8 data[MAX_DNS_QUERY];
};

/* UDP sends are summed in a map, not sent per packet: user space drains the
 * sums every interval. Key and value of that map. */
struct udp_key {
	__u32 pid; /* thread group id of the sender */
	__u16 family;
	__u16 dport; /* host byte order */
	__u8 daddr[16];
};

struct udp_total {
	__u64 bytes; /* UDP payload bytes */
	__u64 packets;
	__u64 first_ts;
	__u64 last_ts;
	__u32 uid;
	__u32 loginuid;
	__u32 sessionid;
	__u32 tid; /* the thread that sent first */
	char comm[TASK_COMM_LEN];
};

/* ---- database sensor ---- */

#define MAX_CAPTURE 16384
#define CAPTURE_TAIL 4096

enum db_dir {
	DB_SEND = 0, /* this process sent the bytes */
	DB_RECV = 1, /* this process received them */
};

/* The connection both ends of a captured chunk belong to. */
struct db_conn {
	__u64 sock;   /* struct sock address: the connection's id while it lives */
	__u16 family; /* AF_INET, AF_INET6 or AF_UNIX */
	__u16 lport;  /* local port (0 for AF_UNIX) */
	__u16 rport;  /* remote port (0 for AF_UNIX) */
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
	__u64 ino;  /* AF_UNIX: the socket's inode number, which no other socket
		     * shares while the system runs (its address may be reused) */
	__u64 peer; /* AF_UNIX: the other end's struct sock address */
};

/* Bytes one send or receive moved on a database connection. */
struct db_data_rec {
	struct rec_hdr hdr;
	struct db_conn conn;
	__u32 len;  /* bytes the call moved */
	__u32 cap;  /* bytes captured below (at most MAX_CAPTURE) */
	__u32 tail; /* of which the last tail bytes are the end of the call's
		     * bytes (a long call is captured as head and tail, so the
		     * protocol's closing messages are seen) */
	__u8 dir;   /* enum db_dir */
	__u8 tls;   /* plaintext from the TLS library, not the socket */
	__u8 pad[2];
	__u8 data[MAX_CAPTURE];
};

/* A tracked database connection closed. */
struct db_close_rec {
	struct rec_hdr hdr;
	struct db_conn conn;
};

#define UNIX_PATH 108

/* A Unix-domain stream socket found to carry a database protocol, sent once
 * before its first data record: the ends' names, which the data records do
 * not carry. */
struct db_unix_rec {
	struct rec_hdr hdr;
	struct db_conn conn;
	__u64 peer_ino;      /* the other end's socket inode number */
	__u16 path_len;      /* bytes of path: the address this socket is bound to */
	__u16 peer_path_len; /* bytes of peer_path: the other end's */
	__u32 pad;
	char path[UNIX_PATH]; /* an abstract address starts with a NUL */
	char peer_path[UNIX_PATH];
};

/* ---- executable files mapped (db sensor's library discovery) ---- */

enum lib_how {
	LIB_EXEC = 0,     /* the program a process executed */
	LIB_MMAP = 1,     /* mmap of a file with PROT_EXEC (ld.so, dlopen) */
	LIB_MPROTECT = 2, /* a file mapping made executable later */
};

/* A process mapped a file executable that no process had mapped since
 * the sensor started (reported once per inode). */
struct lib_mapped_rec {
	struct rec_hdr hdr;
	__u64 ino;
	__u32 dev; /* the kernel's dev_t: major << 20 | minor */
	__u32 gen; /* i_generation: tells a reused inode number apart */
	__u8 how;  /* enum lib_how */
	__u8 pad[7];
};

#endif
