/* heap_loop: does the heap grow over a long run of lookups?
 *
 * usage: heap_loop [-f unspec|inet|inet6] [-a] WARMUP LOOPS NAME...
 *   WARMUP rounds of getaddrinfo/freeaddrinfo over the NAMEs (service
 *   NULL, SOCK_STREAM, like Node.js; -a adds AI_ADDRCONFIG), then the heap
 *   in use is measured, then LOOPS more rounds, then the heap again.
 *   A round is one lookup of one name (the names are taken in turn).
 * The heap in use: mallinfo2() uordblks + hblkhd (every block malloc
 * handed out and not freed, reachable or not); under valgrind, whose
 * malloc is not glibc's, the bytes memcheck counts as in use (leaked +
 * possibly lost + still reachable), after a leak check; under a sanitizer
 * runtime (ASan), __sanitizer_get_current_allocated_bytes(). Before the
 * loop it checks that the measure sees a 1 MiB block come and go; where it
 * can't, mode=none (the caller can't conclude anything).
 * Output: "heap mode=M before=B after=A growth=G ok=N fail=F [first-fail=EAI_X]"
 * exit: 0 every lookup answered, 1 some failed, 2 usage. */
#define _GNU_SOURCE
#include <malloc.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#endif

static const char *mode = "mallinfo2";

size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static long long heap_in_use(void)
{
	if (__sanitizer_get_current_allocated_bytes) {
		mode = "sanitizer";
		return (long long)__sanitizer_get_current_allocated_bytes();
	}
#ifdef HAVE_MEMCHECK
	if (RUNNING_ON_VALGRIND) {
		unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
		mode = "memcheck";
		VALGRIND_DO_QUICK_LEAK_CHECK;
		VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
		(void)suppressed;
		return (long long)(leaked + dubious + reachable);
	}
#endif
	struct mallinfo2 mi = mallinfo2();
	return (long long)(mi.uordblks + mi.hblkhd);
}

int main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int opt;
	while ((opt = getopt(argc, argv, "f:a")) != -1) {
		if (opt == 'f')
			hints.ai_family = !strcmp(optarg, "inet") ? AF_INET
					  : !strcmp(optarg, "inet6") ? AF_INET6 : AF_UNSPEC;
		else if (opt == 'a')
			hints.ai_flags |= AI_ADDRCONFIG;
		else
			return 2;
	}
	if (argc - optind < 3) {
		fprintf(stderr, "usage: heap_loop [-f FAMILY] [-a] WARMUP LOOPS NAME...\n");
		return 2;
	}
	long warm = atol(argv[optind]), loops = atol(argv[optind + 1]);
	char **names = argv + optind + 2;
	int nnames = argc - optind - 2;
	long ok = 0, fail = 0;
	int first_fail = 0;
	long long before = 0;
	long long h0 = heap_in_use();
	char *volatile probe = malloc(1 << 20);
	memset(probe, 1, 1 << 20);
	long long h1 = heap_in_use();
	free(probe);
	if (h1 - h0 < (1 << 20))
		mode = "none";
	const char *measured = mode;
	for (long i = 0; i < warm + loops; i++) {
		if (i == warm)
			before = heap_in_use();
		struct addrinfo *res = NULL;
		int rc = getaddrinfo(names[i % nnames], NULL, &hints, &res);
		if (rc == 0) {
			ok++;
			freeaddrinfo(res);
		} else {
			if (!fail)
				first_fail = rc;
			fail++;
		}
	}
	if (warm + loops == warm)
		before = heap_in_use();
	long long after = heap_in_use();
	mode = measured;
	printf("heap mode=%s before=%lld after=%lld growth=%lld ok=%ld fail=%ld", mode, before, after,
	       after - before, ok, fail);
	if (fail)
		printf(" first-fail=%s", gai_strerror(first_fail));
	printf("\n");
	return fail ? 1 : 0;
}
