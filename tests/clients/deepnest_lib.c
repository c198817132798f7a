/* deepnest_lib: what PHP's ffi.so does, for deepbind_nested.c: a library
 * loaded with RTLD_DEEPBIND that opens another library with RTLD_DEEPBIND
 * through its own dlopen (FFI::cdef's library).
 *
 * void *nest_open(const char *path)  dlopen(path, RTLD_NOW | RTLD_DEEPBIND)
 * (the Makefile builds every tests/clients/NAME_lib.c as NAME_lib.so) */
#define _GNU_SOURCE
#include <dlfcn.h>

__attribute__((visibility("default"))) void *nest_open(const char *path)
{
#ifdef RTLD_DEEPBIND
    return dlopen(path, RTLD_NOW | RTLD_DEEPBIND);
#else
    return dlopen(path, RTLD_NOW);
#endif
}
