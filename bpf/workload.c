/*
 * Guest workloads for the sched_ext VM tests and the isolation benchmark. Built static by
 * bpf/vm.ts and shipped as /bin/workload; no fork per iteration, so one pod = one task.
 *
 *   workload nap   [-c CGROUP_DIR] [-r N] PERIOD_US
 *       Sleeps PERIOD_US, wakes, forever: a pod task that sleeps and wakes. With -r, every N
 *       wake-ups it sets its comm again (same name): scx_layered re-matches a renamed task at its
 *       next wake-up, which refreshes the per-task record of --enable-match-debug (that record is
 *       written only when a task is matched, and a write can fail in the burst of first matches
 *       at scheduler start). The layer it lands in is the same as without -r. With -n, THREADS
 *       threads nap so (the process's own thread and THREADS-1 more), and each SIGUSR1 starts one
 *       more, at the main thread's next wake-up: a thread born later than the others.
 *   workload hog   [-c CGROUP_DIR] [-a ACCT_DIR | -P] [-n THREADS]
 *       Spins forever in THREADS threads (default 1): a CPU hog that never sleeps.
 *   workload probe [-c CGROUP_DIR] [-l LABEL] [-w WARMUP] [-d SECONDS] PERIOD_US SAMPLES
 *       Wakeup-latency probe: SAMPLES times (or, with -d, until SECONDS have passed, at most
 *       SAMPLES times), sleeps PERIOD_US (relative clock_nanosleep on CLOCK_MONOTONIC) and
 *       records the overshoot (actual sleep − PERIOD_US). Prints one line
 *         PROBE {"label":…,"n":…,"period_us":…,"mean_us":…,"p50_us":…,"p90_us":…,"p99_us":…,"p999_us":…,"max_us":…}
 *       after discarding WARMUP (default 50) leading samples. max_us is the longest gap the
 *       task saw between asking to run and running.
 *   workload threads [-c CGROUP_DIR | -P] [-l LABEL] [-n HOT] [-k HOUSEKEEP] [-b BURST_US]
 *                    [-p HK_PERIOD_US] [-i IO_PERIOD_US] [-s IO_WORK_US] [-W WARMUP_S] [-d SECONDS]
 *       One process with named threads, the shape of a workload profile (docs/profiles.md):
 *         hot_loop-<i>   HOT (default 2) CPU-bound loops counting iterations;
 *         io_chain-a/-b  an I/O-chain pair: every IO_PERIOD_US (default 1000) -a works IO_WORK_US
 *                        (default 50), wakes -b over an eventfd, -b works as long and wakes -a
 *                        back; each wake-up's latency (waker's write → wakee running) is recorded;
 *         housekeep-<i>  HOUSEKEEP (default 1) noisy threads: a BURST_US (default 20000) CPU burst
 *                        every HK_PERIOD_US (default 50000);
 *       the main thread keeps the binary's comm (the process name, scx_layered's PcommPrefix) and
 *       wakes every 100 ms. Each thread names itself (prctl PR_SET_NAME) and sleeps 1 ms before its
 *       first instruction of work (see name_self).
 *       With -d, after WARMUP_S (default 2) seconds it measures for SECONDS and prints
 *         THREADS {"label":…,"seconds":…,"hot":[{"tid":…,"iters":…,"cpu_s":…}…],"hot_iters":…,
 *                  "hot_cpu_s":…,"housekeep_cpu_s":…,"io_cpu_s":…,"io":{"n":…,"mean_us":…,
 *                  "p50_us":…,"p90_us":…,"p99_us":…,"p999_us":…,"max_us":…}}
 *       (CPU times from each thread's CLOCK_THREAD_CPUTIME_ID, over the measured window only),
 *       then exits; without -d it runs until killed.
 *   workload watch [-i INTERVAL_US] [-t SECONDS]
 *       Polls /sys/kernel/sched_ext/state every INTERVAL_US (default 5000) and prints
 *         STATE <monotonic_ms> <state> <enable_seq>
 *       at start and on every change (for up to SECONDS, default forever): the gap a
 *       scheduler switch leaves is the time between leaving and re-entering "enabled".
 *
 * -c writes the process's own pid into CGROUP_DIR/cgroup.procs before doing anything else, so
 * the task is in its pod cgroup from its first instruction of work. -a ACCT_DIR does the same for
 * a second cgroup (a cgroup-v1 cpuacct group: per-CPU CPU time of a population, see guest.ts);
 * both are joined before any thread starts, so every thread is accounted. The comm is the name the
 * binary was executed as (a symlink named kubelet gives comm "kubelet").
 *
 * -P (instead of -c/-a): the process stops itself (SIGSTOP) before doing anything else and
 * continues only when its parent has moved it into its cgroups and sent SIGCONT. That is how a
 * container's first process starts: runc's parent process writes the init process's pid into the
 * container's cgroup while that process is blocked on its sync pipe, so the task is moved while
 * it sleeps and matched by scx_layered at the wake-up that follows (docs/kernel-testing.md,
 * behaviour 12; bpf/node-load.ts start_pop).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s nap [-c CGROUP_DIR] [-r N] [-n THREADS] PERIOD_US\n"
		"       %s hog [-c CGROUP_DIR] [-a ACCT_DIR | -P] [-n THREADS]\n"
		"       %s probe [-c CGROUP_DIR] [-a ACCT_DIR] [-l LABEL] [-w WARMUP] [-d SECONDS] PERIOD_US SAMPLES\n"
		"       %s threads [-c CGROUP_DIR | -P] [-l LABEL] [-n HOT] [-k HOUSEKEEP] [-b BURST_US] [-p HK_PERIOD_US]\n"
		"                [-i IO_PERIOD_US] [-s IO_WORK_US] [-W WARMUP_S] [-d SECONDS]\n"
		"       %s watch [-i INTERVAL_US] [-t SECONDS]\n",
		argv0, argv0, argv0, argv0, argv0);
	exit(2);
}

static void join_cgroup(const char *dir)
{
	char path[4096], pid[32];
	int fd, n;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path)) {
		fprintf(stderr, "workload: cgroup path too long\n");
		exit(1);
	}
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "workload: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)n) != n) {
		fprintf(stderr, "workload: join %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct_us(const int64_t *v, long n, double p)
{
	long rank = (long)((p / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

static int probe(const char *label, long period_us, long samples, long warmup, long seconds)
{
	long total = samples + warmup;
	int64_t end = seconds > 0 ? now_ns() + (int64_t)seconds * 1000000000 : INT64_MAX;
	int64_t *v = calloc((size_t)total, sizeof(*v));
	int64_t period = (int64_t)period_us * 1000;
	double sum = 0;

	if (!v) {
		perror("workload: calloc");
		return 1;
	}
	long got = 0;
	for (; got < total; got++) {
		int64_t t0 = now_ns();
		if (got >= warmup && t0 >= end)
			break;
		sleep_ns(period);
		int64_t over = now_ns() - t0 - period;
		v[got] = over < 0 ? 0 : over;
	}
	if (got <= warmup) {
		fprintf(stderr, "workload: probe ended before its warm-up was over\n");
		return 1;
	}
	samples = got - warmup;
	int64_t *s = v + warmup;
	for (long i = 0; i < samples; i++)
		sum += (double)s[i];
	qsort(s, (size_t)samples, sizeof(*s), cmp_i64);
	printf("PROBE {\"label\":\"%s\",\"n\":%ld,\"period_us\":%ld,\"mean_us\":%.1f,\"p50_us\":%.1f,"
	       "\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}\n",
	       label, samples, period_us, sum / (double)samples / 1000.0, pct_us(s, samples, 50),
	       pct_us(s, samples, 90), pct_us(s, samples, 99), pct_us(s, samples, 99.9),
	       (double)s[samples - 1] / 1000.0);
	fflush(stdout);
	free(v);
	return 0;
}

/* Reads a small sysfs file into buf without the trailing newline ("?" when unreadable). */
static void read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, len - 1, 0);

	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		strcpy(buf, "?");
		return;
	}
	buf[n] = 0;
	if (buf[n - 1] == '\n')
		buf[n - 1] = 0;
}

static void *spin(void *arg)
{
	(void)arg;
	for (volatile uint64_t i = 0;; i++)
		;
	return NULL;
}

struct nap_args {
	int64_t period;
	long rename_every;
};

static pthread_t main_thread;
static volatile sig_atomic_t threads_requested; /* by SIGUSR1, written by the handler only */

static void on_usr1(int sig)
{
	(void)sig;
	threads_requested++;
}

static void *nap(void *arg);

static int start_napper(struct nap_args *a)
{
	pthread_t th;
	int e = pthread_create(&th, NULL, nap, a);

	if (e) {
		fprintf(stderr, "workload: pthread_create: %s\n", strerror(e));
		return -1;
	}
	pthread_detach(th);
	return 0;
}

/* Sleeps, wakes, forever; see nap in the header. The main thread also starts requested threads. */
static void *nap(void *arg)
{
	struct nap_args *a = arg;
	int is_main = pthread_equal(pthread_self(), main_thread);
	long started = 0;
	char comm[16] = "";

	prctl(PR_GET_NAME, comm, 0, 0, 0);
	for (long n = 1;; n++) {
		sleep_ns(a->period);
		if (a->rename_every > 0 && n % a->rename_every == 0)
			prctl(PR_SET_NAME, comm, 0, 0, 0);
		for (; is_main && started < threads_requested; started++)
			start_napper(a);
	}
	return NULL;
}

/* ---- threads: named threads in one process (see the header) -------------------------------- */

#define MAX_HOT 64
#define MAX_HOUSEKEEP 64
#define IO_MAX_SAMPLES (1L << 21)

struct named_threads {
	long hot, housekeep;
	int64_t burst_ns, hk_period_ns, io_period_ns, io_work_ns;
	atomic_int measuring;                 /* io latencies are recorded while set */
	_Atomic uint64_t iters[MAX_HOT];      /* per hot thread, relaxed increments */
	pthread_t hot_th[MAX_HOT], hk_th[MAX_HOUSEKEEP], io_th[2];
	_Atomic pid_t hot_tid[MAX_HOT];
	int efd_ab, efd_ba;
	_Atomic int64_t sent_ns;              /* when the last wake-up of the chain was sent */
	int64_t *io_lat;
	atomic_long io_n;
};

static struct named_threads nt;

struct thread_arg {
	long index;
};

/*
 * Names the calling thread, then sleeps 1 ms once, as a worker thread waits for its first job. A
 * rename makes scx_layered re-match the task, but only when it next becomes runnable
 * (ops.runnable), and while that re-match is pending it ignores the task's hint
 * (maybe_refresh_task_layer_from_hint returns early on refresh_layer): a thread that renamed itself
 * and then spun forever would never take a hint (docs/kernel-testing.md, behaviour 14).
 */
static void name_self(const char *fmt, long i)
{
	char name[16];

	snprintf(name, sizeof(name), fmt, i);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	sleep_ns(1000000);
}

/* Spins for ns of this thread's own CPU time, so a preempted burst still does all its work. */
static void work_ns(int64_t ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	int64_t end = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + ns;
	for (;;) {
		for (volatile int k = 0; k < 200; k++)
			;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		if ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec >= end)
			return;
	}
}

static void *hot_loop(void *arg)
{
	long i = ((struct thread_arg *)arg)->index;

	name_self("hot_loop-%ld", i);
	atomic_store(&nt.hot_tid[i], (pid_t)gettid());
	for (long n = 1;; n++) {
		for (volatile int k = 0; k < 1000; k++)
			;
		atomic_fetch_add_explicit(&nt.iters[i], 1, memory_order_relaxed);
		/*
		 * A 100 µs nap every 1024 rounds (tens of ms under TCG), as a server's hot thread
		 * blocks now and then: scx_layered applies a task hint only at a wake-up, and a
		 * thread that never blocks may never take its hint (docs/kernel-testing.md, behaviour 14;
		 * CI saw hot_loop-1 keep its static layer through every sample although it had slept
		 * after naming itself).
		 */
		if ((n & 1023) == 0)
			sleep_ns(100000);
	}
	return NULL;
}

static void *housekeep(void *arg)
{
	long i = ((struct thread_arg *)arg)->index;

	name_self("housekeep-%ld", i);
	for (;;) {
		sleep_ns(nt.hk_period_ns - nt.burst_ns);
		work_ns(nt.burst_ns);
	}
	return NULL;
}

static void io_record(void)
{
	int64_t lat = now_ns() - atomic_load(&nt.sent_ns);
	if (!atomic_load(&nt.measuring))
		return;
	long n = atomic_fetch_add(&nt.io_n, 1);
	if (n < IO_MAX_SAMPLES)
		nt.io_lat[n] = lat < 0 ? 0 : lat;
}

static void io_wake(int fd)
{
	uint64_t one = 1;
	atomic_store(&nt.sent_ns, now_ns());
	if (write(fd, &one, sizeof(one)) != sizeof(one)) {
		perror("workload: eventfd write");
		exit(1);
	}
}

static void io_wait(int fd)
{
	uint64_t v;
	while (read(fd, &v, sizeof(v)) != sizeof(v))
		if (errno != EINTR) {
			perror("workload: eventfd read");
			exit(1);
		}
}

/* -a: the chain's head, woken by a timer; -b: its tail, woken by -a only. */
static void *io_chain(void *arg)
{
	long i = ((struct thread_arg *)arg)->index;

	name_self(i == 0 ? "io_chain-a" : "io_chain-b", 0);
	for (;;) {
		if (i == 0) {
			sleep_ns(nt.io_period_ns);
			work_ns(nt.io_work_ns);
			io_wake(nt.efd_ab);
			io_wait(nt.efd_ba);
			io_record();
		} else {
			io_wait(nt.efd_ab);
			io_record();
			work_ns(nt.io_work_ns);
			io_wake(nt.efd_ba);
		}
	}
	return NULL;
}

static double thread_cpu_s(pthread_t th)
{
	clockid_t c;
	struct timespec ts;
	if (pthread_getcpuclockid(th, &c) != 0 || clock_gettime(c, &ts) != 0)
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int spawn(pthread_t *th, void *(*fn)(void *), long index)
{
	struct thread_arg *a = malloc(sizeof(*a));
	if (!a)
		return -1;
	a->index = index;
	int e = pthread_create(th, NULL, fn, a);
	if (e) {
		fprintf(stderr, "workload: pthread_create: %s\n", strerror(e));
		return -1;
	}
	return 0;
}

static int named_threads(const char *label, long warmup_s, long seconds)
{
	double hot0[MAX_HOT], hk0 = 0, io0 = 0;
	uint64_t it0[MAX_HOT];

	nt.io_lat = seconds > 0 ? calloc((size_t)IO_MAX_SAMPLES, sizeof(int64_t)) : NULL;
	nt.efd_ab = eventfd(0, EFD_CLOEXEC);
	nt.efd_ba = eventfd(0, EFD_CLOEXEC);
	if ((seconds > 0 && !nt.io_lat) || nt.efd_ab < 0 || nt.efd_ba < 0) {
		perror("workload: threads setup");
		return 1;
	}
	for (long i = 0; i < nt.hot; i++)
		if (spawn(&nt.hot_th[i], hot_loop, i))
			return 1;
	for (long i = 0; i < 2; i++)
		if (spawn(&nt.io_th[i], io_chain, i))
			return 1;
	for (long i = 0; i < nt.housekeep; i++)
		if (spawn(&nt.hk_th[i], housekeep, i))
			return 1;
	/* the leader wakes every 100 ms, as a process's main thread does now and then: a hint
	 * takes effect at a wake-up, and a thread that never wakes keeps its layer */
	if (seconds <= 0)
		for (;;)
			sleep_ns(100000000);

	for (int64_t end = now_ns() + (int64_t)warmup_s * 1000000000; now_ns() < end;)
		sleep_ns(100000000);
	int64_t t0 = now_ns();
	for (long i = 0; i < nt.hot; i++) {
		it0[i] = atomic_load(&nt.iters[i]);
		hot0[i] = thread_cpu_s(nt.hot_th[i]);
	}
	for (long i = 0; i < nt.housekeep; i++)
		hk0 += thread_cpu_s(nt.hk_th[i]);
	io0 = thread_cpu_s(nt.io_th[0]) + thread_cpu_s(nt.io_th[1]);
	atomic_store(&nt.measuring, 1);
	for (int64_t end = t0 + (int64_t)seconds * 1000000000; now_ns() < end;)
		sleep_ns(100000000);
	atomic_store(&nt.measuring, 0);
	double wall = (double)(now_ns() - t0) / 1e9;

	double hot_cpu = 0, hk_cpu = 0;
	uint64_t hot_iters = 0;
	printf("THREADS {\"label\":\"%s\",\"seconds\":%.3f,\"hot\":[", label, wall);
	for (long i = 0; i < nt.hot; i++) {
		uint64_t it = atomic_load(&nt.iters[i]) - it0[i];
		double cpu = thread_cpu_s(nt.hot_th[i]) - hot0[i];
		hot_iters += it;
		hot_cpu += cpu;
		printf("%s{\"tid\":%d,\"iters\":%llu,\"cpu_s\":%.3f}", i ? "," : "", (int)atomic_load(&nt.hot_tid[i]), (unsigned long long)it, cpu);
	}
	for (long i = 0; i < nt.housekeep; i++)
		hk_cpu += thread_cpu_s(nt.hk_th[i]);
	double io_cpu = thread_cpu_s(nt.io_th[0]) + thread_cpu_s(nt.io_th[1]) - io0;
	long n = atomic_load(&nt.io_n);
	if (n > IO_MAX_SAMPLES)
		n = IO_MAX_SAMPLES;
	printf("],\"hot_iters\":%llu,\"hot_cpu_s\":%.3f,\"housekeep_cpu_s\":%.3f,\"io_cpu_s\":%.3f,\"io\":{\"n\":%ld",
	       (unsigned long long)hot_iters, hot_cpu, hk_cpu - hk0, io_cpu, n);
	if (n > 0) {
		double sum = 0;
		for (long i = 0; i < n; i++)
			sum += (double)nt.io_lat[i];
		qsort(nt.io_lat, (size_t)n, sizeof(int64_t), cmp_i64);
		printf(",\"mean_us\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f",
		       sum / (double)n / 1000.0, pct_us(nt.io_lat, n, 50), pct_us(nt.io_lat, n, 90), pct_us(nt.io_lat, n, 99),
		       pct_us(nt.io_lat, n, 99.9), (double)nt.io_lat[n - 1] / 1000.0);
	}
	printf("}}\n");
	fflush(stdout);
	/* the other threads never return: leave without joining them */
	_exit(0);
}

static int watch(long interval_us, long seconds)
{
	char state[64], prev[64] = "", seq[32];
	int64_t end = seconds > 0 ? now_ns() + (int64_t)seconds * 1000000000 : INT64_MAX;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (now_ns() < end) {
		read_small("/sys/kernel/sched_ext/state", state, sizeof(state));
		if (strcmp(state, prev) != 0) {
			read_small("/sys/kernel/sched_ext/enable_seq", seq, sizeof(seq));
			printf("STATE %.1f %s %s\n", (double)now_ns() / 1e6, state, seq);
			strcpy(prev, state);
		}
		sleep_ns((int64_t)interval_us * 1000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cgroup = NULL, *acct = NULL, *label = "probe";
	long warmup = 50, interval_us = 5000, seconds = 0, rename_every = 0, threads = 1, duration = 0;
	long housekeep_n = 1, burst_us = 20000, hk_period_us = 50000, io_work_us = 50, warmup_s = 2;
	int opt, threads_given = 0, interval_given = 0;

	if (argc < 2)
		usage(argv[0]);
	const char *mode = argv[1];
	optind = 2;
	int pause_first = 0;
	while ((opt = getopt(argc, argv, "c:a:l:w:i:t:r:n:d:Pk:b:p:s:W:")) != -1) {
		switch (opt) {
		case 'P': pause_first = 1; break;
		case 'c': cgroup = optarg; break;
		case 'l': label = optarg; break;
		case 'w': warmup = atol(optarg); break;
		case 'i': interval_us = atol(optarg); interval_given = 1; break;
		case 'k': housekeep_n = atol(optarg); break;
		case 'b': burst_us = atol(optarg); break;
		case 'p': hk_period_us = atol(optarg); break;
		case 's': io_work_us = atol(optarg); break;
		case 'W': warmup_s = atol(optarg); break;
		case 't': seconds = atol(optarg); break;
		case 'r': rename_every = atol(optarg); break;
		case 'a': acct = optarg; break;
		case 'n': threads = atol(optarg); threads_given = 1; break;
		case 'd': duration = atol(optarg); break;
		default: usage(argv[0]);
		}
	}
	if (pause_first && (cgroup || acct)) {
		fprintf(stderr, "workload: -P is for a parent that moves the process; it excludes -c and -a\n");
		return 2;
	}
	if (pause_first)
		raise(SIGSTOP);
	/* Join, then exec again, as runc does (it joins the container's cgroup, then execs): a
	 * scheduler matches a task at exec, while a cgroup move is re-matched only at the task's next
	 * wake-up, which a busy loop never has (docs/kernel-testing.md, behaviour 2). */
	if ((cgroup || acct) && !getenv("WORKLOAD_JOINED")) {
		if (cgroup)
			join_cgroup(cgroup);
		if (acct)
			join_cgroup(acct);
		setenv("WORKLOAD_JOINED", "1", 1);
		execvp(argv[0], argv);
		perror("workload: exec");
		return 1;
	}
	unsetenv("WORKLOAD_JOINED");
	/* Sleep once before working, as a container's first process does (runc init blocks on its
	 * exec fifo after joining the cgroup, before exec'ing the entrypoint): scx_layered re-matches
	 * a task's layer only when the task is next enqueued, and a task that never sleeps after a
	 * cgroup move or exec is kept running where it is, in the layer it was matched in at fork
	 * (measured: a busy loop started under scx_layered stayed in the catch-all, on Critical's
	 * fenced CPU; docs/kernel-testing.md, behaviour 12). */
	if (cgroup || acct)
		sleep_ns(2000000);

	if (strcmp(mode, "nap") == 0) {
		if (optind + 1 != argc)
			usage(argv[0]);
		static struct nap_args args;
		args.period = atol(argv[optind]) * 1000L;
		args.rename_every = rename_every;
		if (args.period <= 0 || threads < 1)
			usage(argv[0]);
		main_thread = pthread_self();
		if (threads_given) {
			signal(SIGUSR1, on_usr1);
			for (long t = 1; t < threads; t++)
				if (start_napper(&args))
					return 1;
		}
		nap(&args);
	}
	if (strcmp(mode, "hog") == 0) {
		if (optind != argc || threads < 1)
			usage(argv[0]);
		for (long t = 1; t < threads; t++) {
			pthread_t th;
			if (pthread_create(&th, NULL, spin, NULL) != 0) {
				perror("workload: pthread_create");
				return 1;
			}
		}
		spin(NULL);
	}
	if (strcmp(mode, "probe") == 0) {
		if (optind + 2 != argc)
			usage(argv[0]);
		long period_us = atol(argv[optind]), samples = atol(argv[optind + 1]);
		if (period_us <= 0 || samples <= 0 || warmup < 0 || duration < 0)
			usage(argv[0]);
		return probe(label, period_us, samples, warmup, duration);
	}
	if (strcmp(mode, "threads") == 0) {
		nt.hot = threads_given ? threads : 2;
		nt.housekeep = housekeep_n;
		nt.burst_ns = burst_us * 1000L;
		nt.hk_period_ns = hk_period_us * 1000L;
		nt.io_period_ns = (interval_given ? interval_us : 1000) * 1000L;
		nt.io_work_ns = io_work_us * 1000L;
		if (optind != argc || nt.hot < 0 || nt.hot > MAX_HOT || nt.housekeep < 0 || nt.housekeep > MAX_HOUSEKEEP ||
		    burst_us < 0 || hk_period_us <= burst_us || nt.io_period_ns <= 0 || io_work_us < 0 || warmup_s < 0 || duration < 0)
			usage(argv[0]);
		return named_threads(label, warmup_s, duration);
	}
	if (strcmp(mode, "watch") == 0) {
		if (optind != argc || interval_us <= 0)
			usage(argv[0]);
		return watch(interval_us, seconds);
	}
	usage(argv[0]);
	return 2;
}
