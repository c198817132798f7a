/* Force-included (-include) when mk/musl.mk builds the C test clients of
 * tests/clients/ against musl: they use two glibc extensions that musl
 * lacks. Not used by the library. */
#ifndef HOSTSHIM_MUSL_COMPAT_H
#define HOSTSHIM_MUSL_COMPAT_H

/* Included before the client's own first line: the client's feature macro
 * must hold for these headers too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <netdb.h>
#include <string.h>

#ifndef NETDB_INTERNAL
#define NETDB_INTERNAL (-1) /* glibc's value */
#endif

#ifndef __GLIBC__
/* glibc 2.32's strerrorname_np: the errno's name, or NULL. */
static inline const char *hostshim_errno_name(int e)
{
	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(EBADF) E(EAGAIN) E(ENOMEM)
	E(EACCES) E(EFAULT) E(EEXIST) E(EINVAL) E(ENFILE) E(EMFILE) E(EPIPE)
	E(ERANGE) E(ENOSYS) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE)
	E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT)
	E(EOPNOTSUPP) E(EPFNOSUPPORT) E(EAFNOSUPPORT) E(EADDRINUSE)
	E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ENETRESET)
	E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN)
	E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY)
	E(EINPROGRESS) E(EBADMSG)
#undef E
	default:
		return NULL;
	}
}
#define strerrorname_np hostshim_errno_name
#endif

#endif
