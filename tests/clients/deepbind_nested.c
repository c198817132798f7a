/* deepbind_nested: a DEEPBIND library that opens another one DEEPBIND,
 * as PHP's ffi.so does for FFI::cdef (issue 14 item 7).
 *
 * usage: deepbind_nested NEST_LIB RESOLVER_LIB NAME PORT
 *   dlopen(NEST_LIB (deepnest_lib.so), RTLD_NOW | RTLD_DEEPBIND), then its
 *   nest_open(RESOLVER_LIB (resolver_lib.so)) opens the resolver with
 *   RTLD_DEEPBIND from inside NEST_LIB; the resolver resolves NAME and
 *   GETs / on PORT.
 * Output: "get addr=A body=BODY" (or "get gai rc=N", ...), or
 * "dlopen error=MSG".
 * exit: 0 a body came back, 3 otherwise, 2 usage, 77 no RTLD_DEEPBIND. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*get_fn)(const char *, int, char *, size_t);
typedef void *(*open_fn)(const char *);

int main(int argc, char **argv)
{
#ifndef RTLD_DEEPBIND
    (void)argc;
    (void)argv;
    puts("no RTLD_DEEPBIND in this libc");
    return 77;
#else
    if (argc != 5)
        return 2;
    void *nest = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
    open_fn open = nest ? (open_fn)dlsym(nest, "nest_open") : NULL;
    void *inner = open ? open(argv[2]) : NULL;
    get_fn get = inner ? (get_fn)dlsym(inner, "resolver_get") : NULL;
    if (!get) {
        printf("dlopen error=%s\n", dlerror());
        return 3;
    }
    char out[2048];
    int rc = get(argv[3], atoi(argv[4]), out, sizeof out);
    printf("get %s\n", out);
    return rc ? 3 : 0;
#endif
}
