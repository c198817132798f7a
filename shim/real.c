/* The libc functions we stand in front of, found once with dlsym(RTLD_NEXT).
 *
 * Each hook calls through this table. It is filled by the first hook or by
 * the constructor, whichever comes first; dlsym does not call back into any
 * function we hook, so filling it cannot recurse. Concurrent fillers store
 * the same values. */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "real.h"

/* Built on glibc 2.34 or later, dlsym would be bound to its 2.34 version
 * and the library would not load on older glibc. The old version is still
 * exported, so ask for it by name. */
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.17");
#endif

struct real_fns real;

#define FIND(fn) *(void **)&real.fn = dlsym(RTLD_NEXT, #fn)

void real_resolve(void)
{
	FIND(getaddrinfo);
	FIND(freeaddrinfo);
	FIND(getnameinfo);
	FIND(gethostbyname);
	FIND(gethostbyname2);
	FIND(gethostbyname_r);
	FIND(gethostbyname2_r);
	FIND(gethostbyaddr);
	FIND(gethostbyaddr_r);
	FIND(sendto);
	FIND(sendmsg);
	FIND(sendmmsg);
	FIND(getsockopt);
	FIND(execve);
	FIND(execvpe);
	FIND(fexecve);
	FIND(posix_spawn);
	FIND(posix_spawnp);
	/* Last: connect doubles as the flag that the table is complete. */
	void *c = dlsym(RTLD_NEXT, "connect");
	__atomic_store_n((void **)&real.connect, c, __ATOMIC_RELEASE);
}

/* A Go program with cgo: its runtime exports these to C. Go connects with
 * raw system calls, never through libc's connect, so a synthetic address
 * handed to it could never be rewritten. */
bool real_program_is_go(void)
{
	return dlsym(RTLD_DEFAULT, "crosscall2") ||
	       dlsym(RTLD_DEFAULT, "_cgo_topofstack");
}
