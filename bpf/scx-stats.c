/*
 * Minimal client for the scx_stats UNIX socket (newline-delimited JSON), for use inside the
 * test VM where busybox nc has no -U. Built static by bpf/vm.ts.
 *
 *   scx-stats [-s SOCKET] [-n COUNT] [-i SECONDS] [REQUEST_JSON]
 *
 * Sends REQUEST_JSON (default: the "top" stats request) COUNT times on one connection,
 * SECONDS apart, printing each response line. Each connection keeps its own baseline, so
 * the first response covers only the moment since connect: use -n 2 for a real sample.
 * Retries connecting for up to 30 s (the socket appears a moment after scx_layered attaches).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies one response line (up to and including '\n') to stdout. */
static int read_line(int fd)
{
	char c;
	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		putchar(c);
		if (c == '\n')
			break;
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = "/var/run/scx/root/stats";
	const char *req = "{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}";
	int count = 1, opt, fd = -1;
	double interval = 1.0;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	while ((opt = getopt(argc, argv, "s:n:i:")) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'n': count = atoi(optarg); break;
		case 'i': interval = atof(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-s SOCKET] [-n COUNT] [-i SECONDS] [REQUEST_JSON]\n", argv[0]);
			return 2;
		}
	}
	if (optind < argc)
		req = argv[optind];
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "scx-stats: socket path too long\n");
		return 2;
	}
	strcpy(addr.sun_path, path);

	for (int tries = 0;; tries++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("scx-stats: socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			break;
		close(fd);
		if (tries >= 300) {
			fprintf(stderr, "scx-stats: connect %s: %s\n", path, strerror(errno));
			return 1;
		}
		usleep(100 * 1000);
	}

	for (int i = 0; i < count; i++) {
		if (i)
			usleep((useconds_t)(interval * 1e6));
		if (write_all(fd, req, strlen(req)) || write_all(fd, "\n", 1)) {
			perror("scx-stats: write");
			return 1;
		}
		if (read_line(fd)) {
			fprintf(stderr, "scx-stats: connection closed\n");
			return 1;
		}
	}
	close(fd);
	return 0;
}
