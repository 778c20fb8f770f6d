/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* common.h: what every vigil sensor program shares: its ring buffer, its loss
 * counters, the agent's own pid to ignore, and filling the record header. */
#ifndef VIGIL_COMMON_H
#define VIGIL_COMMON_H

#include "vmlinux.h"
#include "bpf_helpers.h"
#include "bpf_core_read.h"
#include "bpf_tracing.h"
#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before the program is loaded. */
const volatile __u32 agent_pid = 0;
/* Non-zero when the reader polls the ring (the agent does, every few ms):
 * records are then submitted without a wakeup. Zero lets the kernel wake
 * the reader whenever it has caught up. Set by the loader. */
const volatile __u8 no_wakeup = 0;
/* With no_wakeup: once this many bytes wait in the ring, a record wakes the
 * reader anyway, so that a burst starting while it sleeps its longest does
 * not fill the ring. Zero: never. Set by the loader. */
const volatile __u32 wake_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* resized by the loader */
} events SEC(".maps");

/* Records the sensor could not submit, by enum drop_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);
	if (n)
		*n += 1;
}

/* Copy a record into the ring buffer; non-zero when there was no room. */
static __always_inline long ring_output(void *rec, __u64 size)
{
	__u64 flags = 0;
	if (no_wakeup) {
		flags = BPF_RB_NO_WAKEUP;
		if (wake_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	return bpf_ringbuf_output(&events, rec, size, flags);
}

/* Copy a record into the ring buffer, counting it when there is no room. */
static __always_inline void submit(void *rec, __u64 size)
{
	if (ring_output(rec, size) != 0)
		count_drop(DROP_RINGBUF_FULL);
}

/* submit for a record a host rule may alert on as soon as it is read (an
 * exec, a rename): it wakes the reader whatever the polling policy, so the
 * alert's latency does not depend on how long the reader sleeps. Such
 * records are rare next to writes and database calls, so their wakeups
 * cost little. */
static __always_inline void submit_urgent(void *rec, __u64 size)
{
	if (bpf_ringbuf_output(&events, rec, size, BPF_RB_FORCE_WAKEUP) != 0)
		count_drop(DROP_RINGBUF_FULL);
}

/* A file_rec's size in the ring: cut after its path's NUL, so a short path
 * does not carry MAX_PATH bytes (user space zero-fills the rest). */
static __always_inline __u64 file_rec_size(const struct file_rec *r)
{
	__u64 size = sizeof(*r) - MAX_PATH + (r->st.path_len & (MAX_PATH - 1)) + 1;
	return size > sizeof(*r) ? sizeof(*r) : size;
}

/* Entry 0: the pid of the NATS server the agent publishes to, when that
 * server runs on this host (a co-hosted collector), else 0. Shared by every
 * sensor and set by the agent on each connection: what that server writes is
 * the agent's own stream coming back, and reporting it would be published
 * and written again, a loop. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} nats_server_pid SEC(".maps");

/* Whether process tgid is one of vigil's own on this host: the
 * agent, or the NATS server it publishes to. Their activity is not
 * reported. */
static __always_inline bool vigil_tgid(__u32 tgid)
{
	if (agent_pid != 0 && tgid == agent_pid)
		return true;
	__u32 zero = 0;
	__u32 *pid = bpf_map_lookup_elem(&nats_server_pid, &zero);
	return pid && *pid != 0 && *pid == tgid;
}

/* vigil_tgid for the current task. */
static __always_inline bool is_vigil(void)
{
	return vigil_tgid(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline void fill_hdr_task(struct rec_hdr *h, __u32 type, struct task_struct *t)
{
	h->type = type;
	h->pid = BPF_CORE_READ(t, tgid);
	h->tid = BPF_CORE_READ(t, pid);
	h->uid = BPF_CORE_READ(t, cred, uid.val);
	h->loginuid = BPF_CORE_READ(t, loginuid.val);
	h->sessionid = BPF_CORE_READ(t, sessionid);
	h->ts = bpf_ktime_get_boot_ns();
	BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
}

/* fill_hdr_task for the current task, with plain loads instead of helper
 * reads: it runs for every record of the syscall-path sensors. */
static __always_inline void fill_hdr(struct rec_hdr *h, __u32 type)
{
	struct task_struct *t = bpf_get_current_task_btf();
	h->type = type;
	h->pid = t->tgid;
	h->tid = t->pid;
	h->uid = t->cred->uid.val;
	h->loginuid = t->loginuid.val;
	h->sessionid = t->sessionid;
	h->ts = bpf_ktime_get_boot_ns();
	bpf_get_current_comm(&h->comm, sizeof(h->comm));
}

/* The user registers task t entered the kernel with (a BTF pointer): at a
 * syscall's exit tracepoint they still hold its arguments
 * (PT_REGS_PARMn_SYSCALL), so a program at the exit alone sees both the
 * arguments and the result, with no state kept from the entry. Kernel 5.15
 * or later. */
static __always_inline struct pt_regs *syscall_regs(struct task_struct *t)
{
	return (struct pt_regs *)bpf_task_pt_regs(t);
}

/* Program prog at the exit of syscall name: handler(its return value, the
 * rest of the arguments). With syscall_regs, the one program a call needs. */
#define SYSCALL_EXIT(prog, name, handler, ...)                 \
	SEC("tracepoint/syscalls/sys_exit_" #name)             \
	int prog(struct trace_event_raw_sys_exit *ctx)         \
	{                                                      \
		handler(ctx->ret, __VA_ARGS__);                \
		return 0;                                      \
	}

/* The open file behind descriptor fd of task t (a BTF pointer, such as
 * bpf_get_current_task_btf's), or NULL. The table is reached with plain
 * loads; the slot holds a pointer, not a struct, and a cast to untyped
 * memory would need kernel 6.17, so reading it costs one helper call. The
 * file comes back as an address the verifier does not let the program load
 * through. */
static __always_inline struct file *fd_file(struct task_struct *t, long fd)
{
	struct files_struct *files = t->files;
	if (!files)
		return NULL;
	struct fdtable *fdt = files->fdt;
	if (!fdt || fd < 0 || fd >= fdt->max_fds)
		return NULL;
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
}

#endif
