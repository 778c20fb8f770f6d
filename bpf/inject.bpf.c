// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * inject.bpf.c: a benchmark's record source, not part of the agent. Each run
 * (BPF_PROG_TEST_RUN, many runs per call with its repeat count) copies one
 * file_rec that user space filled into the agent's ring buffer, exactly as
 * the file sensor submits one: same ring, same wakeup policy (common.h), same
 * trimmed size. It stamps the record's times and writes a running number
 * into its path, so every record is a distinct file. With it a benchmark can
 * offer the agent more records per second than real syscalls on the same
 * cores could produce, and measure what the agent, not the load generator,
 * sustains.
 */
#include "common.h"

/* The record to inject, filled by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_rec);
} tmpl SEC(".maps");

/* Where in the path the 8 digits of the running number go (set by the
 * loader: the template's path ends with 8 placeholder bytes). */
const volatile __u32 num_at = 0;

/* Records offered so far: the running number. */
__u64 injected = 0;
/* Runs past this many records return at once: the kernel may be
 * interrupted part way through a repeat count, and the Go library then runs
 * the whole count again. Set by user space before each run; one runner at a
 * time. */
__u64 limit = 0;

SEC("xdp")
int inject(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct file_rec *r = bpf_map_lookup_elem(&tmpl, &zero);
	if (!r)
		return XDP_PASS;
	if (injected >= limit)
		return XDP_PASS;
	__u64 now = bpf_ktime_get_boot_ns();
	r->hdr.ts = now;
	r->st.first_ts = now;
	r->st.last_ts = now;
	__u64 n = __sync_fetch_and_add(&injected, 1);
	for (int i = 7; i >= 0; i--) {
		r->st.path[(num_at + i) & (MAX_PATH - 1)] = '0' + n % 10;
		n /= 10;
	}
	submit(r, file_rec_size(r));
	return XDP_PASS;
}
