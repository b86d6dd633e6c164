/*
 * Dumps scx_layered's per-task layer map for the test VM (there is no bpftool in the guest).
 * scx_layered started with --enable-match-debug records, for every task it matches, the index
 * (in config order) of the layer the task matched, in the BPF hash "layer_match_dbg"
 * (u32 tid -> u32 layer index; entries are removed when a task exits). Built static by
 * bpf/vm.ts.
 *
 *   scx-matches        prints "MATCHES <n>" and then one "<tid> <layer_index>" line per task
 *
 * With several maps of that name alive (a scheduler that is still being torn down), the one
 * with the highest id (the newest) is used. Exit status 1 when no such map exists.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int main(void)
{
	const char *want = "layer_match_dbg";
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
		    info.key_size == 4 && info.value_size == 4 && id > best_id) {
			if (fd >= 0)
				close(fd);
			fd = mfd;
			best_id = id;
			continue;
		}
		close(mfd);
	}
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
