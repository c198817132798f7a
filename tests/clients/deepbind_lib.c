/* deepbind_lib: a library for deepbind.c to dlopen with RTLD_DEEPBIND.
 *
 * It defines its own gnu_get_libc_version, a name libc (in the global
 * scope) defines too: under RTLD_DEEPBIND the library's calls bind to its
 * own copy; without the flag they would bind to libc's.
 *
 * const char *deep_own(void)   what the library's own call answers
 * const char *deep_next(void)  dlsym(RTLD_NEXT) from the library: libc's
 * (the Makefile builds every tests/clients/NAME_lib.c as NAME_lib.so) */
#define _GNU_SOURCE
#include <dlfcn.h>

const char *gnu_get_libc_version(void);

__attribute__((visibility("default"))) const char *gnu_get_libc_version(void)
{
    return "deepbind-own";
}

__attribute__((visibility("default"))) const char *deep_own(void)
{
    return gnu_get_libc_version();
}

__attribute__((visibility("default"))) const char *deep_next(void)
{
    const char *(*next)(void) = (const char *(*)(void))dlsym(RTLD_NEXT, "gnu_get_libc_version");
    return next ? next() : "none";
}
