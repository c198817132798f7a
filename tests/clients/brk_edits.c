/* brk_edits: edits racing lookups and connects (breaker; SPEC Behaviour
 * 10, 13, 14). Build it with -fsanitize=thread against a TSan library as
 * well (tests/tsan/tsan.mk's flags).
 *
 *   brk_edits CONFIG THREADS SECS
 * THREADS threads, for SECS seconds, each in turn:
 *   - getaddrinfo(auth.localhost) then connect :80 and GET
 *   - connect 127.0.0.1:8081 (an address rule in two of the three files)
 *   - connect to the address auth.localhost had when the run began (kept)
 * while one thread rewrites CONFIG every 130 ms, by rename, in turn:
 *   A  auth.localhost = server:9000   127.0.0.1:8081 = server:9000
 *   B  auth.localhost = gateway:8080  127.0.0.1:8081 = gateway:8080
 *   C  other.localhost = server:9000  (auth.localhost no longer mapped)
 * Every answer must come from 127.0.0.5:9000, 127.0.0.6:8080 or (no rule)
 * 127.0.0.1:80; a connect may also fail (a target not resolved yet,
 * 8081 with no rule). Prints "ops=N ok=O failed=F wrong=W" and up to 5
 * "wrong ..." lines; exit 0 iff wrong=0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *cfg;
static atomic_int stop, ops, ok, failed, wrong;
static struct sockaddr_in kept;

static const char *const files[] = {
	"[map]\nauth.localhost = server:9000\n127.0.0.1:8081 = server:9000\n",
	"[map]\nauth.localhost = gateway:8080\n127.0.0.1:8081 = gateway:8080\n",
	"[map]\nother.localhost = server:9000\n",
};

static void write_cfg(const char *text)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", cfg);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	rename(tmp, cfg);
}

static void get(const struct sockaddr_in *sa, const char *what)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	atomic_fetch_add(&ops, 1);
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa)) {
		atomic_fetch_add(&failed, 1);
		close(fd);
		return;
	}
	const char req[] = "GET / HTTP/1.0\r\nHost: auth.localhost\r\n\r\n";
	char r[2048];
	size_t got = 0;
	ssize_t k;
	if (write(fd, req, sizeof req - 1) < 0) {
		close(fd);
		atomic_fetch_add(&failed, 1);
		return;
	}
	while (got < sizeof r - 1 && (k = read(fd, r + got, sizeof r - 1 - got)) > 0)
		got += (size_t)k;
	r[got] = 0;
	close(fd);
	char *l = strstr(r, "listener=");
	if (l && (!strncmp(l, "listener=127.0.0.5:9000 ", 24) ||
		  !strncmp(l, "listener=127.0.0.6:8080 ", 24) ||
		  !strncmp(l, "listener=127.0.0.1:80 ", 22))) {
		atomic_fetch_add(&ok, 1);
		return;
	}
	if (atomic_fetch_add(&wrong, 1) < 5)
		printf("wrong %s: %.80s\n", what, l ? l : r);
}

static void *worker(void *arg)
{
	(void)arg;
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	struct sockaddr_in rule = {.sin_family = AF_INET, .sin_port = htons(8081)};
	inet_pton(AF_INET, "127.0.0.1", &rule.sin_addr);
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		if (i % 3 == 0) {
			if (getaddrinfo("auth.localhost", "80", &hints, &res)) {
				atomic_fetch_add(&failed, 1);
				continue;
			}
			struct sockaddr_in sa;
			memcpy(&sa, res->ai_addr, sizeof sa);
			freeaddrinfo(res);
			get(&sa, "lookup");
		} else if (i % 3 == 1) {
			get(&rule, "address rule");
		} else {
			get(&kept, "kept address");
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 4) {
		fprintf(stderr, "usage: see the top of brk_edits.c\n");
		return 2;
	}
	cfg = argv[1];
	int n = atoi(argv[2]), secs = atoi(argv[3]);
	write_cfg(files[0]);
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	if (getaddrinfo("auth.localhost", "80", &hints, &res))
		return 1;
	memcpy(&kept, res->ai_addr, sizeof kept);
	freeaddrinfo(res);
	pthread_t t[64];
	n = n > 64 ? 64 : n;
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	time_t end = time(NULL) + secs;
	for (unsigned k = 1; time(NULL) < end; k++) {
		usleep(130000);
		write_cfg(files[k % 3]);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("ops=%d ok=%d failed=%d wrong=%d\n", ops, ok, failed, wrong);
	return wrong != 0;
}
