/* many_names: a long-running server's life under a wildcard rule: one
 * lookup each of N distinct names, some of them connected to.
 *
 * usage: many_names N FORMAT PORT [SECONDS]
 *   FORMAT has one %ld (e.g. n%ld.tenant.localhost); names 0..N-1 are
 *   looked up in turn (getaddrinfo, AF_INET, SOCK_STREAM, service NULL);
 *   every 10,000th and the last 3 are connected to on PORT with a GET.
 *   Stops early after SECONDS (default 120) or 1000 failed lookups.
 * Output: one "connect i=I body=..." line per connection, then
 *   "names n=N ok=O fail=F first-fail-i=I first-fail=EAI_X
 *    first100k_per_s=A last100k_per_s=B rss_start_kb=R0 rss_end_kb=R1
 *    secs=S stopped=no|time|failures"
 * exit: 0 all looked up and every connection got a body, 3 otherwise. */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_net.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	long n = atol(argv[1]);
	const char *fmt = argv[2];
	int port = atoi(argv[3]);
	double limit = argc > 4 ? atof(argv[4]) : 120;
	long ok = 0, fail = 0, first_fail_i = -1, connects_bad = 0;
	int first_fail = 0;
	long window = n < 1000000 ? n / 10 : 100000;
	double t0 = now(), tw = t0, first_rate = 0, last_rate = 0;
	long rss0 = 0;
	const char *stopped = "no";
	long i;
	for (i = 0; i < n; i++) {
		if (i == 1000)
			rss0 = rss_kb();
		if (i == window)
			first_rate = (double)window / (now() - t0);
		if (i == n - window)
			tw = now();
		char name[256];
		snprintf(name, sizeof name, fmt, i);
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
		int rc = getaddrinfo(name, NULL, &hints, &res);
		if (rc) {
			if (fail++ == 0) {
				first_fail_i = i;
				first_fail = rc;
			}
			if (fail >= 1000) {
				stopped = "failures";
				break;
			}
		} else {
			ok++;
			if (i % 10000 == 0 || i >= n - 3) {
				char a[64], resp[4096];
				int err = 0;
				int fd = connect_first(res, port, a, sizeof a, &err);
				char *body = fd >= 0 ? http_exchange(fd, "/many", name, resp, sizeof resp) : NULL;
				if (body)
					printf("connect i=%ld addr=%s body=%s\n", i, a, body);
				else {
					printf("connect i=%ld addr=%s errno=%d\n", i, a, err);
					connects_bad++;
				}
			}
			freeaddrinfo(res);
		}
		if ((i & 1023) == 0 && now() - t0 > limit) {
			stopped = "time";
			break;
		}
	}
	double t1 = now();
	if (i == n && n > window)
		last_rate = (double)window / (t1 - tw);
	printf("names n=%ld ok=%ld fail=%ld first-fail-i=%ld first-fail=%s first100k_per_s=%.0f "
	       "last100k_per_s=%.0f rss_start_kb=%ld rss_end_kb=%ld secs=%.1f stopped=%s\n",
	       i, ok, fail, first_fail_i, fail ? gai_strerror(first_fail) : "-", first_rate, last_rate, rss0,
	       rss_kb(), t1 - t0, stopped);
	return (fail || connects_bad || i != n) ? 3 : 0;
}
