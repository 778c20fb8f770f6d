// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * file.bpf.c: bytes written to regular files, summed in the kernel per open
 * file (struct file, so writes through dup'ed or inherited descriptors, such
 * as a shell redirect, count for the same file), reported when the last
 * descriptor closes, when the process exits, and every interim_ns while the
 * file keeps being written. Renames are reported for user space to relate to
 * written files.
 */
#include "common.h"

#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define WRITE_INTENT (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)
#define FMODE_CREATED (1 << 20)
#define S_IFMT 00170000
#define S_IFREG 0100000
#define AT_FDCWD -100

#define MAX_PREFIXES 8
#define MAX_PREFIX 64
#define PATH_DEPTH 48
/* path building: names are written backwards from PATH_END */
#define PATH_BUF 2048
#define PATH_MASK 1023
#define PATH_END 1023
#define NAME_MASK 255

const volatile __u64 interim_ns = 5000000000ULL;

const struct file_rec *unused_file_rec __attribute__((unused));
const struct rename_rec *unused_rename_rec __attribute__((unused));

struct prefix {
	__u32 len;
	char s[MAX_PREFIX];
};

/* Path prefixes not to report (set by the loader, len 0 = unused). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_PREFIXES);
	__type(key, __u32);
	__type(value, struct prefix);
} skip_prefixes SEC(".maps");

/* File system magics not to report (proc, sysfs, ...; set by the loader). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} skip_magics SEC(".maps");

/* Written files by struct file address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct written_file);
} files SEC(".maps");

struct open_info {
	__u32 flags;
	__u32 created;
};

/* Open flags of files opened with write intent, until their first write. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct open_info);
} opened SEC(".maps");

struct scratch {
	struct file_rec rec;
	struct written_file fresh;
	char path[PATH_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rename_rec);
} rename_scratch SEC(".maps");

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch_map, &zero);
}

/* Regular file on a file system we report? */
static __always_inline bool eligible(struct file *f)
{
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFREG)
		return false;
	__u32 magic = BPF_CORE_READ(f, f_inode, i_sb, s_magic);
	return bpf_map_lookup_elem(&skip_magics, &magic) == NULL;
}

struct file___pre613 {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* Is the caller's descriptor the last reference to f? */
static __always_inline bool last_ref(struct file *f)
{
	if (bpf_core_field_exists(f->f_ref))
		return BPF_CORE_READ(f, f_ref.refcnt.counter) == 0; /* FILE_REF_ONEREF */
	struct file___pre613 *old = (void *)f;
	return BPF_CORE_READ(old, f_count.counter) == 1;
}

/*
 * Writes the absolute path of p into out (MAX_PATH bytes), walking dentries
 * and mounts up to the root. Returns the length; sets *trunc when the path
 * was longer than MAX_PATH and only its tail was kept.
 */
static __always_inline __u16 resolve_path(const struct path *p, char *buf, char *out, bool *trunc)
{
	struct dentry *d = BPF_CORE_READ(p, dentry);
	struct vfsmount *vm = BPF_CORE_READ(p, mnt);
	struct mount *mnt = container_of(vm, struct mount, mnt);
	int off = PATH_END;
	buf[PATH_END] = 0;
	*trunc = false;

	for (int i = 0; i < PATH_DEPTH; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
		if (d == mnt_root || d == parent) {
			struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
			if (mp == mnt || !mp)
				break;
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mp;
			vm = &mp->mnt;
			continue;
		}
		__u32 len = BPF_CORE_READ(d, d_name.len) & NAME_MASK;
		if (off - (int)len - 1 < PATH_END - (MAX_PATH - 1)) {
			*trunc = true;
			break;
		}
		off -= len;
		bpf_probe_read_kernel(&buf[off & PATH_MASK], len, BPF_CORE_READ(d, d_name.name));
		off -= 1;
		buf[off & PATH_MASK] = '/';
		d = parent;
	}
	if (off == PATH_END) {
		off -= 1;
		buf[off & PATH_MASK] = '/';
	}
	bpf_probe_read_kernel_str(out, MAX_PATH, &buf[off & PATH_MASK]);
	return PATH_END - off;
}

static __always_inline bool has_prefix(const char *path, struct prefix *pf)
{
	__u32 n = pf->len;
	if (n == 0 || n > MAX_PREFIX)
		return false;
	for (int i = 0; i < MAX_PREFIX; i++) {
		if (i >= n)
			break;
		if (path[i] != pf->s[i])
			return false;
	}
	/* "/proc" matches "/proc" and "/proc/..." but not "/process" */
	if (pf->s[(n - 1) & (MAX_PREFIX - 1)] == '/')
		return true;
	char next = path[n & (MAX_PATH - 1)];
	return next == 0 || next == '/';
}

static __always_inline bool skipped_path(const char *path)
{
	for (__u32 i = 0; i < MAX_PREFIXES; i++) {
		struct prefix *pf = bpf_map_lookup_elem(&skip_prefixes, &i);
		if (!pf || pf->len == 0)
			return false;
		if (has_prefix(path, pf))
			return true;
	}
	return false;
}

/* Reports what entry has gathered since its last report and starts afresh. */
static __always_inline void report(struct written_file *w, __u32 reason)
{
	struct scratch *s = get_scratch();
	if (!s)
		return;
	struct file_rec *r = &s->rec;
	fill_hdr(&r->hdr, REC_FILE_WRITE);
	r->reason = reason;
	bpf_probe_read_kernel(&r->st, sizeof(r->st), w);
	r->st.bytes = __sync_lock_test_and_set(&w->bytes, 0);
	r->st.writes = __sync_lock_test_and_set(&w->writes, 0);
	w->writer_pid = 0;
	w->first_ts = 0;
	w->last_report = r->hdr.ts;
	w->bits &= ~FILE_CREATED; /* said once */
	if (r->st.bytes == 0 && !(r->st.bits & FILE_CREATED))
		return;
	submit(r, file_rec_size(r));
}

/*
 * The entry of f, if it is f's: a struct file freed without a probe seeing
 * its last close (dup2 over the descriptor, close_range, exec closing a
 * close-on-exec descriptor) can have its address reused by a new file. Such
 * a stale entry is reported and forgotten.
 */
static __always_inline struct written_file *lookup_file(struct file *f)
{
	__u64 key = (__u64)f;
	struct written_file *w = bpf_map_lookup_elem(&files, &key);
	if (!w)
		return NULL;
	if (w->inode == (__u64)BPF_CORE_READ(f, f_inode))
		return w;
	if (!w->ignored)
		report(w, FILE_CLOSE);
	bpf_map_delete_elem(&files, &key);
	return NULL;
}

/* Starts tracking f at its first write. Returns NULL for files not reported. */
static __always_inline struct written_file *track(struct file *f)
{
	__u64 key = (__u64)f;
	struct scratch *s = get_scratch();
	if (!s)
		return NULL;
	struct written_file *w = &s->fresh;
	__builtin_memset(w, 0, sizeof(*w) - MAX_PATH);

	struct open_info *oi = bpf_map_lookup_elem(&opened, &key);
	if (oi) {
		w->open_flags = oi->flags;
		if (oi->created)
			w->bits |= FILE_CREATED;
		w->bits |= FILE_OPEN_SEEN;
		bpf_map_delete_elem(&opened, &key);
	} else {
		w->open_flags = BPF_CORE_READ(f, f_flags);
	}
	w->inode = (__u64)BPF_CORE_READ(f, f_inode);
	struct super_block *sb = BPF_CORE_READ(f, f_inode, i_sb);
	w->dev = BPF_CORE_READ(sb, s_dev);
	w->fs_magic = BPF_CORE_READ(sb, s_magic);
	bpf_probe_read_kernel_str(w->fstype, sizeof(w->fstype), BPF_CORE_READ(sb, s_type, name));

	bool trunc;
	w->path_len = resolve_path(&f->f_path, s->path, w->path, &trunc);
	if (trunc)
		w->bits |= FILE_PATH_TRUNC;
	w->ignored = skipped_path(w->path);
	w->last_report = bpf_ktime_get_boot_ns();

	if (bpf_map_update_elem(&files, &key, w, BPF_NOEXIST) != 0) {
		struct written_file *other = bpf_map_lookup_elem(&files, &key);
		if (!other)
			count_drop(DROP_MAP_FULL);
		return other; /* another CPU started it first */
	}
	return bpf_map_lookup_elem(&files, &key);
}

/* ---- opens: remember the flags of opens with write intent ---- */

/* Which open call returned: where its flags are. */
enum open_call {
	OPEN_OPENAT,
	OPEN_OPEN,
	OPEN_CREAT,
	OPEN_OPENAT2,
};

/* An open, at its return (nothing is done at entry): its flags are read
 * back from its arguments (syscall_regs), so the many opens for reading
 * cost a compare. */
static __always_inline void open_exit(long fd, enum open_call call)
{
	if (fd < 0 || is_vigil())
		return;
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = syscall_regs(t);
	if (!regs)
		return;
	__u32 flags;
	if (call == OPEN_OPEN) {
		flags = PT_REGS_PARM2_SYSCALL(regs);
	} else if (call == OPEN_CREAT) {
		flags = O_CREAT | O_WRONLY | O_TRUNC;
	} else if (call == OPEN_OPENAT2) {
		struct open_how how = {};
		if (bpf_probe_read_user(&how, sizeof(how), (void *)PT_REGS_PARM3_SYSCALL(regs)) != 0)
			return;
		flags = how.flags;
	} else {
		flags = PT_REGS_PARM3_SYSCALL(regs);
	}
	if (!(flags & WRITE_INTENT))
		return;
	struct file *f = fd_file(t, fd);
	if (!f || !eligible(f))
		return;
	struct open_info oi = {.flags = flags, .created = (BPF_CORE_READ(f, f_mode) & FMODE_CREATED) != 0};
	__u64 key = (__u64)f;
	bpf_map_update_elem(&opened, &key, &oi, BPF_ANY);
}

SYSCALL_EXIT(exit_openat, openat, open_exit, OPEN_OPENAT)
SYSCALL_EXIT(exit_open, open, open_exit, OPEN_OPEN)
SYSCALL_EXIT(exit_creat, creat, open_exit, OPEN_CREAT)
SYSCALL_EXIT(exit_openat2, openat2, open_exit, OPEN_OPENAT2)

/* ---- writes: sum bytes per open file ---- */

/* A write, at its return (nothing is done at entry): the descriptor is
 * read back from its arguments (syscall_regs), argument fd_arg (1 or 3). */
static __always_inline void write_exit(long ret, int fd_arg)
{
	if (ret <= 0 || is_vigil())
		return;
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = syscall_regs(t);
	if (!regs)
		return;
	int fd = fd_arg == 3 ? PT_REGS_PARM3_SYSCALL(regs) : PT_REGS_PARM1_SYSCALL(regs);
	struct file *f = fd_file(t, fd);
	if (!f)
		return;
	struct written_file *w = lookup_file(f);
	if (!w) {
		if (!eligible(f))
			return;
		w = track(f);
	}
	if (!w || w->ignored)
		return;
	__u64 now = bpf_ktime_get_boot_ns();
	__sync_fetch_and_add(&w->bytes, ret);
	__sync_fetch_and_add(&w->writes, 1);
	if (w->writer_pid == 0) {
		__u64 id = bpf_get_current_pid_tgid();
		w->writer_pid = id >> 32;
		w->writer_tid = (__u32)id;
		w->first_ts = now;
	}
	w->last_ts = now;
	if (now - w->last_report >= interim_ns)
		report(w, FILE_INTERIM);
}

SYSCALL_EXIT(exit_write, write, write_exit, 1)
SYSCALL_EXIT(exit_pwrite64, pwrite64, write_exit, 1)
SYSCALL_EXIT(exit_writev, writev, write_exit, 1)
SYSCALL_EXIT(exit_pwritev, pwritev, write_exit, 1)
SYSCALL_EXIT(exit_pwritev2, pwritev2, write_exit, 1)
SYSCALL_EXIT(exit_sendfile64, sendfile64, write_exit, 1)           /* out_fd */
SYSCALL_EXIT(exit_copy_file_range, copy_file_range, write_exit, 3) /* fd_out */

/* ---- close and exit: report ---- */

/* The descriptor fd is about to stop referring to its file. */
static __always_inline void fd_closing(long fd)
{
	struct file *f = fd_file(bpf_get_current_task_btf(), fd);
	if (!f)
		return;
	__u64 key = (__u64)f;
	struct written_file *w = lookup_file(f);
	if (!w) {
		bpf_map_delete_elem(&opened, &key);
		return;
	}
	if (!w->ignored)
		report(w, FILE_CLOSE);
	if (last_ref(f))
		bpf_map_delete_elem(&files, &key);
}

SEC("tracepoint/syscalls/sys_enter_close")
int enter_close(struct trace_event_raw_sys_enter *ctx)
{
	fd_closing(ctx->args[0]);
	return 0;
}

/* dup2 and dup3 close what newfd referred to: shells restore stdout after a
 * redirect this way, dropping the redirected file without a close(2). */
SEC("tracepoint/syscalls/sys_enter_dup2")
int enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[0] != ctx->args[1])
		fd_closing(ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[0] != ctx->args[1])
		fd_closing(ctx->args[1]);
	return 0;
}

struct exit_walk {
	struct file **fds;
	__u32 max;
	bool sole; /* the descriptor table is not shared */
};

static long flush_fd(__u32 i, struct exit_walk *c)
{
	if (i >= c->max)
		return 1;
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &c->fds[i]);
	if (!f)
		return 0;
	__u64 key = (__u64)f;
	struct written_file *w = lookup_file(f);
	if (!w)
		return 0;
	if (!w->ignored)
		report(w, FILE_EXIT);
	if (c->sole && last_ref(f))
		bpf_map_delete_elem(&files, &key);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(file_exit, struct task_struct *p, bool group_dead)
{
	if (!group_dead)
		return 0;
	struct files_struct *files = BPF_CORE_READ(p, files);
	if (!files)
		return 0;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	struct exit_walk c = {
		.fds = BPF_CORE_READ(fdt, fd),
		.max = BPF_CORE_READ(fdt, max_fds),
		.sole = BPF_CORE_READ(files, count.counter) == 1,
	};
	bpf_loop(c.max < 4096 ? c.max : 4096, flush_fd, &c, 0);
	return 0;
}

/* ---- renames ---- */

/* Directory a relative name is resolved against: the cwd or dfd's file. */
static __always_inline __u16 resolve_base(long dfd, char *buf, char *out)
{
	struct task_struct *t = bpf_get_current_task_btf();
	bool trunc;
	if (dfd == AT_FDCWD) {
		struct path pwd = BPF_CORE_READ(t, fs, pwd);
		return resolve_path(&pwd, buf, out, &trunc);
	}
	struct file *f = fd_file(t, dfd);
	if (!f)
		return 0;
	return resolve_path(&f->f_path, buf, out, &trunc);
}

/* Which rename call returned: where its arguments are. */
enum rename_call {
	RENAME,
	RENAMEAT, /* and renameat2 */
};

/* A rename, at its return (nothing is done at entry): the names are read
 * back from its arguments (syscall_regs). */
static __always_inline void rename_exit(long ret, enum rename_call call)
{
	if (ret != 0 || is_vigil())
		return;
	struct pt_regs *regs = syscall_regs(bpf_get_current_task_btf());
	if (!regs)
		return;
	long olddfd = AT_FDCWD, newdfd = AT_FDCWD;
	__u64 oldname, newname;
	if (call == RENAME) {
		oldname = PT_REGS_PARM1_SYSCALL(regs);
		newname = PT_REGS_PARM2_SYSCALL(regs);
	} else {
		olddfd = (int)PT_REGS_PARM1_SYSCALL(regs);
		oldname = PT_REGS_PARM2_SYSCALL(regs);
		newdfd = (int)PT_REGS_PARM3_SYSCALL(regs);
		newname = PT_REGS_PARM4_SYSCALL(regs);
	}
	__u32 zero = 0;
	struct rename_rec *r = bpf_map_lookup_elem(&rename_scratch, &zero);
	struct scratch *s = get_scratch();
	if (!r || !s)
		return;
	fill_hdr(&r->hdr, REC_FILE_RENAME);
	long n = bpf_probe_read_user_str(r->old_name, sizeof(r->old_name), (void *)oldname);
	r->old_name_len = n > 0 ? n - 1 : 0;
	n = bpf_probe_read_user_str(r->new_name, sizeof(r->new_name), (void *)newname);
	r->new_name_len = n > 0 ? n - 1 : 0;
	r->old_base_len = 0;
	r->new_base_len = 0;
	r->old_base[0] = 0;
	r->new_base[0] = 0;
	if (r->old_name[0] != '/')
		r->old_base_len = resolve_base(olddfd, s->path, r->old_base);
	if (r->new_name[0] != '/')
		r->new_base_len = resolve_base(newdfd, s->path, r->new_base);
	submit_urgent(r, sizeof(*r));
}

SYSCALL_EXIT(exit_rename, rename, rename_exit, RENAME)
SYSCALL_EXIT(exit_renameat, renameat, rename_exit, RENAMEAT)
SYSCALL_EXIT(exit_renameat2, renameat2, rename_exit, RENAMEAT)
