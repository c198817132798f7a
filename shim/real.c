/* The libc functions we stand in front of, found once with dlsym(RTLD_NEXT).
 *
 * Each hook calls through this table. It is filled by the first hook or by
 * the constructor, whichever comes first; dlsym does not call back into any
 * function we hook, so filling it cannot recurse. Concurrent fillers store
 * the same values. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>

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

/* Whether `addr` lies in the main program's mapped range. The first object
 * dl_iterate_phdr visits is the main program (glibc and musl alike). */
struct main_range {
	uintptr_t lo, hi;
};

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct main_range *m = data;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t at = info->dlpi_addr + p->p_vaddr;
		if (p->p_type != PT_LOAD)
			continue;
		if (at < m->lo)
			m->lo = at;
		if (at + p->p_memsz > m->hi)
			m->hi = at + p->p_memsz;
	}
	return 1; /* the main program only */
}

static bool in_main_program(const void *addr)
{
	struct main_range m = {UINTPTR_MAX, 0};
	dl_iterate_phdr(first_object, &m);
	return addr && (uintptr_t)addr >= m.lo && (uintptr_t)addr < m.hi;
}

/* A Go program with cgo: its runtime exports these to C. Go connects with
 * raw system calls, never through libc's connect, so a synthetic address
 * handed to it could never be rewritten. Only the main program counts: a
 * C program (or Python, through ctypes) that loaded a Go library built
 * with -buildmode=c-shared carries the same symbols in that library, and
 * its own libc calls are ours to redirect. */
bool real_program_is_go(void)
{
	return in_main_program(dlsym(RTLD_DEFAULT, "crosscall2")) ||
	       in_main_program(dlsym(RTLD_DEFAULT, "_cgo_topofstack"));
}
