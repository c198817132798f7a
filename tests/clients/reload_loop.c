/* reload_loop: look a name up and GET from it every 50 ms for a while, so
 * that a test can edit the configuration meanwhile and see when the new
 * rules apply.
 *
 * usage: reload_loop [-k] NAME PORT SECONDS
 *   -k  keep the first answer: look NAME up once, then each round look up
 *       "localhost" (lookups are where the library notices an edit) and
 *       connect to the address NAME gave at the start.
 * Output, one line a round, flushed: "t=MS body=BODY", "t=MS errno=ENAME",
 * "t=MS gai rc=N"; MS is CLOCK_REALTIME in milliseconds.
 * exit: 0, or 2 for usage. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "client_net.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

static void round_once(const struct addrinfo *res, const char *name, int port)
{
	char a[64], resp[4096];
	int err = 0;
	int fd = connect_first(res, port, a, sizeof a, &err);
	if (fd < 0) {
		printf("t=%lld errno=%s\n", now_ms(), strerrorname_np(err));
		return;
	}
	char *body = http_exchange(fd, "/", name, resp, sizeof resp);
	printf("t=%lld body=%s\n", now_ms(), body ? body : "none");
}

int main(int argc, char **argv)
{
	int keep = argc > 1 && !strcmp(argv[1], "-k");
	if (argc != 4 + keep) {
		fprintf(stderr, "usage: reload_loop [-k] NAME PORT SECONDS\n");
		return 2;
	}
	const char *name = argv[1 + keep];
	int port = atoi(argv[2 + keep]);
	long long end = now_ms() + 1000ll * atoi(argv[3 + keep]);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *kept = NULL, *res;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (keep && getaddrinfo(name, NULL, &hints, &kept)) {
		printf("t=%lld gai rc=first\n", now_ms());
		return 1;
	}
	while (now_ms() < end) {
		int rc = getaddrinfo(keep ? "localhost" : name, NULL, &hints, &res);
		if (rc) {
			printf("t=%lld gai rc=%d\n", now_ms(), rc);
		} else {
			round_once(keep ? kept : res, name, port);
			freeaddrinfo(res);
		}
		nanosleep(&(struct timespec){0, 50 * 1000000}, NULL);
	}
	if (kept)
		freeaddrinfo(kept);
	return 0;
}
