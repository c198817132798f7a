/* deepbind: dlopen() libraries the way PHP loads its extensions, with
 * RTLD_DEEPBIND, and use them.
 *
 * usage: deepbind MODE RESOLVER_LIB OWN_LIB NAME PORT
 *   MODE lazy  RTLD_LAZY | RTLD_DEEPBIND
 *        now   RTLD_NOW | RTLD_DEEPBIND
 *        plain RTLD_NOW (no flag), for comparison
 * RESOLVER_LIB (resolver_lib.so) resolves NAME and GETs / on PORT;
 * OWN_LIB (deepbind_lib.so) defines its own gnu_get_libc_version.
 * Output, one line each:
 *   "missing dlerror=MSG"   dlopen of a file that does not exist, same MODE
 *   "ok dlerror=MSG"        dlerror() right after RESOLVER_LIB loaded
 *   "get addr=A body=BODY"  resolver_get (or "gai rc=N", ...)
 *   "hostbyname addr=A back=NAME"
 *   "own=V next=V"          OWN_LIB's own call and its dlsym(RTLD_NEXT)
 * exit: 0 every call worked, 3 otherwise, 2 usage, 77 no RTLD_DEEPBIND
 * (musl). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*get_fn)(const char *, int, char *, size_t);
typedef int (*hbn_fn)(const char *, char *, size_t);
typedef const char *(*str_fn)(void);

#ifndef RTLD_DEEPBIND
int main(void)
{
    puts("no RTLD_DEEPBIND in this libc");
    return 77;
}
#else
static int use_resolver(void *h, const char *name, int port)
{
    char out[1024];
    get_fn get = (get_fn)dlsym(h, "resolver_get");
    hbn_fn hbn = (hbn_fn)dlsym(h, "resolver_hostbyname");
    if (!get || !hbn)
        return 3;
    int rc = get(name, port, out, sizeof out);
    printf("get %s\n", out);
    rc |= hbn(name, out, sizeof out);
    printf("hostbyname %s\n", out);
    return rc ? 3 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    int mode = !strcmp(argv[1], "lazy") ? RTLD_LAZY | RTLD_DEEPBIND
             : !strcmp(argv[1], "now")  ? RTLD_NOW | RTLD_DEEPBIND
             : !strcmp(argv[1], "plain") ? RTLD_NOW : -1;
    if (mode < 0)
        return 2;
    void *missing = dlopen("/nonexistent/deepbind-missing.so", mode);
    const char *err = dlerror();
    printf("missing handle=%s dlerror=%s\n", missing ? "set" : "null", err ? err : "(null)");
    void *h = dlopen(argv[2], mode);
    err = dlerror();
    printf("ok dlerror=%s\n", err ? err : "(null)");
    if (!h)
        return 3;
    int rc = use_resolver(h, argv[4], atoi(argv[5]));
    void *own = dlopen(argv[3], mode);
    str_fn own_fn = own ? (str_fn)dlsym(own, "deep_own") : NULL;
    str_fn next_fn = own ? (str_fn)dlsym(own, "deep_next") : NULL;
    if (!own_fn || !next_fn)
        return 3;
    printf("own=%s next=%s\n", own_fn(), next_fn());
    fflush(stdout);
    return rc;
}
#endif
