/* sigcount [SECONDS]: counts the SIGTERM, SIGINT, SIGHUP and SIGUSR1 it
 * receives. Prints "ready", and one second after the first signal (or
 * after SECONDS, 10 by default, without any) "count N", then exits 0. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t count;

static void counted(int sig)
{
	(void)sig;
	count++;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = counted;
	const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
	double end = now() + (argc > 1 ? atof(argv[1]) : 10);
	printf("ready\n");
	fflush(stdout);
	while (now() < end) {
		if (count && end > now() + 1)
			end = now() + 1;
		usleep(10000);
	}
	printf("count %d\n", (int)count);
	return 0;
}
