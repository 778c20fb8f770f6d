// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libwatch.bpf.c: which executable files processes map, so the db sensor can
 * probe every TLS library (and Go program) whenever it is loaded: at exec,
 * when ld.so or dlopen maps a file with PROT_EXEC, and when a file mapping is
 * made executable later with mprotect. Each inode is reported once: uprobes
 * are set per inode, so one look at a file serves every process mapping it.
 *
 * Records go to a ring of their own, read by the sensor's discovery
 * goroutine the moment they arrive: the agent's shared ring is polled, and
 * every millisecond between the mapping and the attach is traffic missed.
 */
#include "common.h"

#define PROT_EXEC 0x4
#define S_IFMT 00170000
#define S_IFREG 0100000

const struct lib_mapped_rec *unused_lib_mapped_rec __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} lib_ring SEC(".maps");

struct lib_key {
	__u64 ino;
	__u32 dev;
	__u32 gen;
};

/* Inodes already reported. An evicted entry is reported again, which the
 * agent's own table answers without opening the file. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct lib_key);
	__type(value, __u8);
} lib_seen SEC(".maps");

/* Reports f's inode unless reported before. It is marked seen only once
 * its record is in the ring, so a full ring loses nothing for good: the
 * next mapping of the file reports it. */
static __always_inline void report(struct file *f, __u8 how)
{
	if (!f || is_vigil())
		return;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if (!ino || (BPF_CORE_READ(ino, i_mode) & S_IFMT) != S_IFREG)
		return;
	struct lib_key key = {
		.ino = BPF_CORE_READ(ino, i_ino),
		.dev = BPF_CORE_READ(ino, i_sb, s_dev),
		.gen = BPF_CORE_READ(ino, i_generation),
	};
	if (bpf_map_lookup_elem(&lib_seen, &key))
		return;
	struct lib_mapped_rec r = {};
	fill_hdr(&r.hdr, REC_LIB_MAPPED);
	r.ino = key.ino;
	r.dev = key.dev;
	r.gen = key.gen;
	r.how = how;
	if (bpf_ringbuf_output(&lib_ring, &r, sizeof(r), 0) != 0) {
		count_drop(DROP_RINGBUF_FULL);
		return;
	}
	__u8 one = 1;
	bpf_map_update_elem(&lib_seen, &key, &one, BPF_ANY);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(lib_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	report(BPF_CORE_READ(bprm, file), LIB_EXEC);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int lib_mmap(struct trace_event_raw_sys_enter *ctx)
{
	if (!(ctx->args[2] & PROT_EXEC) || (long)ctx->args[4] < 0)
		return 0;
	report(fd_file(bpf_get_current_task_btf(), (long)ctx->args[4]), LIB_MMAP);
	return 0;
}

struct vma_file {
	struct file *f;
};

static long vma_file_cb(struct task_struct *task, struct vm_area_struct *vma, struct vma_file *out)
{
	out->f = vma->vm_file;
	return 0;
}

/* A mapping made read-only first and executable later (a loader of its own
 * evading the mmap hook) is found by its address. */
SEC("tracepoint/syscalls/sys_enter_mprotect")
int lib_mprotect(struct trace_event_raw_sys_enter *ctx)
{
	if (!(ctx->args[2] & PROT_EXEC))
		return 0;
	struct vma_file out = {};
	if (bpf_find_vma(bpf_get_current_task_btf(), ctx->args[0], vma_file_cb, &out, 0) != 0)
		return 0;
	report(out.f, LIB_MPROTECT);
	return 0;
}
