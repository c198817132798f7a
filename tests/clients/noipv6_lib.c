/* noipv6_lib: a preload that makes the process look like it runs on a
 * kernel without IPv6 (booted with ipv6.disable=1): socket(AF_INET6, ...)
 * fails with EAFNOSUPPORT.  Put it before libhostshim.so in LD_PRELOAD so
 * that hostshim's own socket() calls reach it too.
 * (the Makefile builds every tests/clients/NAME_lib.c as NAME_lib.so) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

__attribute__((visibility("default"))) int socket(int domain, int type, int protocol)
{
    static int (*real_socket)(int, int, int);
    if (domain == AF_INET6) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (!real_socket)
        real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    return real_socket(domain, type, protocol);
}
