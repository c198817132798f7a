/* brk_mem: lookups when memory runs out (breaker; `ulimit -v`, strict
 * overcommit; core-targets shim/slots.c takes slot memory on need).
 *
 *   brk_mem aslimit SUFFIX N PORT
 *       looks up first.SUFFIX, then caps the address space (RLIMIT_AS) a
 *       little above what the process uses, then looks up N distinct names
 *       nI.SUFFIX; prints "lookups=N ok=A memory=B other=C", then connects
 *       to first.SUFFIX's address (kept from before) on PORT and prints
 *       "kept body=..." or "kept connect=ERR"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "client_net.h"

static long vm_size_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmSize:", 7))
			kb = atol(line + 7);
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 5 || strcmp(argv[1], "aslimit")) {
		fprintf(stderr, "usage: see the top of brk_mem.c\n");
		return 2;
	}
	const char *suffix = argv[2];
	int n = atoi(argv[3]), port = atoi(argv[4]);
	char name[300];
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *first, *res;
	snprintf(name, sizeof name, "first.%s", suffix);
	if (getaddrinfo(name, NULL, &hints, &first)) {
		printf("first lookup failed\n");
		return 1;
	}
	/* warm what libc allocates for a lookup, then cap */
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "warm%d.%s", i, suffix);
		if (!getaddrinfo(name, NULL, &hints, &res))
			freeaddrinfo(res);
	}
	long kb = vm_size_kb();
	struct rlimit rl = {(rlim_t)(kb + 256) * 1024, (rlim_t)(kb + 256) * 1024};
	setrlimit(RLIMIT_AS, &rl);
	int ok = 0, mem = 0, other = 0;
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof name, "n%d.%s", i, suffix);
		int rc = getaddrinfo(name, NULL, &hints, &res);
		if (!rc) {
			ok++;
			freeaddrinfo(res);
		} else if (rc == EAI_MEMORY) {
			mem++;
		} else {
			other++;
		}
	}
	printf("lookups=%d ok=%d memory=%d other=%d\n", n, ok, mem, other);
	char a[64];
	int err = 0, fd = connect_first(first, port, a, sizeof a, &err);
	if (fd < 0) {
		printf("kept connect=%s\n", strerror(err));
		return 1;
	}
	char resp[4096];
	char *body = http_exchange(fd, "/", "first", resp, sizeof resp);
	printf("kept body=%s\n", body ? body : "-");
	return 0;
}
