/*
 * Dumps scx_layered's per-task layer map for the test VM (there is no bpftool in the guest).
 * scx_layered started with --enable-match-debug records, for every task it matches, the index
 * (in config order) of the layer the task matched, in the BPF hash "layer_match_dbg"
 * (u32 tid -> u32 layer index; entries are removed when a task exits). Built static by
 * bpf/vm.ts.
 *
 *   scx-matches        prints "MATCHES <n>" and then one "<tid> <layer_index>" line per task
 *
 *   scx-matches tasks [-m HINT_PIN] [-w LAYER] [-t TIMEOUT_MS] [-i INTERVAL_MS] TID...
 *       per TID: its hint (from the pinned task hint map HINT_PIN, with -m), its live layer and
 *       its match record, as "T <ms> <tid> hint=<h|none> live=<layer|none> rec=<layer|none>
 *       after=<ms>" (ms since the start; after: the previous poll, which saw another state, or -1). The live layer is task_ctx.layer_id from scx_layered's task
 *       storage "task_ctxs": the hint fast path (maybe_refresh_task_layer_from_hint) switches it
 *       without a rematch, and so without touching the match record. Layout of scx_layered
 *       1.1.4: int pid at offset 0 (checked against the TID), u32 layer_id at offset 8; none is a
 *       task not yet placed (layer_id == MAX_LAYERS) or without a context.
 *       Without -w: one line per TID. With -w: polls every INTERVAL_MS (default 10), prints a
 *       line per TID at the start and whenever it changes, and ends with "TASKS-DONE <ms>"
 *       once every TID has live=LAYER and rec=LAYER (exit 0), or "TASKS-TIMEOUT <ms>" after
 *       TIMEOUT_MS (default 5000, exit 1). A TID that has exited prints "gone".
 *
 *   scx-matches tasks -s [-m HINT_PIN]
 *       Serves: per line of TIDs on stdin, one "T <ms> <tid> hint=… live=… rec=…" (or "gone")
 *       line per TID and then "END", without a process per sample (a poller in a slow guest);
 *       <ms> is CLOCK_MONOTONIC when that TID was read, so a slow reader does not skew it.
 *
 * With several maps of a name alive (a scheduler that is still being torn down), the one with
 * the highest id (the newest) is used. Exit status 1 when no such map exists.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* fd of the newest map named WANT with these key and value sizes (value 0: any, its size in
 * *value_size), or -1. */
static int newest_map(const char *want, uint32_t key_size, uint32_t value, uint32_t *value_size)
{
	uint32_t id = 0, best_id = 0;
	int fd = -1;

	for (;;) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(BPF_MAP_GET_NEXT_ID, &attr))
			break;
		id = attr.next_id;

		memset(&attr, 0, sizeof(attr));
		attr.map_id = id;
		int mfd = (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &attr);
		if (mfd < 0)
			continue;
		struct bpf_map_info info;
		memset(&info, 0, sizeof(info));
		memset(&attr, 0, sizeof(attr));
		attr.info.bpf_fd = (uint32_t)mfd;
		attr.info.info_len = sizeof(info);
		attr.info.info = (uint64_t)(uintptr_t)&info;
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) == 0 && strncmp(info.name, want, sizeof(info.name)) == 0 &&
		    info.key_size == key_size && (!value || info.value_size == value) && id > best_id) {
			if (fd >= 0)
				close(fd);
			fd = mfd;
			best_id = id;
			if (value_size)
				*value_size = info.value_size;
			continue;
		}
		close(mfd);
	}
	return fd;
}

static int lookup(int fd, const void *key, void *value)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)fd;
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	return (int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#define MAX_WATCH 64
#define MAX_LAYERS 16 /* scx_layered's; layer_id == MAX_LAYERS: not placed yet */

struct watched {
	long tid;
	int pidfd;
	char line[96]; /* "hint=… live=… rec=…" last printed */
	int done;
};

/* One TID's state as "hint=… live=… rec=…"; sets *done when live and rec are LAYER. */
static void task_state(const struct watched *w, int hints, int ctxs, int dbg, long layer, char *out, size_t len, int *done)
{
	static unsigned char ctx[4096];
	char hint[24] = "none", live[24] = "none", rec[24] = "none";
	uint64_t hv[4];
	uint32_t key = (uint32_t)w->tid, rv;

	if (syscall(__NR_pidfd_send_signal, w->pidfd, 0, NULL, 0) < 0 && errno == ESRCH) {
		snprintf(out, len, "gone");
		*done = 0;
		return;
	}
	if (hints >= 0 && lookup(hints, &w->pidfd, hv) == 0)
		snprintf(hint, sizeof(hint), "%llu", (unsigned long long)hv[0]);
	if (lookup(ctxs, &w->pidfd, ctx) == 0) {
		int32_t pid;
		uint32_t lid;
		memcpy(&pid, ctx, 4);
		memcpy(&lid, ctx + 8, 4);
		if (pid != (int32_t)w->tid)
			snprintf(live, sizeof(live), "?layout(pid=%d)", pid);
		else if (lid < MAX_LAYERS)
			snprintf(live, sizeof(live), "%u", lid);
	}
	if (lookup(dbg, &key, &rv) == 0)
		snprintf(rec, sizeof(rec), "%u", rv);
	snprintf(out, len, "hint=%s live=%s rec=%s", hint, live, rec);
	char want[24];
	snprintf(want, sizeof(want), "%ld", layer);
	*done = strcmp(live, want) == 0 && strcmp(rec, want) == 0;
}

static int tasks(int argc, char **argv)
{
	const char *hint_pin = NULL;
	long layer = -1, timeout_ms = 5000, interval_ms = 10;
	struct watched w[MAX_WATCH];
	int n = 0, opt, hints = -1, ctxs, dbg, serve = 0;
	uint32_t ctx_size = 0;

	while ((opt = getopt(argc, argv, "m:w:t:i:s")) != -1) {
		switch (opt) {
		case 's': serve = 1; break;
		case 'm': hint_pin = optarg; break;
		case 'w': layer = atol(optarg); break;
		case 't': timeout_ms = atol(optarg); break;
		case 'i': interval_ms = atol(optarg); break;
		default: goto usage;
		}
	}
	if ((serve ? optind != argc : optind >= argc) || argc - optind > MAX_WATCH || interval_ms <= 0 || timeout_ms <= 0)
		goto usage;
	for (int i = optind; i < argc; i++, n++) {
		w[n].tid = atol(argv[i]);
		w[n].line[0] = 0;
		w[n].pidfd = w[n].tid > 0 ? (int)syscall(__NR_pidfd_open, (pid_t)w[n].tid, PIDFD_THREAD) : -1;
		if (w[n].pidfd < 0) {
			fprintf(stderr, "scx-matches: pidfd_open %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
	}
	if (hint_pin) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.pathname = (uint64_t)(uintptr_t)hint_pin;
		attr.file_flags = BPF_F_RDONLY;
		if ((hints = (int)sys_bpf(BPF_OBJ_GET, &attr)) < 0) {
			fprintf(stderr, "scx-matches: open %s: %s\n", hint_pin, strerror(errno));
			return 1;
		}
	}
	ctxs = newest_map("task_ctxs", 4, 0, &ctx_size);
	dbg = newest_map("layer_match_dbg", 4, 4, NULL);
	if (ctxs < 0 || dbg < 0 || ctx_size < 12 || ctx_size > 4096) {
		fprintf(stderr, "scx-matches: no BPF maps task_ctxs and layer_match_dbg (is scx_layered running with --enable-match-debug?)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (serve) {
		char req[65536];
		while (fgets(req, sizeof(req), stdin)) {
			for (char *tok = strtok(req, " \n"); tok; tok = strtok(NULL, " \n")) {
				struct watched one = { .tid = atol(tok) };
				char line[96];
				one.pidfd = one.tid > 0 ? (int)syscall(__NR_pidfd_open, (pid_t)one.tid, PIDFD_THREAD) : -1;
				if (one.pidfd < 0)
					snprintf(line, sizeof(line), "gone");
				else
					task_state(&one, hints, ctxs, dbg, layer, line, sizeof(line), &one.done);
				if (one.pidfd >= 0)
					close(one.pidfd);
				printf("T %.1f %ld %s\n", now_ms(), one.tid, line);
			}
			printf("END\n");
		}
		return 0;
	}
	double t0 = now_ms(), prev = -1;
	for (;;) {
		double t = now_ms() - t0;
		int all = 1;
		for (int i = 0; i < n; i++) {
			char line[96];
			task_state(&w[i], hints, ctxs, dbg, layer, line, sizeof(line), &w[i].done);
			if (strcmp(line, w[i].line) != 0) {
				printf("T %.1f %ld %s after=%.1f\n", t, w[i].tid, line, prev);
				strcpy(w[i].line, line);
			}
			all = all && w[i].done;
		}
		if (layer < 0)
			return 0;
		if (all) {
			printf("TASKS-DONE %.1f\n", t);
			return 0;
		}
		if (t > (double)timeout_ms) {
			printf("TASKS-TIMEOUT %.1f\n", t);
			return 1;
		}
		prev = t;
		struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
usage:
	fprintf(stderr, "usage: scx-matches [tasks [-m HINT_PIN] [-w LAYER] [-t TIMEOUT_MS] [-i INTERVAL_MS] TID... | tasks -s [-m HINT_PIN]]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *want = "layer_match_dbg";
	int fd;

	if (argc > 1 && strcmp(argv[1], "tasks") == 0)
		return tasks(argc - 1, argv + 1);
	if (argc > 1) {
		fprintf(stderr, "usage: scx-matches [tasks [-m HINT_PIN] [-w LAYER] [-t TIMEOUT_MS] [-i INTERVAL_MS] TID... | tasks -s [-m HINT_PIN]]\n");
		return 2;
	}
	fd = newest_map(want, 4, 4, NULL);
	if (fd < 0) {
		fprintf(stderr, "scx-matches: no BPF map named %s (is scx_layered running with --enable-match-debug?)\n", want);
		return 1;
	}

	/* Collect first, print after: the map changes while we walk it. */
	static uint32_t tids[1 << 17], layers[1 << 17];
	size_t n = 0;
	uint32_t key, next;
	int have_key = 0;
	while (n < sizeof(tids) / sizeof(tids[0])) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.map_fd = (uint32_t)fd;
		attr.key = have_key ? (uint64_t)(uintptr_t)&key : 0;
		attr.next_key = (uint64_t)(uintptr_t)&next;
		if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr))
			break; /* ENOENT: end of map */
		key = next;
		have_key = 1;
		uint32_t value;
		memset(&attr, 0, sizeof(attr));
		attr.map_fd = (uint32_t)fd;
		attr.key = (uint64_t)(uintptr_t)&key;
		attr.value = (uint64_t)(uintptr_t)&value;
		if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr))
			continue; /* deleted meanwhile */
		tids[n] = key;
		layers[n] = value;
		n++;
	}
	printf("MATCHES %zu\n", n);
	for (size_t i = 0; i < n; i++)
		printf("%u %u\n", tids[i], layers[i]);
	return 0;
}
