/* brk_gai_a: getaddrinfo_a as a long-running program uses it (breaker;
 * core-targets shim/hook_gai_a.c).
 *
 *   brk_gai_a poll NAME N
 *       N rounds of getaddrinfo_a(GAI_NOWAIT, one request, no notification)
 *       then gai_suspend until done, gai_error, freeaddrinfo: the usual
 *       poll-style use. Prints "rounds=N errors=E heap_growth_kb=K" (the
 *       heap in use after the rounds minus after the first round)
 *   brk_gai_a sigmask NAME
 *       a SIGEV_THREAD notification; prints "callback blocked_usr1=0|1":
 *       whether SIGUSR1 is blocked in the thread the callback runs on
 *   brk_gai_a fork SLOWNAME
 *       a GAI_NOWAIT request for SLOWNAME with a SIGEV_THREAD notification,
 *       then fork(); the child makes a GAI_WAIT request of its own for
 *       localhost. Each callback prints "callback in=parent|child name=N";
 *       the parent's request is the parent's: notified once, in the parent
 */
#define _GNU_SOURCE
#include <stdio.h>
#if !defined(__GLIBC__)
/* musl has no getaddrinfo_a */
int main(void)
{
	puts("no getaddrinfo_a in this libc");
	return 77;
}
#else
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int one_round(const char *name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct gaicb cb = {.ar_name = name, .ar_request = &hints};
	struct gaicb *list[1] = {&cb};
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL))
		return 1;
	while (gai_error(&cb) == EAI_INPROGRESS)
		gai_suspend((const struct gaicb *const *)list, 1, NULL);
	int rc = gai_error(&cb);
	if (!rc)
		freeaddrinfo(cb.ar_result);
	return rc != 0;
}

static volatile int done;
static void callback(union sigval v)
{
	(void)v;
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	printf("callback blocked_usr1=%d\n", sigismember(&cur, SIGUSR1));
	done = 1;
}

static pid_t parent;
static void named_callback(union sigval v)
{
	printf("callback in=%s name=%s\n", getpid() == parent ? "parent" : "child",
	       (const char *)v.sival_ptr);
}

static int forked(const char *slow)
{
	static struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	static struct gaicb cb, cb2;
	struct gaicb *list[1] = {&cb}, *list2[1] = {&cb2};
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD,
			       .sigev_notify_function = named_callback,
			       .sigev_value.sival_ptr = (void *)slow};
	parent = getpid();
	cb = (struct gaicb){.ar_name = slow, .ar_request = &hints};
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, &sev))
		return 1;
	usleep(100000);
	pid_t pid = fork();
	if (!pid) {
		cb2 = (struct gaicb){.ar_name = "localhost", .ar_request = &hints};
		int rc = getaddrinfo_a(GAI_WAIT, list2, 1, NULL);
		printf("child wait rc=%d error=%d\n", rc, gai_error(&cb2));
		sleep(3);
		_exit(0);
	}
	sleep(3);
	int st;
	waitpid(pid, &st, 0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "poll")) {
		int n = atoi(argv[3]), errors = one_round(argv[2]);
		size_t first = mallinfo2().uordblks;
		for (int i = 1; i < n; i++)
			errors += one_round(argv[2]);
		size_t last = mallinfo2().uordblks;
		printf("rounds=%d errors=%d heap_growth_kb=%ld\n", n, errors,
		       ((long)last - (long)first) / 1024);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "fork"))
		return forked(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "sigmask")) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
		struct gaicb cb = {.ar_name = argv[2], .ar_request = &hints};
		struct gaicb *list[1] = {&cb};
		struct sigevent sev = {.sigev_notify = SIGEV_THREAD,
				       .sigev_notify_function = callback};
		if (getaddrinfo_a(GAI_NOWAIT, list, 1, &sev))
			return 1;
		for (int i = 0; i < 500 && !done; i++)
			usleep(10000);
		if (done && !gai_error(&cb))
			freeaddrinfo(cb.ar_result);
		return !done;
	}
	fprintf(stderr, "usage: see the top of brk_gai_a.c\n");
	return 2;
}
#endif
