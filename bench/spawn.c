/* spawn: start-up time of a program, for the hostshim benchmarks.
 *
 * usage: spawn COUNT PROGRAM [ARG]...
 *
 * Starts PROGRAM COUNT times, one after the other, with this process's
 * environment (so LD_PRELOAD and HOSTSHIM_* apply to it), and times each
 * run from posix_spawn to the end of wait4. Prints "runs=N median_ns=X
 * min_ns=Y median_minflt=P median_cpu_ns=C fail=F": P is the page faults
 * of a run (memory the program touched), C its CPU time (user and system).
 * Exits 1 when a run did not exit 0. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn COUNT PROGRAM [ARG]...\n");
		return 2;
	}
	int count = atoi(argv[1]), fail = 0;
	if (count < 1)
		return 2;
	double *t = calloc((size_t)count, sizeof *t);
	double *flt = calloc((size_t)count, sizeof *flt);
	double *cpu = calloc((size_t)count, sizeof *cpu);
	if (!t || !flt || !cpu)
		return 2;
	for (int i = 0; i < count; i++) {
		struct timespec a, b;
		pid_t pid;
		int status;
		struct rusage ru;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ)) {
			fail++;
			continue;
		}
		if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			fail++;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = (double)(b.tv_sec - a.tv_sec) * 1e9 +
		       (double)(b.tv_nsec - a.tv_nsec);
		flt[i] = (double)ru.ru_minflt;
		cpu[i] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
			 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
	}
	qsort(t, (size_t)count, sizeof *t, cmp);
	qsort(flt, (size_t)count, sizeof *flt, cmp);
	qsort(cpu, (size_t)count, sizeof *cpu, cmp);
	printf("runs=%d median_ns=%.0f min_ns=%.0f median_minflt=%.0f "
	       "median_cpu_ns=%.0f fail=%d\n",
	       count, t[count / 2], t[0], flt[count / 2], cpu[count / 2], fail);
	return fail ? 1 : 0;
}
