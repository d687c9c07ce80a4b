// SPDX-License-Identifier: GPL-2.0
/*
 * fail_nth N insmod MODULE.ko [PARAMS]
 * fail_nth N write FILE VALUE
 *
 * Makes the N-th fault-injectable allocation of this task fail
 * (/proc/self/task/TID/fail-nth, Documentation/fault-injection) while it loads
 * a module or writes a file (e.g. a CPU's "online"), then prints
 * "result=R injected=y|n allocs=A": R is 0 or -errno, injected tells whether
 * the N-th allocation was reached, and A is how many fault-injectable
 * allocations the operation made when it was not (else 0). Runs in the
 * selftests (scripts/selftests/Makefile builds it, static).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[64], buf[32];
	int ctl, fd, res, err, left;

	if (argc < 4 || (strcmp(argv[2], "insmod") && strcmp(argv[2], "write")) ||
	    (!strcmp(argv[2], "write") && argc != 5)) {
		fprintf(stderr, "usage: %s N insmod MODULE [PARAMS] | N write FILE VALUE\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	ctl = open(path, O_RDWR);
	if (ctl < 0) {
		perror(path);
		return 2;
	}
	/* Open first: only the operation itself runs with the fault armed. */
	fd = open(argv[3], !strcmp(argv[2], "insmod") ? O_RDONLY | O_CLOEXEC : O_WRONLY);
	if (fd < 0) {
		perror(argv[3]);
		return 2;
	}
	if (write(ctl, argv[1], strlen(argv[1])) < 0) {
		perror("fail-nth");
		return 2;
	}
	if (!strcmp(argv[2], "insmod"))
		res = syscall(SYS_finit_module, fd, argc > 4 ? argv[4] : "", 0);
	else
		res = write(fd, argv[4], strlen(argv[4])) < 0 ? -1 : 0;
	err = errno;
	memset(buf, 0, sizeof(buf));
	if (pread(ctl, buf, sizeof(buf) - 1, 0) < 0)
		return 2;
	/* A value left in fail-nth means the fault was not reached; disarm it. */
	left = atoi(buf);
	if (left && write(ctl, "0", 1) < 0)
		return 2;
	printf("result=%d injected=%c allocs=%ld\n", res ? -err : 0, left ? 'n' : 'y',
	       left ? atol(argv[1]) - left : 0L);
	return 0;
}
