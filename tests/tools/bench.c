// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the guest side timing tool of `make bench` (scripts/bench-guest.sh).
 * Static, so that it runs in the busybox initramfs; times with
 * clock_gettime(CLOCK_MONOTONIC).
 *
 *   bench hotplug CPU CYCLES
 *	offline + online CPU, CYCLES times; prints one line per cycle: the
 *	nanoseconds of the cycle.
 *   bench write FILE TEXT COUNT GAP_US [PIN_CPU]
 *	writes TEXT to FILE (opened once) COUNT times, sleeping GAP_US between
 *	writes, pinned to PIN_CPU if given; prints "writes=N ns=T".
 *   bench flood DIR MS PIN_CPU PIDS TEXT...
 *	pinned to PIN_CPU, writes the TEXTs in turn to DIR/raise as fast as it
 *	can for MS milliseconds; prints "items=N ns=T writes=W thread_ns=R":
 *	the growth of the sum of processed= in DIR/stats, the writes made, and
 *	the CPU time the kthreads PIDS (comma-separated) ran meanwhile.
 *   bench burst DIR WRITES PIN_CPU PIDS TEXT
 *	pinned to PIN_CPU, writes TEXT to DIR/raise WRITES times back to back,
 *	then waits for the threads to handle it all (pending= 0 in DIR/stats);
 *	prints "items=N ns=T writes=W thread_ns=R" as flood does, T from the
 *	first write to the drained queue: the threads' rate when work never
 *	runs out.
 *   bench time CMD [ARGS...]
 *	runs CMD and prints "ns=T status=S".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_str(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int hotplug(int argc, char **argv)
{
	char path[96];
	long cycles, i;
	int ret;

	if (argc != 4)
		return 2;
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%s/online", argv[2]);
	cycles = atol(argv[3]);
	for (i = 0; i < cycles; i++) {
		long long t0 = now_ns();

		ret = write_str(path, "0");
		if (!ret)
			ret = write_str(path, "1");
		if (ret) {
			fprintf(stderr, "bench: %s: %s\n", path, strerror(-ret));
			return 1;
		}
		printf("%lld\n", now_ns() - t0);
	}
	return 0;
}

static int pin(const char *cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(atoi(cpu), &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("bench: sched_setaffinity");
		return 1;
	}
	return 0;
}

static int write_loop(int argc, char **argv)
{
	long count, gap, i;
	long long t0;
	size_t len;
	int fd;

	if (argc != 6 && argc != 7)
		return 2;
	if (argc == 7 && pin(argv[6]))
		return 1;
	count = atol(argv[4]);
	gap = atol(argv[5]);
	len = strlen(argv[3]);
	fd = open(argv[2], O_WRONLY);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		if (pwrite(fd, argv[3], len, 0) < 0) {
			perror("bench: write");
			return 1;
		}
		if (gap)
			sleep_us(gap);
	}
	printf("writes=%ld ns=%lld\n", count, now_ns() - t0);
	close(fd);
	return 0;
}

/*
 * The sum of @field (" name=") over the lines of a stats file, or
 * LLONG_MIN if the file cannot be read (a sum may be negative).
 */
static long long stats_sum(const char *stats, const char *field)
{
	static char buf[1 << 16];
	long long sum = 0;
	ssize_t n, len = 0;
	char *p;
	int fd = open(stats, O_RDONLY);

	if (fd < 0)
		return LLONG_MIN;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, field)); p++)
		sum += atoll(p + strlen(field));
	return sum;
}

/*
 * The CPU time the tasks @pids (comma-separated) have run, in nanoseconds
 * (their process CPU clocks, which any process may read); -1 on error.
 */
static long long cpu_time_ns(const char *pids)
{
	long long sum = 0;
	const char *p = pids;
	struct timespec ts;
	clockid_t clock;
	char *end;

	while (*p) {
		long pid = strtol(p, &end, 10);

		if (end == p || clock_getcpuclockid(pid, &clock) ||
		    clock_gettime(clock, &ts))
			return -1;
		sum += ts.tv_sec * 1000000000LL + ts.tv_nsec;
		p = *end == ',' ? end + 1 : end;
	}
	return sum;
}

/* One timed window of writes to a sample's raise file (flood, burst). */
struct window {
	char stats[256];
	const char *pids;
	long long t0, p0, c0;
	int fd;
};

/* Pins to argv[4], opens argv[2]/raise and starts the window. */
static int window_start(struct window *w, char **argv)
{
	char raise[256];

	if (pin(argv[4]))
		return 1;
	w->pids = argv[5];
	snprintf(raise, sizeof(raise), "%s/raise", argv[2]);
	snprintf(w->stats, sizeof(w->stats), "%s/stats", argv[2]);
	w->fd = open(raise, O_WRONLY);
	if (w->fd < 0) {
		perror(raise);
		return 1;
	}
	w->p0 = stats_sum(w->stats, " processed=");
	w->c0 = cpu_time_ns(w->pids);
	w->t0 = now_ns();
	return 0;
}

static int window_write(struct window *w, const char *text)
{
	if (pwrite(w->fd, text, strlen(text), 0) < 0) {
		perror("bench: write");
		return 1;
	}
	return 0;
}

/* Ends the window and prints what it saw. */
static int window_end(struct window *w, long long writes)
{
	long long t1 = now_ns(), c1 = cpu_time_ns(w->pids);
	long long p1 = stats_sum(w->stats, " processed=");

	close(w->fd);
	if (w->p0 == LLONG_MIN || p1 == LLONG_MIN || w->c0 < 0 || c1 < 0) {
		fprintf(stderr, "bench: cannot read %s or the CPU time of %s\n", w->stats, w->pids);
		return 1;
	}
	printf("items=%lld ns=%lld writes=%lld thread_ns=%lld\n", p1 - w->p0, t1 - w->t0,
	       writes, c1 - w->c0);
	return 0;
}

static int flood(int argc, char **argv)
{
	long long end, writes = 0;
	struct window w;

	if (argc < 7)
		return 2;
	if (window_start(&w, argv))
		return 1;
	end = w.t0 + atoll(argv[3]) * 1000000LL;
	while (now_ns() < end) {
		if (window_write(&w, argv[6 + writes % (argc - 6)]))
			return 1;
		writes++;
	}
	return window_end(&w, writes);
}

static int burst(int argc, char **argv)
{
	long long i, writes, pending, give_up;
	struct window w;

	if (argc != 7)
		return 2;
	writes = atoll(argv[3]);
	if (window_start(&w, argv))
		return 1;
	for (i = 0; i < writes; i++)
		if (window_write(&w, argv[6]))
			return 1;
	/* The queue is drained when nothing raised is left pending. */
	give_up = now_ns() + 60 * 1000000000LL;
	do {
		sleep_us(100);
		pending = stats_sum(w.stats, " pending=");
	} while (pending > 0 && now_ns() < give_up);
	if (pending == LLONG_MIN) {
		perror(w.stats);
		return 1;
	}
	if (pending > 0) {
		fprintf(stderr, "bench: %lld items still pending after 60 s\n", pending);
		return 1;
	}
	return window_end(&w, writes);
}

static int time_cmd(int argc, char **argv)
{
	long long t0;
	int status;
	pid_t pid;

	if (argc < 3)
		return 2;
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("bench: fork");
		return 1;
	}
	if (!pid) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("bench: waitpid");
		return 1;
	}
	printf("ns=%lld status=%d\n", now_ns() - t0,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	return 0;
}

int main(int argc, char **argv)
{
	int ret = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2) {
		if (!strcmp(argv[1], "hotplug"))
			ret = hotplug(argc, argv);
		else if (!strcmp(argv[1], "write"))
			ret = write_loop(argc, argv);
		else if (!strcmp(argv[1], "flood"))
			ret = flood(argc, argv);
		else if (!strcmp(argv[1], "burst"))
			ret = burst(argc, argv);
		else if (!strcmp(argv[1], "time"))
			ret = time_cmd(argc, argv);
	}
	if (ret == 2)
		fprintf(stderr, "usage: bench hotplug CPU CYCLES | write FILE TEXT COUNT GAP_US [PIN_CPU] |\n"
			"       flood DIR MS PIN_CPU PIDS TEXT... | burst DIR WRITES PIN_CPU PIDS TEXT |\n"
			"       time CMD [ARGS...]\n");
	return ret;
}
