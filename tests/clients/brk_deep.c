/* brk_deep: brk_deep_lib.so's non-blocking connect, the library loaded
 * with or without RTLD_DEEPBIND (breaker: every hook must reach a DEEPBIND
 * library, the new ones too).
 *
 *   brk_deep LIB deep|plain NAME PORT
 * Output: "so_error=ECONNREFUSED" (or the number, 0 connected), or
 * "dlopen error=MSG"; exit 77 without RTLD_DEEPBIND. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
#ifndef RTLD_DEEPBIND
	(void)argc;
	(void)argv;
	return 77;
#else
	if (argc != 5)
		return 2;
	int flags = RTLD_NOW | (strcmp(argv[2], "deep") ? 0 : RTLD_DEEPBIND);
	void *h = dlopen(argv[1], flags);
	if (!h) {
		printf("dlopen error=%s\n", dlerror());
		return 3;
	}
	int (*fn)(const char *, int) = (int (*)(const char *, int))dlsym(h, "deep_nb_connect");
	int e = fn(argv[3], atoi(argv[4]));
	if (e == ECONNREFUSED)
		printf("so_error=ECONNREFUSED\n");
	else
		printf("so_error=%d\n", e);
	return 0;
#endif
}
