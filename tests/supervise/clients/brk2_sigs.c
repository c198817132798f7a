/* brk2_sigs SECONDS: counts, per signal, SIGUSR1, SIGHUP, SIGALRM,
 * SIGTSTP and SIGRTMIN+1 (keeping the value of the last real-time one).
 * Prints "ready" at once and, after SECONDS, one line
 * "usr1 N hup N alrm N tstp N rt N rtval V", then exits 0. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, hup, alrm, tstp, rt, rtval = -1;

static void counted(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGUSR1)
		usr1++;
	else if (sig == SIGHUP)
		hup++;
	else if (sig == SIGALRM)
		alrm++;
	else if (sig == SIGTSTP)
		tstp++;
	else if (sig == SIGRTMIN + 1) {
		rt++;
		if (si->si_code == SI_QUEUE)
			rtval = si->si_value.sival_int;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = counted;
	sa.sa_flags = SA_SIGINFO;
	const int sigs[] = {SIGUSR1, SIGHUP, SIGALRM, SIGTSTP, SIGRTMIN + 1};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += argc > 1 ? atoi(argv[1]) : 3;
	printf("ready\n");
	fflush(stdout);
	do {
		usleep(5000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
		 (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	printf("usr1 %d hup %d alrm %d tstp %d rt %d rtval %d\n", (int)usr1,
	       (int)hup, (int)alrm, (int)tstp, (int)rt, (int)rtval);
	return 0;
}
