// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* process.bpf.c: exec, fork and exit of processes, with the login identity
 * (audit loginuid and session) and controlling terminal of each. */
#include "common.h"

/* Keep the record types in BTF so bpf2go can generate their Go twins. */
const struct exit_rec *unused_exit_rec __attribute__((unused));
const struct fork_rec *unused_fork_rec __attribute__((unused));

/* Records are larger than the BPF stack, so they are built here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_rec);
} exec_scratch SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0;
	struct exec_rec *r = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!r)
		return 0;

	fill_hdr_task(&r->hdr, REC_EXEC, p);
	r->ppid = BPF_CORE_READ(p, real_parent, tgid);
	r->gid = BPF_CORE_READ(p, cred, gid.val);
	r->start_boottime = BPF_CORE_READ(p, start_boottime);

	long n = bpf_probe_read_kernel_str(r->filename, sizeof(r->filename), BPF_CORE_READ(bprm, filename));
	r->filename_len = n > 0 ? n - 1 : 0;

	r->tty[0] = 0;
	struct tty_struct *tty = BPF_CORE_READ(p, signal, tty);
	if (tty)
		bpf_probe_read_kernel_str(r->tty, sizeof(r->tty), &tty->name);

	unsigned long start = BPF_CORE_READ(p, mm, arg_start);
	unsigned long end = BPF_CORE_READ(p, mm, arg_end);
	unsigned long len = end - start;
	r->args_truncated = len > MAX_ARGS;
	if (len > MAX_ARGS)
		len = MAX_ARGS;
	r->args_len = 0;
	if (len > 0 && bpf_probe_read_user(r->args, len, (void *)start) == 0)
		r->args_len = len;

	submit_urgent(r, sizeof(*r));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	/* New threads share the parent's process: only new processes count. */
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	struct fork_rec r = {};
	fill_hdr_task(&r.hdr, REC_FORK, child);
	r.ppid = BPF_CORE_READ(parent, tgid);
	r.start_boottime = BPF_CORE_READ(child, start_boottime);
	submit(&r, sizeof(r));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p, bool group_dead)
{
	if (!group_dead)
		return 0;
	struct exit_rec r = {};
	fill_hdr_task(&r.hdr, REC_EXIT, p);
	r.ppid = BPF_CORE_READ(p, real_parent, tgid);
	r.exit_code = BPF_CORE_READ(p, signal, group_exit_code);
	if (r.exit_code == 0)
		r.exit_code = BPF_CORE_READ(p, exit_code);
	r.start_boottime = BPF_CORE_READ(p, start_boottime);
	submit(&r, sizeof(r));
	return 0;
}
