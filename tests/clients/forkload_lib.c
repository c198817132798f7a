/* forkload_lib: a preload whose constructor starts a thread that forks
 * while the process is still loading (the other preloads' constructors,
 * hostshim's among them, may be running), after FORKLOAD_DELAY_US
 * microseconds (default 0). Meanwhile FORKLOAD_LOOKUPS (default 1) lookups
 * of FORKLOAD_NAME run on another thread of the parent.
 * The child calls nothing that takes a lock of libc's own (no strerror,
 * no gai_strerror: their gettext takes the locale lock another thread
 * may have held at the fork), only what it tests: it gets 10 s (alarm)
 * to look FORKLOAD_NAME up (getaddrinfo,
 * AF_INET, SOCK_STREAM), connect to FORKLOAD_PORT and GET /; it prints
 * "forkload child body=..." or "forkload child error=...". At exit the
 * parent prints "forkload child exit=N" or "forkload child signal=N".
 * Without FORKLOAD_NAME it does nothing. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client_net.h"

static pthread_t forker_thread, lookup_thread;
static int started;
static int status = -1;
static const char *name, *port;

static void say(const char *fmt, const char *a)
{
	char line[600];
	int n = snprintf(line, sizeof line, fmt, a);
	if (n > 0 && write(1, line, (size_t)n) < 0)
		_exit(5);
}

static void child(void)
{
	alarm(10);
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo(name, NULL, &hints, &res);
	char num[32];
	if (rc) {
		snprintf(num, sizeof num, "gai-%d", rc);
		say("forkload child error=%s\n", num);
		_exit(1);
	}
	char a[64], resp[4096];
	int err = 0;
	int fd = connect_first(res, atoi(port), a, sizeof a, &err);
	char *body = fd >= 0 ? http_exchange(fd, "/forkload", name, resp, sizeof resp) : NULL;
	if (!body) {
		snprintf(num, sizeof num, "errno-%d", err);
		say("forkload child error=%s\n", num);
		_exit(3);
	}
	say("forkload child body=%s\n", body);
	_exit(0);
}

static void *lookups(void *arg)
{
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
		if (getaddrinfo(name, NULL, &hints, &res) == 0)
			freeaddrinfo(res);
	}
	return NULL;
}

static void *forker(void *arg)
{
	long us = (long)arg;
	if (us > 0) {
		struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
		nanosleep(&ts, NULL);
	}
	pid_t pid = fork();
	if (pid == 0)
		child();
	if (pid > 0)
		waitpid(pid, &status, 0);
	return NULL;
}

__attribute__((constructor)) static void forkload_init(void)
{
	name = getenv("FORKLOAD_NAME");
	port = getenv("FORKLOAD_PORT");
	if (!name || !port)
		return;
	const char *d = getenv("FORKLOAD_DELAY_US"), *l = getenv("FORKLOAD_LOOKUPS");
	pthread_create(&lookup_thread, NULL, lookups, (void *)(l ? atol(l) : 1L));
	pthread_create(&forker_thread, NULL, forker, (void *)(d ? atol(d) : 0L));
	started = 1;
}

__attribute__((destructor)) static void forkload_fini(void)
{
	if (!started)
		return;
	pthread_join(forker_thread, NULL);
	pthread_join(lookup_thread, NULL);
	char num[32];
	if (WIFSIGNALED(status)) {
		snprintf(num, sizeof num, "%d", WTERMSIG(status));
		say("forkload child signal=%s\n", num);
	} else {
		snprintf(num, sizeof num, "%d", WEXITSTATUS(status));
		say("forkload child exit=%s\n", num);
	}
}
