/* deepbind_ctor_lib: a preload whose constructor dlopen()s DEEPBIND_LIB
 * (resolver_lib.so) with RTLD_DEEPBIND and resolves and connects through
 * it: preloaded after hostshim, it runs before hostshim's own constructor,
 * so hostshim's dlopen hook works before anything of it was set up.
 *
 * env:   DEEPBIND_LIB (nothing happens without it), DEEPBIND_NAME (default
 *        auth.localhost), DEEPBIND_PORT (80)
 * prints on stdout: "ctor: get addr=A body=BODY" (or "ctor: ..." on failure)
 * (the Makefile builds every tests/clients/NAME_lib.c as NAME_lib.so) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*get_fn)(const char *, int, char *, size_t);

__attribute__((constructor)) static void deepbind_ctor(void)
{
#ifdef RTLD_DEEPBIND
    const char *lib = getenv("DEEPBIND_LIB");
    const char *name = getenv("DEEPBIND_NAME");
    const char *port = getenv("DEEPBIND_PORT");
    char out[1024];
    if (!lib)
        return;
    void *h = dlopen(lib, RTLD_LAZY | RTLD_DEEPBIND);
    get_fn get = h ? (get_fn)dlsym(h, "resolver_get") : NULL;
    if (!get) {
        printf("ctor: dlopen error=%s\n", dlerror());
    } else {
        get(name ? name : "auth.localhost", port ? atoi(port) : 80, out, sizeof out);
        printf("ctor: get %s\n", out);
    }
    fflush(stdout);
#endif
}
