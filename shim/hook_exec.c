/* exec and spawn: a program the preload can't reach runs supervised.
 *
 * One `ENV LD_PRELOAD` is meant to cover a container, but a Go program
 * connects with raw system calls and a static one loads no library at all.
 * When a preloaded program execs one of those, the exec becomes an exec
 * of the supervisor, as `hostshim --supervise` does: the same PID, which
 * runs PROGRAM as its child and ends as it ends, passing signals on. The
 * supervisor gets the program's argv unchanged (argv[0] matters to
 * busybox, login shells, `exec -a`) and the file to run in
 * HOSTSHIM_SUPERVISE_FILE. Not when HOSTSHIM_SUPERVISE or `supervise` in
 * [shim] says off, nor inside a tree already supervised
 * (HOSTSHIM_SUPERVISED, which the exec sets), nor without any
 * configuration, nor in a setuid program, nor for a setuid, setgid or
 * file-capability program (the supervisor's no_new_privs would take its
 * privileges away), nor for one we may run but not read.
 *
 * glibc's execv, execvp, execl* and posix_spawn reach the kernel through
 * an internal __execve, not the exported execve, so each has its hook.
 *
 * execve may run in the child of a vfork, sharing the parent's memory:
 * no heap, no lock, no stdio here; small stack buffers (a thread's stack
 * may be 16 KiB) and system calls. That is why the file's `supervise` key
 * is read by a small scanner below rather than by config.c. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "init.h"
#include "log.h"
#include "shim.h"

/* As for dlsym in real.c: glibc 2.34 moved dladdr into libc.so.6 under a
 * new version; the old one loads on every glibc since 2.2.5. */
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver dladdr, dladdr@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver dladdr, dladdr@GLIBC_2.17");
#endif

#define ARGS_MAX 4096 /* execl* arguments counted, times 16 */
#define DEFAULT_CONFIG "/etc/hostshim/shim.ini"
#define SUPERVISOR "hostshim-supervise"
#define MARKER "HOSTSHIM_SUPERVISED"

extern char **environ;

/* libc declares the paths nonnull; the kernel answers EFAULT for NULL, and
 * so must we rather than crash: the compiler may not assume it. */
static inline bool given(const char *p)
{
	__asm__("" : "+r"(p));
	return p != NULL;
}

static const char *env_in(char *const envp[], const char *name)
{
	size_t n = strlen(name);
	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* Lines about one program said once per process: a server spawning the
 * same program again and again says it the first time. */
#define SAID_PLACES 16
static _Atomic uint64_t said[SAID_PLACES];

static bool first_say(const char *path, unsigned what)
{
	uint64_t h = 0xcbf29ce484222325u ^ what;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3u; /* FNV-1a */
	h |= 1; /* never 0, the empty place */
	for (unsigned i = 0; i < SAID_PLACES; i++) {
		_Atomic uint64_t *place = &said[(h + i) % SAID_PLACES];
		uint64_t seen = atomic_load_explicit(place, memory_order_relaxed);
		if (seen == 0 &&
		    atomic_compare_exchange_strong_explicit(
			    place, &seen, h, memory_order_relaxed,
			    memory_order_relaxed))
			return true;
		if (seen == h)
			return false;
	}
	return true; /* all taken: say it again rather than never */
}

/* ---- what kind of program ------------------------------------------ */

enum reach { REACHED, GO, STATIC };

/* The file is read a few hundred bytes at a time: execve may be called on
 * a thread with a small stack (PTHREAD_STACK_MIN is 16 KiB), so nothing
 * here may keep big buffers. Under 1 KiB in all. */
#define PH_CHUNK 4	/* program headers read at once */
#define PH_MAX 64	/* more: not a program we know */
#define NAMES_CHUNK 128 /* section names read at once */
#define NAMES_MAX 8192	/* of the section names, what is looked at */
#define NOTES_MAX 64	/* notes looked at in one PT_NOTE */

static bool read_at(int fd, void *buf, size_t n, uint64_t off)
{
	return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

/* Whether `s` (n bytes) holds `want` (m bytes). Not memmem: musl's keeps
 * a 2 KiB table on the stack. */
static bool holds(const char *s, size_t n, const char *want, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (s[i] == want[0] && !memcmp(s + i, want, m))
			return true;
	return false;
}

/* Go's linker writes a section .go.buildinfo (with or without a build ID)
 * and, with one, .note.go.buildid. The section names are read a chunk at
 * a time, each overlapping the last by the longer name (NUL included)
 * less one, so that no name is cut in two. */
static __attribute__((noinline)) bool go_sections(int fd,
						  const Elf64_Ehdr *eh)
{
	static const char buildinfo[] = ".go.buildinfo";
	static const char buildid[] = ".note.go.buildid";
	enum { OVERLAP = sizeof buildid - 1 };
	Elf64_Shdr names;
	char text[NAMES_CHUNK];
	if (eh->e_shentsize != sizeof names || eh->e_shstrndx >= eh->e_shnum ||
	    !read_at(fd, &names, sizeof names,
		     eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof names))
		return false;
	uint64_t size = names.sh_size < NAMES_MAX ? names.sh_size : NAMES_MAX;
	for (uint64_t at = 0; at < size; at += sizeof text - OVERLAP) {
		size_t n = size - at < sizeof text ? (size_t)(size - at) : sizeof text;
		if (!read_at(fd, text, n, names.sh_offset + at))
			return false;
		if (holds(text, n, buildinfo, sizeof buildinfo) ||
		    holds(text, n, buildid, sizeof buildid))
			return true;
		if (at + n >= size)
			break;
	}
	return false;
}

/* A note named "Go" of type 4, the build ID: read a note header (and its
 * name) at a time. */
static bool go_note(int fd, const Elf64_Phdr *ph)
{
	struct {
		Elf64_Word namesz, descsz, type;
		char name[4];
	} note;
	uint64_t align = ph->p_align == 8 ? 8 : 4, at = 0;
	uint64_t end = ph->p_filesz < 4096 ? ph->p_filesz : 4096;
	for (unsigned i = 0; i < NOTES_MAX && at + sizeof note <= end; i++) {
		if (!read_at(fd, &note, sizeof note, ph->p_offset + at))
			return false;
		if ((note.namesz == 3 || note.namesz == 4) && note.type == 4 &&
		    !memcmp(note.name, "Go", 3))
			return true;
		at += 12 + ((note.namesz + align - 1) & ~(align - 1)) +
		      ((note.descsz + align - 1) & ~(align - 1));
	}
	return false;
}

/* The dynamic loader has no interpreter either, and `ldd` runs it. */
static bool is_loader(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strncmp(base, "ld-", 3) || !strncmp(base, "ld.so", 5) ||
	       !strncmp(base, "libc.so", 7);
}

static enum reach classify_fd(int fd, const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[PH_CHUNK];
	bool interp = false;
	if (!read_at(fd, &eh, sizeof eh, 0) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
	    eh.e_phentsize != sizeof *ph || eh.e_phnum > PH_MAX)
		return REACHED; /* a script, or nothing we know: the kernel's */
	if (go_sections(fd, &eh))
		return GO;
	for (unsigned i = 0; i < eh.e_phnum; i += PH_CHUNK) {
		unsigned n = eh.e_phnum - i < PH_CHUNK ? eh.e_phnum - i : PH_CHUNK;
		if (!read_at(fd, ph, n * sizeof *ph,
			     eh.e_phoff + (uint64_t)i * sizeof *ph))
			return REACHED;
		for (unsigned j = 0; j < n; j++) {
			interp |= ph[j].p_type == PT_INTERP;
			if (ph[j].p_type == PT_NOTE && go_note(fd, &ph[j]))
				return GO;
		}
	}
	return interp || is_loader(path) ? REACHED : STATIC;
}

/* Setuid, setgid (with group execute: without, the bit means mandatory
 * locking) or file capabilities: the supervisor, when it isn't root, runs
 * COMMAND under no_new_privs, and the kernel would grant none of them. */
static __attribute__((noinline)) bool privileged(int fd)
{
	struct file_id st; /* not fstat: glibc 2.33's symbol (log.c) */
	if (file_id(fd, &st))
		return true; /* can't tell: hands off */
	if ((st.mode & S_ISUID) ||
	    (st.mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		return true;
	return fgetxattr(fd, "security.capability", NULL, 0) > 0;
}

static void say(enum log_level level, char *const envp[], const char *a,
		const char *b, const char *c, const char *d);

static __attribute__((noinline)) enum reach classify(const char *path,
							 char *const envp[])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* Mode 0111 (hardened images): the kernel runs it, we can't
		 * look. Said at info: most such programs are dynamic ones the
		 * preload covers anyway. */
		if (errno == EACCES && access(path, X_OK) == 0 &&
		    first_say(path, 1))
			say(LOG_INFO, envp, path,
			    ": can be run but not read, so hostshim can't tell "
			    "whether it is a Go or static program that needs "
			    "supervision; running it as it is",
			    "", "");
		return REACHED;
	}
	enum reach r = classify_fd(fd, path);
	if (r != REACHED && privileged(fd)) {
		if (first_say(path, 2))
			say(LOG_INFO, envp, path,
			    r == GO ? " is a Go program" : " is statically linked",
			    " but setuid, setgid or with file capabilities, which "
			    "supervision would take away; running it unsupervised",
			    "");
		r = REACHED;
	}
	close(fd);
	return r;
}

/* ---- whether to supervise ------------------------------------------ */

static bool says_off(const char *v, size_t n)
{
	static const char *const off[] = {"off", "0", "false", "no"};
	for (size_t i = 0; i < 4; i++)
		if (strlen(off[i]) == n && !strncasecmp(v, off[i], n))
			return true;
	return false;
}

/* One line of the file: follows the section, notes `supervise = off`. */
static void scan_line(const char *s, bool *in_shim, bool *off)
{
	s += strspn(s, " \t");
	if (*s == '[') {
		*in_shim = !strncmp(s, "[shim]", 6);
		return;
	}
	if (!*in_shim || strncmp(s, "supervise", 9))
		return;
	s += 9;
	s += strspn(s, " \t");
	if (*s != '=')
		return;
	s++;
	s += strspn(s, " \t");
	*off = says_off(s, strcspn(s, " \t\r;#"));
}

/* Of each line, what scan_line needs: its start past the indentation. */
#define SCAN_KEEP 96

/* Whether the configuration file says `supervise = off` in [shim]; -1
 * when there is no file. Read in small pieces (a small stack, again). */
static int file_says_off(const char *path)
{
	char buf[256], line[SCAN_KEEP + 1];
	size_t len = 0, total = 0;
	bool in_shim = false, off = false;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				/* An over-long line is an error config.c
				 * reports; not read here either. */
				total++;
				if ((len || (buf[i] != ' ' && buf[i] != '\t')) &&
				    len < SCAN_KEEP)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			if (total <= LINE_MAX_LEN)
				scan_line(line, &in_shim, &off);
			len = total = 0;
		}
	line[len] = '\0';
	if (total <= LINE_MAX_LEN)
		scan_line(line, &in_shim, &off);
	close(fd);
	return off;
}

/* The level asked for, for the few lines said here (possibly before the
 * configuration was ever read). */
static enum log_level exec_level(char *const envp[])
{
	enum log_level level;
	const char *v = env_in(envp, "HOSTSHIM_LOG");
	if (v && log_level_parse(v, &level))
		return level;
	return atomic_load(&shim_state) == SHIM_READY ? log_level : LOG_WARN;
}

static __attribute__((noinline)) void
say(enum log_level level, char *const envp[], const char *a, const char *b,
    const char *c, const char *d)
{
	if (exec_level(envp) < level)
		return;
	struct logline l = {.len = 0};
	ll_str(&l, a);
	ll_str(&l, b);
	ll_str(&l, c);
	ll_str(&l, d);
	l.text[l.len++] = '\n';
	int saved = errno;
	if (write(2, l.text, l.len) < 0)
		errno = saved;
	errno = saved;
}

/* What the environment says: 0 no, 1 yes, -1 the file decides. First,
 * as it costs no system call. */
static int supervision_asked(char *const envp[])
{
	const char *v;
	if (getauxval(AT_SECURE))
		return 0; /* HOSTSHIM_SUPERVISOR is the caller's to set */
	if ((v = env_in(envp, MARKER)) && *v)
		return 0;
	/* valgrind's tool is a static program that loads the program itself,
	 * preload included: supervised, the program would lose the preload. */
	if (env_in(envp, "VALGRIND_LAUNCHER"))
		return 0;
	/* The variable, when set, wins over the file, as HOSTSHIM_LOG does. */
	if ((v = env_in(envp, "HOSTSHIM_SUPERVISE")) && *v)
		return !says_off(v, strlen(v));
	return -1;
}

/* Whether supervision applies, with the file's say, for what `asked`. */
static bool supervision_wanted(char *const envp[], int asked)
{
	const char *path = env_in(envp, "HOSTSHIM_CONFIG");
	const char *map = env_in(envp, "HOSTSHIM_MAP");
	if (!path || !*path)
		path = DEFAULT_CONFIG;
	int off = strcmp(path, "/dev/null") ? file_says_off(path) : -1;
	/* Without any rule there is nothing to supervise for. */
	if (off < 0)
		return map && *map;
	return asked == 1 || off == 0;
}

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* Beside the library, the supervisor's path is built in a buffer of this
 * size (a library deeper than that is looked for with the variable). */
#define SUP_PATH_MAX 512

/* $HOSTSHIM_SUPERVISOR (as it is), else beside this library, else in
 * ../lib/hostshim/ from it, built in `buf`: where the launcher looks.
 * NULL when there is none. */
static const char *find_supervisor(char *const envp[], char buf[SUP_PATH_MAX])
{
	static const char *const places[] = {"/" SUPERVISOR,
					     "/../lib/hostshim/" SUPERVISOR};
	const char *v = env_in(envp, "HOSTSHIM_SUPERVISOR");
	Dl_info info;
	if (v && *v)
		return executable(v) ? v : NULL;
	if (!dladdr((void *)find_supervisor, &info) || !info.dli_fname)
		return NULL;
	const char *slash = strrchr(info.dli_fname, '/');
	size_t dir = slash ? (size_t)(slash - info.dli_fname) : 1;
	for (size_t i = 0; i < 2; i++) {
		if (dir + strlen(places[i]) >= SUP_PATH_MAX)
			return NULL;
		memcpy(buf, slash ? info.dli_fname : ".", dir);
		strcpy(buf + dir, places[i]);
		if (executable(buf))
			return buf;
	}
	return NULL;
}

/* ---- the supervised exec ------------------------------------------- */

/* LD_PRELOAD's value `v` without any libhostshim.so, into `out` (room for
 * strlen(v) + 1; "" when nothing is left), as the launcher's --supervise
 * does: the supervisor answers for the whole tree. */
static void preload_without_us(const char *v, char *out)
{
	size_t len = 0;
	while (*v) {
		size_t n = strcspn(v, ": ");
		const char *end = v + n, *base = v;
		for (const char *p = v; p < end; p++)
			if (*p == '/')
				base = p + 1;
		bool ours = (size_t)(end - base) == 14 &&
			    !strncmp(base, "libhostshim.so", 14);
		if (n && !ours) {
			if (len)
				out[len++] = ':';
			memcpy(out + len, v, n);
			len += n;
		}
		v = *end ? end + 1 : end;
	}
	out[len] = '\0';
}

static bool named(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(entry, name, n) && entry[n] == '=';
}

typedef int (*runner)(void *ctx, const char *file, char *const argv[],
		      char *const envp[]);

/* What the supervisor gets is built on the stack, in exactly the room it
 * needs, and only up to this much (the environment's pointers, the file's
 * name, LD_PRELOAD): about 480 variables, a Kubernetes pod's service links
 * included; past it the program runs as it is, with a warning. Measured: a
 * thread with a 16 KiB stack has about 8 KiB left for the hook, which
 * needs about 1 KiB besides. COMMAND's argv, however long, is passed as
 * it is. (No heap: this may run in a vfork child; and memory mapped there
 * would stay in the parent once the exec works.) */
#define EXEC_STACK_MAX 4096

/* The supervisor reads the file to run from this variable, and runs it
 * with its own argv: shim/supervise/supervise.h's SPAWN_FILE_ENV. */
#define FILE_VAR "HOSTSHIM_SUPERVISE_FILE="

static size_t exec_room(const char *path, char *const envp[], size_t *envc)
{
	const char *preload = env_in(envp, "LD_PRELOAD");
	for (*envc = 0; envp && envp[*envc]; (*envc)++)
		;
	return (*envc + 3) * sizeof(char *) + sizeof FILE_VAR + 2 +
	       strlen(path) + sizeof "LD_PRELOAD=" +
	       (preload ? strlen(preload) : 0);
}

/* Runs the supervisor `sup` with the environment changed and argv as it
 * is. Out of line: its arrays exist only while it runs. */
static __attribute__((noinline)) int
exec_supervised(const char *sup, const char *path, char *const argv[],
		char *const envp[], size_t envc, runner run, void *ctx)
{
	const char *v = env_in(envp, "LD_PRELOAD");
	char file[sizeof FILE_VAR + 2 + strlen(path)];
	char preload[sizeof "LD_PRELOAD=" + (v ? strlen(v) : 0)];
	char *nenv[envc + 3];
	size_t k = 0;
	bool preload_done = false;
	/* exec runs "prog" from the current directory, execvp from PATH. */
	strcpy(file, FILE_VAR);
	strcat(file, strchr(path, '/') ? "" : "./");
	strcat(file, path);
	for (size_t i = 0; i < envc; i++) {
		if (named(envp[i], MARKER) ||
		    !strncmp(envp[i], FILE_VAR, sizeof FILE_VAR - 1))
			continue;
		if (named(envp[i], "LD_PRELOAD")) {
			/* The first is the one the loader reads. */
			if (!preload_done) {
				strcpy(preload, "LD_PRELOAD=");
				preload_without_us(envp[i] + 11, preload + 11);
				if (preload[11])
					nenv[k++] = preload;
			}
			preload_done = true;
			continue;
		}
		nenv[k++] = envp[i];
	}
	nenv[k++] = (char *)MARKER "=1";
	nenv[k++] = file;
	nenv[k] = NULL;
	return run(ctx, sup, argv, nenv);
}

/* For `path`, a `kind` of program the preload can't reach: when
 * supervision applies, calls `run` with the supervisor in its place and
 * returns true if that worked (*rc its result). Out of line: what only
 * this case needs is not on the stack of every exec. */
static __attribute__((noinline)) bool
supervise(const char *path, enum reach kind, int asked, char *const argv[],
	  char *const envp[], runner run, void *ctx, int *rc)
{
	char buf[SUP_PATH_MAX];
	const char *sup;
	const char *kind_text = kind == GO ? " is a Go program"
					   : " is statically linked";
	size_t envc;
	int saved = errno;
	if (!supervision_wanted(envp, asked))
		return false;
	if (!(sup = find_supervisor(envp, buf))) {
		if (first_say(path, 3))
			say(LOG_WARN, envp, path, kind_text,
			    ": " SUPERVISOR " not found (HOSTSHIM_SUPERVISOR, "
			    "beside the library, ../lib/hostshim/); running "
			    "it without hostshim",
			    "");
		return false;
	}
	if (exec_room(path, envp, &envc) > EXEC_STACK_MAX) {
		if (first_say(path, 4))
			say(LOG_WARN, envp, path, kind_text,
			    ": its environment is too large to hand to "
			    SUPERVISOR " from here; running it without hostshim",
			    "");
		return false;
	}
	say(LOG_INFO, envp, path, kind_text, ": running it supervised by ", sup);
	errno = saved;
	*rc = exec_supervised(sup, path, argv, envp, envc, run, ctx);
	if (*rc == 0)
		return true; /* a spawn; an exec that works does not return */
	int err = *rc > 0 ? *rc : errno;
	char num[12];
	fmt_uint(num, (unsigned)err);
	say(LOG_WARN, envp, sup, ": cannot be run (errno ", num,
	    "); running the program without hostshim");
	return false;
}

/* When `path` is a program the preload can't reach and supervision
 * applies: calls `run` with the supervisor in its place and returns true
 * if that worked (*rc its result). False: the caller runs `path` itself,
 * with errno as it was. Every exec comes through here: a few hundred bytes
 * of stack for a program that isn't supervised. */
static bool run_supervised(const char *path, char *const argv[],
			   char *const envp[], runner run, void *ctx, int *rc)
{
	int saved = errno;
	int asked = supervision_asked(envp);
	/* Without argv[0] there is no COMMAND to hand over. */
	if (asked == 0 || !argv || !argv[0])
		return false;
	enum reach kind = classify(path, envp);
	if (kind != REACHED &&
	    supervise(path, kind, asked, argv, envp, run, ctx, rc))
		return true;
	errno = saved;
	return false;
}

static int run_execve(void *ctx, const char *file, char *const argv[],
		      char *const envp[])
{
	(void)ctx;
	return real.execve(file, argv, envp);
}

/* Room for the path execvp would build for `file`: the longest PATH entry
 * and the name; 0 when over PATH_MAX or the name is no name. */
static size_t search_room(const char *file)
{
	const char *p = getenv("PATH");
	size_t flen = strlen(file), longest = 1;
	if (!*file || flen >= NAME_MAX)
		return 0;
	for (p = p ? p : "/bin:/usr/bin";; p++) {
		size_t n = strcspn(p, ":");
		longest = n > longest ? n : longest;
		p += n;
		if (!*p)
			break;
	}
	return longest + flen + 2 <= PATH_MAX ? longest + flen + 2 : 0;
}

/* The file execvp would run: the first executable PATH entry, in `out`. */
static const char *search_path(const char *file, char *out, size_t room)
{
	const char *p = getenv("PATH");
	size_t flen = strlen(file);
	for (p = p ? p : "/bin:/usr/bin";; p++) {
		size_t n = strcspn(p, ":"), len = n ? n : 1;
		if (len + flen + 2 <= room) {
			memcpy(out, n ? p : ".", len);
			out[len] = '/';
			memcpy(out + len + 1, file, flen + 1);
			if (executable(out))
				return out;
		}
		p += n;
		if (!*p)
			return NULL;
	}
}

/* run_supervised for what execvp and posix_spawnp would run. */
static bool run_supervised_searched(const char *file, char *const argv[],
				    char *const envp[], runner run, void *ctx,
				    int *rc)
{
	if (strchr(file, '/'))
		return run_supervised(file, argv, envp, run, ctx, rc);
	size_t room;
	if (supervision_asked(envp) == 0 || !(room = search_room(file)))
		return false;
	int saved = errno;
	char found[room];
	const char *path = search_path(file, found, room);
	errno = saved;
	return path && run_supervised(path, argv, envp, run, ctx, rc);
}

SHIM_EXPORT int execve(const char *path, char *const argv[],
		       char *const envp[])
{
	int rc;
	real_ready();
	if (given(path) && run_supervised(path, argv, envp, run_execve, NULL, &rc))
		return rc;
	return real.execve(path, argv, envp);
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[],
			char *const envp[])
{
	int rc;
	real_ready();
	if (given(file) &&
	    run_supervised_searched(file, argv, envp, run_execve, NULL, &rc))
		return rc;
	return real.execvpe(file, argv, envp);
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char path[32] = "/proc/self/fd/";
	int rc, flags = fcntl(fd, F_GETFD);
	real_ready();
	fmt_uint(path + 14, (unsigned)fd);
	/* A close-on-exec fd would be gone before the supervisor ran it. */
	if (fd >= 0 && flags >= 0 && !(flags & FD_CLOEXEC) &&
	    run_supervised(path, argv, envp, run_execve, NULL, &rc))
		return rc;
	return real.fexecve(fd, argv, envp);
}

/* ---- execl, execlp, execle: the arguments into an array ------------- */

#define ARGV_FROM(first, ap, argv, n)                                        \
	char *argv[n + 1];                                                   \
	argv[0] = (char *)(first);                                           \
	for (size_t i_ = 1; i_ <= n; i_++)                                   \
		argv[i_] = va_arg(ap, char *)

static size_t count_args(const char *first, va_list ap)
{
	size_t n = 0;
	va_list copy;
	va_copy(copy, ap);
	if (first)
		while (n < ARGS_MAX * 16 && va_arg(copy, char *))
			n++;
	va_end(copy);
	return n + (first != NULL);
}

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	size_t n = count_args(arg, ap);
	ARGV_FROM(arg, ap, argv, n);
	va_end(ap);
	argv[n] = NULL;
	return execve(path, argv, environ);
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	size_t n = count_args(arg, ap);
	ARGV_FROM(arg, ap, argv, n);
	va_end(ap);
	argv[n] = NULL;
	return execvpe(file, argv, environ);
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	size_t n = count_args(arg, ap);
	ARGV_FROM(arg, ap, argv, n);
	(void)va_arg(ap, char *); /* the NULL that ends the arguments */
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	argv[n] = NULL;
	return execve(path, argv, envp);
}

/* ---- posix_spawn ---------------------------------------------------- */

struct spawn_ctx {
	pid_t *pid;
	const posix_spawn_file_actions_t *actions;
	const posix_spawnattr_t *attr;
};

static int run_spawn(void *ctx, const char *file, char *const argv[],
		     char *const envp[])
{
	struct spawn_ctx *s = ctx;
	return real.posix_spawn(s->pid, file, s->actions, s->attr, argv, envp);
}

SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path,
			    const posix_spawn_file_actions_t *actions,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[])
{
	struct spawn_ctx s = {pid, actions, attr};
	int rc;
	real_ready();
	if (given(path) && run_supervised(path, argv, envp, run_spawn, &s, &rc))
		return rc;
	return real.posix_spawn(pid, path, actions, attr, argv, envp);
}

SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			     const posix_spawn_file_actions_t *actions,
			     const posix_spawnattr_t *attr, char *const argv[],
			     char *const envp[])
{
	struct spawn_ctx s = {pid, actions, attr};
	int rc;
	real_ready();
	if (given(file) &&
	    run_supervised_searched(file, argv, envp, run_spawn, &s, &rc))
		return rc;
	return real.posix_spawnp(pid, file, actions, attr, argv, envp);
}
