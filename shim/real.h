/* The libc functions the hooks stand in front of. */
#ifndef HOSTSHIM_REAL_H
#define HOSTSHIM_REAL_H

#include <netdb.h>
#include <stdbool.h>
#include <sys/socket.h>

/* sendmmsg's flags: int in glibc, unsigned int in musl. */
#ifdef __GLIBC__
typedef int mmsg_flags_t;
#else
typedef unsigned int mmsg_flags_t;
#endif

struct real_fns {
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	void (*freeaddrinfo)(struct addrinfo *);
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
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, mmsg_flags_t);
};
extern struct real_fns real;
void real_resolve(void);
bool real_program_is_go(void);

#endif
