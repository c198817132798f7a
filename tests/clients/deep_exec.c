/* deep_exec: deep_exec_lib.so's deep_run, the library loaded with or
 * without RTLD_DEEPBIND: the exec hooks must reach a DEEPBIND library.
 *
 *   deep_exec LIB deep|plain spawn|exec PROG
 * Output: what PROG prints, then "status=N" (spawn) or "errno=N" (a failed
 * exec), or "dlopen error=MSG"; exit 77 without RTLD_DEEPBIND. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
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
	setvbuf(stdout, NULL, _IONBF, 0);
	int flags = RTLD_NOW | (strcmp(argv[2], "deep") ? 0 : RTLD_DEEPBIND);
	void *h = dlopen(argv[1], flags);
	if (!h) {
		printf("dlopen error=%s\n", dlerror());
		return 3;
	}
	int (*run)(const char *, const char *) =
		(int (*)(const char *, const char *))dlsym(h, "deep_run");
	int r = run(argv[3], argv[4]);
	printf("%s=%d\n", strcmp(argv[3], "exec") ? "status" : "errno", r);
	return 0;
#endif
}
