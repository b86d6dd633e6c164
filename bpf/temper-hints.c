/*
 * temper-hints: writes and reads scx_layered task hints (its --task-hint-map) with raw bpf(2)
 * and pidfd_open(2) calls, no libbpf. The map is scx_layered's `scx_layered_task_hint_map`
 * (scx_layered 1.1.4, src/bpf/main.bpf.c): BPF_MAP_TYPE_TASK_STORAGE, key a pidfd (int), value
 * `struct task_hint { u64 hint; u64 __reserved[3]; }`; a layer `[[{"HintEquals": h}]]` takes
 * every task whose hint is h at its next wake-up, without a scheduler restart. The map stays
 * pinned across scheduler restarts, and so do the hints.
 *
 *   temper-hints set MAP_PIN HINT TID...           writes HINT (0..1024) for each TID
 *       one line per TID, in argument order: "ok TID" or "err TID ERRNO STEP: message"
 *       (ERRNO a name such as ESRCH; STEP pidfd_open, update or lookup)
 *   temper-hints get MAP_PIN TID...                reads the hint of each TID
 *       one line per TID: "TID HINT", "TID none" (no hint written) or "err TID ERRNO STEP: message"
 *   temper-hints set-cgroup MAP_PIN HINT CGROUP_DIR
 *       writes HINT for every thread in CGROUP_DIR/cgroup.threads and in every descendant
 *       cgroup's (a pod cgroup and its container cgroups); prints "err TID ERRNO STEP: message"
 *       per failed thread, then "hinted N vanished V failed M". A thread that exits while being
 *       hinted (ESRCH) is vanished, not failed; a cgroup removed meanwhile is skipped. Threads
 *       created after the walk are not hinted: hints are not inherited.
 *
 * TIDs are as seen in the caller's PID namespace (the writer needs hostPID). Non-leader threads
 * are named with PIDFD_THREAD (Linux >= 6.9). Exit status: 0 all done, 1 some TID failed,
 * 2 bad arguments or the map (or CGROUP_DIR) could not be opened; then nothing was written.
 * Arguments are validated before anything is done: HINT and TIDs are canonical decimals.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* include/uapi/linux/pidfd.h, Linux 6.9 */
#endif
#define MAX_HINT 1024 /* scx_layered ignores larger values (lookup_task_hint) */
#define MAX_DEPTH 32  /* cgroup nesting below CGROUP_DIR; a pod has two levels */

struct task_hint {
	uint64_t hint;
	uint64_t reserved[3];
};

struct tally {
	unsigned long hinted, vanished, failed;
};

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static void usage(void)
{
	fprintf(stderr, "usage: temper-hints set MAP_PIN HINT TID...\n"
			"       temper-hints get MAP_PIN TID...\n"
			"       temper-hints set-cgroup MAP_PIN HINT CGROUP_DIR\n"
			"HINT is 0..%d; TID is a thread id in this PID namespace\n",
		MAX_HINT);
}

/* Canonical decimal in [min, max]: digits only, no sign, no leading zero. */
static int parse_num(const char *s, long min, long max, long *out)
{
	long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (LONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const char *errno_name(int e)
{
	static char other[16];

	switch (e) {
	case ESRCH: return "ESRCH";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case E2BIG: return "E2BIG";
	case EMFILE: return "EMFILE";
	case EAGAIN: return "EAGAIN";
	case EBUSY: return "EBUSY";
	case ENOSYS: return "ENOSYS";
	}
	snprintf(other, sizeof(other), "E%d", e);
	return other;
}

/* A per-TID failure: which step failed and why. */
struct fail {
	int err;
	const char *step;
};

static void print_err(long tid, struct fail f)
{
	const char *why = strerror(f.err);

	if (f.err == ESRCH)
		why = "no such thread";
	else if (f.err == EINVAL && strcmp(f.step, "pidfd_open") == 0)
		why = "PIDFD_THREAD refused (needs Linux >= 6.9)";
	printf("err %ld %s %s: %s\n", tid, errno_name(f.err), f.step, why);
}

/* Opens the pinned map and checks that it has the task hint map's shape. */
static int open_map(const char *pin, int rdonly)
{
	union bpf_attr attr;
	struct bpf_map_info info;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (uint64_t)(uintptr_t)pin;
	attr.file_flags = rdonly ? BPF_F_RDONLY : 0;
	fd = (int)sys_bpf(BPF_OBJ_GET, &attr);
	if (fd < 0) {
		fprintf(stderr, "temper-hints: open map %s: %s\n", pin, strerror(errno));
		return -1;
	}
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr)) {
		fprintf(stderr, "temper-hints: map %s: %s\n", pin, strerror(errno));
		close(fd);
		return -1;
	}
	if (info.type != BPF_MAP_TYPE_TASK_STORAGE || info.key_size != 4 || info.value_size != sizeof(struct task_hint)) {
		fprintf(stderr, "temper-hints: %s is not a task hint map (type %u key %u value %u; want task storage, 4, %zu)\n",
			pin, info.type, info.key_size, info.value_size, sizeof(struct task_hint));
		close(fd);
		return -1;
	}
	return fd;
}

static int pidfd_of(long tid)
{
	return (int)syscall(__NR_pidfd_open, (pid_t)tid, PIDFD_THREAD);
}

/* Whether the thread behind PIDFD has exited (task storage calls then fail with ENOENT). */
static int exited(int pidfd)
{
	return syscall(__NR_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 && errno == ESRCH;
}

/* One task-storage call on the map, keyed by a thread pidfd the caller owns: 0, or -1 with errno. */
static int map_elem(int map, int cmd, int *pidfd, struct task_hint *v)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)map;
	attr.key = (uint64_t)(uintptr_t)pidfd;
	attr.value = (uint64_t)(uintptr_t)v;
	if (cmd == BPF_MAP_UPDATE_ELEM)
		attr.flags = BPF_ANY;
	return (int)sys_bpf(cmd, &attr);
}

static struct fail write_hint(int map, long tid, long hint)
{
	struct task_hint v = { .hint = (uint64_t)hint };
	struct fail f = { 0, "" };
	int pidfd = pidfd_of(tid);

	if (pidfd < 0)
		return (struct fail){ errno, "pidfd_open" };
	if (map_elem(map, BPF_MAP_UPDATE_ELEM, &pidfd, &v)) {
		/* ENOENT: the thread exited after pidfd_open */
		f = (struct fail){ errno == ENOENT ? ESRCH : errno, "update" };
	}
	close(pidfd);
	return f;
}

/* Sets *hint (-1: none written). */
static struct fail read_hint(int map, long tid, long long *hint)
{
	struct task_hint v;
	struct fail f = { 0, "" };
	int pidfd = pidfd_of(tid);

	if (pidfd < 0)
		return (struct fail){ errno, "pidfd_open" };
	*hint = -1;
	if (map_elem(map, BPF_MAP_LOOKUP_ELEM, &pidfd, &v) == 0)
		*hint = (long long)v.hint;
	else if (errno != ENOENT)
		f = (struct fail){ errno, "lookup" };
	else if (exited(pidfd))
		f = (struct fail){ ESRCH, "lookup" };
	close(pidfd);
	return f;
}

static void hint_one(int map, long tid, long hint, struct tally *t)
{
	struct fail f = write_hint(map, tid, hint);

	if (f.err == 0)
		t->hinted++;
	else if (f.err == ESRCH)
		t->vanished++;
	else {
		print_err(tid, f);
		t->failed++;
	}
}

/* Hints every TID listed in DFD/cgroup.threads. -1 when the file cannot be opened. */
static int hint_threads_file(int map, int dfd, long hint, struct tally *t)
{
	char buf[4096];
	long tid = 0; /* -1: not a TID (too long), skipped */
	int fd = openat(dfd, "cgroup.threads", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] < '0' || buf[i] > '9') {
				if (tid > 0)
					hint_one(map, tid, hint, t);
				tid = 0;
			} else if (tid >= 0) {
				tid = tid * 10 + (buf[i] - '0');
				if (tid > INT_MAX)
					tid = -1;
			}
		}
	}
	if (tid > 0)
		hint_one(map, tid, hint, t);
	if (n < 0) {
		fprintf(stderr, "temper-hints: read cgroup.threads: %s\n", strerror(errno));
		t->failed++;
	}
	close(fd);
	return 0;
}

/* Hints the cgroup open at DFD (closed here) and its descendants. */
static void hint_cgroup(int map, int dfd, long hint, int depth, struct tally *t)
{
	DIR *dir;
	struct dirent *de;
	int again;

	if (hint_threads_file(map, dfd, hint, t) < 0) {
		/* removed since we listed it: its threads have left */
		close(dfd);
		return;
	}
	again = dup(dfd);
	if (again < 0 || !(dir = fdopendir(again))) {
		fprintf(stderr, "temper-hints: list cgroup: %s\n", strerror(errno));
		t->failed++;
		if (again >= 0)
			close(again);
		close(dfd);
		return;
	}
	while ((de = readdir(dir))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (depth >= MAX_DEPTH) {
			fprintf(stderr, "temper-hints: cgroups nested deeper than %d, %s not hinted\n", MAX_DEPTH, de->d_name);
			t->failed++;
			continue;
		}
		int child = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (child >= 0)
			hint_cgroup(map, child, hint, depth + 1, t);
	}
	closedir(dir);
	close(dfd);
}

int main(int argc, char **argv)
{
	long hint = 0, v;
	int set, get, cg, map, bad = 0, first_tid, status = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage();
		return 2;
	}
	set = strcmp(argv[1], "set") == 0;
	get = strcmp(argv[1], "get") == 0;
	cg = strcmp(argv[1], "set-cgroup") == 0;
	if (!set && !get && !cg) {
		fprintf(stderr, "temper-hints: unknown command \"%s\"\n", argv[1]);
		usage();
		return 2;
	}
	if ((get && argc < 4) || (set && argc < 5) || (cg && argc != 5)) {
		fprintf(stderr, "temper-hints %s: wrong number of arguments\n", argv[1]);
		usage();
		return 2;
	}
	if (!*argv[2]) {
		fprintf(stderr, "temper-hints: MAP_PIN is empty\n");
		bad = 1;
	}
	if ((set || cg) && parse_num(argv[3], 0, MAX_HINT, &hint)) {
		fprintf(stderr, "temper-hints: HINT must be a decimal 0..%d, got \"%s\"\n", MAX_HINT, argv[3]);
		bad = 1;
	}
	first_tid = get ? 3 : 4;
	for (int i = first_tid; !cg && i < argc; i++) {
		if (parse_num(argv[i], 1, INT_MAX, &v)) {
			fprintf(stderr, "temper-hints: TID must be a decimal 1..%d, got \"%s\"\n", INT_MAX, argv[i]);
			bad = 1;
		}
	}
	if (cg && !*argv[4]) {
		fprintf(stderr, "temper-hints: CGROUP_DIR is empty\n");
		bad = 1;
	}
	if (bad) {
		usage();
		return 2;
	}

	if ((map = open_map(argv[2], get)) < 0)
		return 2;
	if (cg) {
		struct tally t = { 0, 0, 0 };
		int dfd = open(argv[4], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || faccessat(dfd, "cgroup.threads", R_OK, 0)) {
			fprintf(stderr, "temper-hints: %s is not a readable cgroup: %s\n", argv[4], strerror(errno));
			if (dfd >= 0)
				close(dfd);
			close(map);
			return 2;
		}
		hint_cgroup(map, dfd, hint, 0, &t);
		printf("hinted %lu vanished %lu failed %lu\n", t.hinted, t.vanished, t.failed);
		status = t.failed ? 1 : 0;
	}
	for (int i = first_tid; !cg && i < argc; i++) {
		long tid;
		long long h = 0;
		struct fail f;

		parse_num(argv[i], 1, INT_MAX, &tid);
		f = set ? write_hint(map, tid, hint) : read_hint(map, tid, &h);
		if (f.err) {
			print_err(tid, f);
			status = 1;
		} else if (set)
			printf("ok %ld\n", tid);
		else if (h < 0)
			printf("%ld none\n", tid);
		else
			printf("%ld %lld\n", tid, h);
	}
	close(map);
	return status;
}
