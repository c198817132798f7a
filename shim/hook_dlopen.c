/* dlopen: libraries loaded with RTLD_DEEPBIND see the hooks too.
 *
 * RTLD_DEEPBIND puts the loaded library's own dependency list (itself, then
 * its dependencies, libc among them) in front of the global scope where a
 * preload sits. PHP loads every extension that way, so php-curl's libcurl
 * binds connect and getaddrinfo straight to libc and nothing is redirected.
 *
 * What we do: call the real dlopen with the caller's flags unchanged, then,
 * in the loaded library and the objects loaded after it, rewrite only the
 * GOT entries of the functions we hook that were bound to the very libc
 * function our hook would call next. Every other symbol keeps its deep
 * binding, and so does a hooked name the library (or a dependency in front
 * of libc) defines itself: the flag keeps its meaning; those calls just
 * pass through us on their way to the same function.
 *
 * Rejected: clearing RTLD_DEEPBIND (one line, but it changes the binding of
 * every symbol of the library: one it defines and the program also exports
 * would bind to the program's copy, which is what the flag exists to stop);
 * doing nothing (PHP is not redirected at all).
 *
 * Costs, written in the README: a RELRO page is written through
 * /proc/self/mem, which does not change its protection (mprotect is the
 * fallback without /proc); a DEEPBIND dlopen returns through us, so the
 * loader takes hostshim as its caller (a bare file name is searched without
 * the calling library's own RUNPATH/RPATH or $ORIGIN). Without the flag,
 * dlopen is a tail call: the loader sees the program's caller, exactly.
 *
 * glibc on x86_64 and aarch64 only: musl has no RTLD_DEEPBIND, and the
 * relocation types are per architecture. Elsewhere dlopen is not hooked. */
#define _GNU_SOURCE
#include <dlfcn.h>

#if defined(__GLIBC__) && defined(RTLD_DEEPBIND) && \
	(defined(__x86_64__) || defined(__aarch64__))
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

/* As in real.c: the pre-2.34 versions, so the library loads on older glibc. */
#if defined(__x86_64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
__asm__(".symver dlerror, dlerror@GLIBC_2.2.5");
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT R_X86_64_GLOB_DAT
#define R_ABS64 R_X86_64_64
#else
__asm__(".symver dlsym, dlsym@GLIBC_2.17");
__asm__(".symver dlerror, dlerror@GLIBC_2.17");
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT R_AARCH64_GLOB_DAT
#define R_ABS64 R_AARCH64_ABS64
#endif

/* The functions we stand in front of: exports.map. A name not (yet)
 * hooked is harmless: its global definition is libc's, skipped.
 *
 * dlopen itself too: a DEEPBIND library that opens another one DEEPBIND
 * (PHP's ffi.so, for FFI::cdef's library) calls libc's dlopen from its deep
 * scope, so without this the second library would be left bound to libc.
 * Rebound, its dlopen comes through here and the second library is
 * rebound in turn, at any depth. */
static const char *const hooked[] = {
	"getsockopt",	   "execve",	       "execv",	     "execvp",
	"execvpe",	   "execl",	       "execlp",     "execle",
	"fexecve",	   "posix_spawn",      "posix_spawnp",
	"getaddrinfo",	   "getnameinfo",      "gethostbyname",
	"gethostbyname2",  "gethostbyname_r",  "gethostbyname2_r",
	"gethostbyaddr",   "gethostbyaddr_r",  "connect",
	"sendto",	   "sendmsg",	       "sendmmsg",
	"getaddrinfo_a",   "gai_suspend",      "gai_error",
	"gai_cancel",	   "dlopen",
};
#define NHOOKED (sizeof hooked / sizeof *hooked)

struct rebind {
	void *handle;
	const void *start_ld; /* the opened library's dynamic section */
	bool started;
	int mem_fd;	      /* /proc/self/mem, opened on first need */
	uintptr_t page;
	void *next[NHOOKED];  /* libc's function: what our hook calls */
	void *ours[NHOOKED];  /* our hook, or an earlier preload's */
	void *deep[NHOOKED];  /* a lazy slot's binding-to-be (deep scope) */
};

/* One object's tables, from its program headers. */
struct object {
	uintptr_t base;
	uintptr_t ro_start, ro_end;	  /* RELRO pages, as the loader rounds */
	uintptr_t lo, hi;		  /* its mapped range */
	const ElfW(Sym) *symtab;
	const char *strtab;
	const ElfW(Rela) *rela, *jmprel;
	size_t nrela, njmprel;
	bool bind_now;
};

static int hook_index(const char *name)
{
	for (size_t i = 0; i < NHOOKED; i++)
		if (!strcmp(name, hooked[i]))
			return (int)i;
	return -1;
}

/* glibc adjusts the dynamic section's pointers to run-time addresses on
 * these architectures; other loaders leave file offsets. */
static uintptr_t dyn_ptr(uintptr_t base, ElfW(Addr) v)
{
	return v < base ? base + v : v;
}

static void read_dynamic(struct object *o, const ElfW(Dyn) *d)
{
	size_t relasz = 0, pltsz = 0;
	bool plt_rela = true;
	for (; d->d_tag != DT_NULL; d++) {
		void *at = (void *)dyn_ptr(o->base, d->d_un.d_ptr);
		ElfW(Xword) v = d->d_un.d_val;
		switch (d->d_tag) {
		case DT_SYMTAB: o->symtab = at; break;
		case DT_STRTAB: o->strtab = at; break;
		case DT_RELA: o->rela = at; break;
		case DT_RELASZ: relasz = v; break;
		case DT_JMPREL: o->jmprel = at; break;
		case DT_PLTRELSZ: pltsz = v; break;
		case DT_PLTREL: plt_rela = v == DT_RELA; break;
		case DT_FLAGS: o->bind_now |= (v & DF_BIND_NOW) != 0; break;
		case DT_FLAGS_1: o->bind_now |= (v & DF_1_NOW) != 0; break;
		}
	}
	o->nrela = o->rela ? relasz / sizeof(ElfW(Rela)) : 0;
	o->njmprel = o->jmprel && plt_rela ? pltsz / sizeof(ElfW(Rela)) : 0;
}

/* The object's ranges and dynamic section; false for one without it. */
static bool read_object(const struct dl_phdr_info *info, uintptr_t page,
			const ElfW(Dyn) **dyn, struct object *o)
{
	memset(o, 0, sizeof *o);
	o->base = info->dlpi_addr;
	o->lo = UINTPTR_MAX;
	*dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t at = o->base + p->p_vaddr;
		if (p->p_type == PT_DYNAMIC)
			*dyn = (const void *)at;
		else if (p->p_type == PT_GNU_RELRO) {
			o->ro_start = at & ~(page - 1);
			o->ro_end = (at + p->p_memsz) & ~(page - 1);
		} else if (p->p_type == PT_LOAD) {
			o->lo = at < o->lo ? at : o->lo;
			uintptr_t end = at + p->p_memsz;
			o->hi = end > o->hi ? end : o->hi;
		}
	}
	return *dyn != NULL;
}

/* Writes one GOT entry. A page the loader made read-only (RELRO) is written
 * through /proc/self/mem, which leaves its protection alone: mprotect
 * there could race with the loader still relocating an object another
 * thread is loading. */
static void write_slot(struct rebind *rb, const struct object *o, void **slot,
		       void *to)
{
	uintptr_t at = (uintptr_t)slot;
	if (at < o->ro_start || at >= o->ro_end) {
		__atomic_store_n(slot, to, __ATOMIC_RELAXED);
		return;
	}
	if (rb->mem_fd == -1)
		rb->mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (rb->mem_fd >= 0 &&
	    pwrite(rb->mem_fd, &to, sizeof to, (off_t)at) == (ssize_t)sizeof to)
		return;
	void *page = (void *)(at & ~(rb->page - 1));
	if (mprotect(page, rb->page, PROT_READ | PROT_WRITE) == 0) {
		__atomic_store_n(slot, to, __ATOMIC_RELAXED);
		mprotect(page, rb->page, PROT_READ);
	}
}

static void rebind_one(struct rebind *rb, const struct object *o,
		       const ElfW(Rela) *r)
{
	unsigned type = (unsigned)ELF64_R_TYPE(r->r_info);
	if (type != R_JUMP_SLOT && type != R_GLOB_DAT &&
	    (type != R_ABS64 || r->r_addend))
		return;
	const ElfW(Sym) *s = &o->symtab[ELF64_R_SYM(r->r_info)];
	if (s->st_shndx != SHN_UNDEF || !s->st_name)
		return; /* the object's own definition: the flag's meaning */
	int i = hook_index(o->strtab + s->st_name);
	if (i < 0 || !rb->next[i] || !rb->ours[i] || rb->ours[i] == rb->next[i])
		return;
	void **slot = (void **)(o->base + r->r_offset);
	void *now = __atomic_load_n(slot, __ATOMIC_RELAXED);
	/* A lazy PLT slot still points into its own object until first use. */
	bool lazy = type == R_JUMP_SLOT && !o->bind_now &&
		    (uintptr_t)now >= o->lo && (uintptr_t)now < o->hi;
	if (now == rb->next[i] || (lazy && rb->deep[i] == rb->next[i]))
		write_slot(rb, o, slot, rb->ours[i]);
}

static void rebind_object(struct rebind *rb, const struct object *o)
{
	for (size_t k = 0; k < o->nrela; k++)
		rebind_one(rb, o, &o->rela[k]);
	for (size_t k = 0; k < o->njmprel; k++)
		rebind_one(rb, o, &o->jmprel[k]);
}

/* Objects come in load order: the opened library, then what it loaded. */
static int each_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct rebind *rb = data;
	const ElfW(Dyn) *dyn;
	struct object o;
	(void)size;
	if (!read_object(info, rb->page, &dyn, &o))
		return 0;
	if (!rb->started)
		rb->started = (const void *)dyn == rb->start_ld;
	if (rb->started) {
		read_dynamic(&o, dyn);
		if (o.symtab && o.strtab)
			rebind_object(rb, &o);
	}
	return 0;
}

static void rebind_deep(void *handle)
{
	int saved = errno;
	struct rebind rb = {.handle = handle, .mem_fd = -1};
	/* glibc's handle is the library's link_map (RTLD_DI_LINKMAP's). */
	rb.start_ld = ((struct link_map *)handle)->l_ld;
	rb.page = (uintptr_t)getauxval(AT_PAGESZ);
	if (!rb.page)
		rb.page = 4096;
	/* Asked before dl_iterate_phdr: dlsym inside its callback would take
	 * the loader's locks in the opposite order to dlopen. */
	for (size_t i = 0; i < NHOOKED; i++) {
		rb.next[i] = dlsym(RTLD_NEXT, hooked[i]);
		rb.ours[i] = dlsym(RTLD_DEFAULT, hooked[i]);
		rb.deep[i] = dlsym(handle, hooked[i]);
	}
	/* dl_iterate_phdr holds the loader's list lock: two of these never
	 * write the same slot at once. */
	dl_iterate_phdr(each_object, &rb);
	if (rb.mem_fd >= 0)
		close(rb.mem_fd);
	/* A name missing from the deep scope (a library without libc) left
	 * an error for dlerror; the caller's dlopen succeeded: it reads none. */
	dlerror();
	errno = saved;
}

typedef void *(*dlopen_fn)(const char *, int);

static dlopen_fn next_dlopen(void)
{
	static dlopen_fn next;
	dlopen_fn fn = __atomic_load_n(&next, __ATOMIC_ACQUIRE);
	if (!fn) {
		fn = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
		__atomic_store_n(&next, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

static __attribute__((noinline)) void *deep_dlopen(dlopen_fn next,
						    const char *file, int mode)
{
	void *h = next(file, mode);
	if (h)
		rebind_deep(h);
	return h;
}

/* The loader looks at its caller's address (for the namespace, $ORIGIN and
 * RUNPATH): without the flag this must be a jump, not a call. */
#if defined(__clang__)
#define SIBCALL
#define TAIL __attribute__((musttail))
#else
#define SIBCALL __attribute__((optimize("optimize-sibling-calls")))
#define TAIL
#endif

SHIM_EXPORT SIBCALL void *dlopen(const char *file, int mode)
{
	dlopen_fn next = next_dlopen();
	if (!next) /* glibc < 2.34, libdl only in a library's local scope */
		return NULL;
	if (__builtin_expect(mode & RTLD_DEEPBIND, 0))
		return deep_dlopen(next, file, mode);
	TAIL return next(file, mode);
}

#endif
