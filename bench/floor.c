/* floor: a preload that hooks what libhostshim hooks and only calls through.
 *
 * It is the least any preload of these functions pays: an exported symbol
 * that wins over libc's, a check that the real function is known (a hook may
 * run before the constructor, when another library's constructor resolves a
 * name), and an indirect call. The benchmarks compare libhostshim against
 * it: what libhostshim costs above this line is the price of its features.
 *
 * Built like the library (-O2, hidden visibility, the same exports, -z now),
 * so loading and calling it cost the same way. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <sys/socket.h>

#define EXPORT __attribute__((visibility("default")))

#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.17");
#endif

static struct {
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	int (*getnameinfo)(const struct sockaddr *, socklen_t, char *, socklen_t,
			   char *, socklen_t, int);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
			       struct hostent **, int *);
	int (*gethostbyname2_r)(const char *, int, struct hostent *, char *,
				size_t, struct hostent **, int *);
	struct hostent *(*gethostbyaddr)(const void *, socklen_t, int);
	int (*gethostbyaddr_r)(const void *, socklen_t, int, struct hostent *,
			       char *, size_t, struct hostent **, int *);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
} real;

#define FIND(fn) *(void **)&real.fn = dlsym(RTLD_NEXT, #fn)

static void resolve(void)
{
	FIND(getaddrinfo);
	FIND(getnameinfo);
	FIND(gethostbyname);
	FIND(gethostbyname2);
	FIND(gethostbyname_r);
	FIND(gethostbyname2_r);
	FIND(gethostbyaddr);
	FIND(gethostbyaddr_r);
	FIND(sendto);
	FIND(sendmsg);
	void *c = dlsym(RTLD_NEXT, "connect");
	__atomic_store_n((void **)&real.connect, c, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void on_load(void)
{
	resolve();
}

/* Before the constructor: find the table first. */
#define READY()                                                               \
	do {                                                                  \
		if (__builtin_expect(!__atomic_load_n((void **)&real.connect,  \
						      __ATOMIC_ACQUIRE),      \
				     0))                                      \
			resolve();                                            \
	} while (0)

EXPORT int getaddrinfo(const char *node, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res)
{
	READY();
	return real.getaddrinfo(node, service, hints, res);
}

EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
		       socklen_t hostlen, char *serv, socklen_t servlen,
		       int flags)
{
	READY();
	return real.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
}

EXPORT struct hostent *gethostbyname(const char *name)
{
	READY();
	return real.gethostbyname(name);
}

EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	READY();
	return real.gethostbyname2(name, af);
}

EXPORT int gethostbyname_r(const char *name, struct hostent *he, char *buf,
			   size_t len, struct hostent **result, int *herr)
{
	READY();
	return real.gethostbyname_r(name, he, buf, len, result, herr);
}

EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *he,
			    char *buf, size_t len, struct hostent **result,
			    int *herr)
{
	READY();
	return real.gethostbyname2_r(name, af, he, buf, len, result, herr);
}

EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len, int af)
{
	READY();
	return real.gethostbyaddr(addr, len, af);
}

EXPORT int gethostbyaddr_r(const void *addr, socklen_t alen, int af,
			   struct hostent *he, char *buf, size_t len,
			   struct hostent **result, int *herr)
{
	READY();
	return real.gethostbyaddr_r(addr, alen, af, he, buf, len, result, herr);
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	READY();
	return real.connect(fd, sa, len);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *sa, socklen_t len)
{
	READY();
	return real.sendto(fd, buf, n, flags, sa, len);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	READY();
	return real.sendmsg(fd, msg, flags);
}
