/* abandon: cuts a lookup off the way programs do, then keeps looking a
 * name up and connecting, so that a test can edit the configuration
 * meanwhile and see that nothing the cut-off lookup held is left behind.
 *
 * usage: abandon MODE NAME LOOKUP PORT SECONDS
 *   MODE   cancel  a thread looks NAME up and is pthread_cancel()led after
 *                  300 ms (getaddrinfo is a cancellation point)
 *          jump    the main thread looks NAME up and a SIGALRM handler
 *                  siglongjmp()s out of it after 300 ms (alarm-based DNS
 *                  timeouts: wget -T, curl's synchronous resolver)
 *          hold    a thread looks NAME up again and again for the whole
 *                  run (a lookup stuck on a silent nameserver, in flight)
 *          none    nothing of the kind
 *   then every 50 ms for SECONDS: getaddrinfo(LOOKUP), connect to the
 *   first answer on PORT and GET /.
 * Output, one line a round, flushed: "t=MS body=BODY ms=N",
 * "t=MS errno=ENAME ms=N" or "t=MS gai rc=N ms=N" (MS: CLOCK_REALTIME in
 * milliseconds at the start of the round; N: how long the round's lookup
 * and connect took); first "abandoned how=MODE" once the lookup was cut
 * off; last "cpu_ms=N" (user + system time of the whole process).
 * exit: 0, or 2 for usage. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "client_net.h"

static const char *name;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ms / 1000, ms % 1000 * 1000000}, NULL);
}

static void lookup_name(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	if (!getaddrinfo(name, NULL, &hints, &res))
		freeaddrinfo(res);
}

static void *looker(void *forever)
{
	do
		lookup_name();
	while (forever);
	return NULL;
}

static sigjmp_buf back;

static void on_alarm(int sig)
{
	(void)sig;
	siglongjmp(back, 1);
}

static void cut_off(const char *mode)
{
	pthread_t t;
	if (!strcmp(mode, "cancel")) {
		pthread_create(&t, NULL, looker, NULL);
		sleep_ms(300);
		pthread_cancel(t);
		pthread_join(t, NULL);
	} else if (!strcmp(mode, "jump")) {
		struct sigaction sa = {.sa_handler = on_alarm};
		sigaction(SIGALRM, &sa, NULL);
		if (!sigsetjmp(back, 1)) {
			setitimer(ITIMER_REAL,
				  &(struct itimerval){.it_value = {0, 300000}},
				  NULL);
			lookup_name();
			setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);
			printf("not cut off: the lookup answered first\n");
		}
	} else if (!strcmp(mode, "hold")) {
		pthread_create(&t, NULL, looker, (void *)1);
		pthread_detach(t);
		sleep_ms(300);
	}
	printf("abandoned how=%s\n", mode);
}

static void round_once(const char *lookup, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	char a[64], resp[4096];
	long long t0 = now_ms();
	int err = 0, rc = getaddrinfo(lookup, NULL, &hints, &res);
	if (rc) {
		printf("t=%lld gai rc=%d ms=%lld\n", t0, rc, now_ms() - t0);
		return;
	}
	int fd = connect_first(res, port, a, sizeof a, &err);
	freeaddrinfo(res);
	long long took = now_ms() - t0;
	if (fd < 0) {
		printf("t=%lld errno=%s ms=%lld\n", t0, strerrorname_np(err), took);
		return;
	}
	char *body = http_exchange(fd, "/", lookup, resp, sizeof resp);
	printf("t=%lld body=%s ms=%lld\n", t0, body ? body : "none", took);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: abandon MODE NAME LOOKUP PORT SECONDS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	name = argv[2];
	cut_off(argv[1]);
	long long end = now_ms() + 1000ll * atoi(argv[5]);
	while (now_ms() < end) {
		round_once(argv[3], atoi(argv[4]));
		sleep_ms(50);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("cpu_ms=%ld\n", (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
				       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	return 0;
}
