/* forkserve: a multi-threaded pre-forking server's shape. A thread keeps a
 * lookup in flight (SLOWNAME, which the test's DNS answers late), another
 * looks NAME up every 50 ms (and so notices edits, and reloads), while the
 * main thread forks a child every 100 ms; each child
 * looks NAME up, connects and GETs every 100 ms until the run ends. A
 * test edits the configuration meanwhile: children forked at any moment,
 * during a reload too, must follow the edit.
 *
 * usage: forkserve SLOWNAME NAME PORT SECONDS
 * Output, one line a round of a child, flushed: "child=N t=MS body=BODY"
 * or "child=N t=MS errno=ENAME" or "child=N t=MS gai rc=N" (N: the
 * child's number, in fork order; MS: CLOCK_REALTIME in ms); the parent
 * prints "forked=N" at the end, once every child has exited.
 * exit: 0, or 2 for usage. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "client_net.h"

static const char *slow_name;

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

static void *in_flight(void *arg)
{
	(void)arg;
	for (;;) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
		if (!getaddrinfo(slow_name, NULL, &hints, &res))
			freeaddrinfo(res);
	}
	return NULL;
}

static void *looker(void *name)
{
	for (;;) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
		if (!getaddrinfo(name, NULL, &hints, &res))
			freeaddrinfo(res);
		sleep_ms(50);
	}
	return NULL;
}

static void child(int n, const char *name, int port, long long end)
{
	while (now_ms() < end) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
		char a[64], resp[4096];
		long long t = now_ms();
		int err = 0, rc = getaddrinfo(name, NULL, &hints, &res);
		if (rc) {
			printf("child=%d t=%lld gai rc=%d\n", n, t, rc);
		} else {
			int fd = connect_first(res, port, a, sizeof a, &err);
			freeaddrinfo(res);
			if (fd < 0) {
				printf("child=%d t=%lld errno=%s\n", n, t,
				       strerrorname_np(err));
			} else {
				char *body = http_exchange(fd, "/", name, resp,
							   sizeof resp);
				printf("child=%d t=%lld body=%s\n", n, t,
				       body ? body : "none");
			}
		}
		sleep_ms(100);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: forkserve SLOWNAME NAME PORT SECONDS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	slow_name = argv[1];
	const char *name = argv[2];
	int port = atoi(argv[3]), n = 0;
	long long end = now_ms() + 1000ll * atoi(argv[4]);
	pthread_t t;
	pthread_create(&t, NULL, in_flight, NULL);
	pthread_detach(t);
	pthread_create(&t, NULL, looker, (void *)name);
	pthread_detach(t);
	/* Children are forked for the first half of the run, and all live to
	 * its end. */
	while (now_ms() < end - 1000ll * atoi(argv[4]) / 2) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			child(n, name, port, end);
		if (pid > 0)
			n++;
		sleep_ms(100);
	}
	while (wait(NULL) > 0)
		;
	printf("forked=%d\n", n);
	return 0;
}
