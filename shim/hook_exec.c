/* exec and spawn: a program the preload can't reach runs supervised.
 *
 * One `ENV LD_PRELOAD` is meant to cover a container, but a Go program
 * connects with raw system calls and a static one loads no library at all.
 * When a preloaded program execs one of those, the exec becomes an exec
 * of the supervisor (hostshim-supervise -- PROGRAM ARG...), exactly what
 * `hostshim --supervise` execs: the same PID, which runs PROGRAM as its
 * child and ends as it ends, passing signals on. Not when
 * HOSTSHIM_SUPERVISE or `supervise` in [shim] says off, nor inside a tree
 * already supervised (HOSTSHIM_SUPERVISED, which the exec sets), nor
 * without any configuration, nor in a setuid program.
 *
 * glibc's execv, execvp, execl* and posix_spawn reach the kernel through
 * an internal __execve, not the exported execve, so each has its hook.
 *
 * execve may run in the child of a vfork, sharing the parent's memory:
 * no heap, no lock, no stdio here; stack buffers and system calls. That is
 * why the file's `supervise` key is read by a small scanner below rather
 * than by config.c. */
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
#include <sys/auxv.h>
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

#define ARGS_MAX 4096 /* argv and environment entries rewritten on the stack */
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

/* ---- what kind of program ------------------------------------------ */

enum reach { REACHED, GO, STATIC };

#define SECTION_NAMES_MAX 8192
#define NOTE_MAX 4096

static bool read_at(int fd, void *buf, size_t n, uint64_t off)
{
	return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

/* Go's linker writes a section .go.buildinfo (with or without a build ID)
 * and a note "Go" of type 4, the build ID. */
static bool go_sections(int fd, const Elf64_Ehdr *eh)
{
	Elf64_Shdr names;
	char text[SECTION_NAMES_MAX];
	if (eh->e_shentsize != sizeof names || eh->e_shstrndx >= eh->e_shnum ||
	    !read_at(fd, &names, sizeof names,
		     eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof names))
		return false;
	size_t n = names.sh_size < sizeof text ? names.sh_size : sizeof text;
	return read_at(fd, text, n, names.sh_offset) &&
	       (memmem(text, n, ".go.buildinfo", 14) ||
		memmem(text, n, ".note.go.buildid", 17));
}

static bool go_note(int fd, const Elf64_Phdr *ph)
{
	static const unsigned char want[] = {4, 0, 0, 0, 4, 0, 0, 0, 'G', 'o', 0, 0};
	unsigned char note[NOTE_MAX];
	size_t n = ph->p_filesz < sizeof note ? ph->p_filesz : sizeof note;
	if (!read_at(fd, note, n, ph->p_offset))
		return false;
	/* namesz 4, then descsz (any), then type 4 and the name "Go". */
	for (size_t i = 0; i + 16 <= n; i += 4)
		if (!memcmp(note + i, want, 4) && !memcmp(note + i + 8, want + 4, 8))
			return true;
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
	Elf64_Phdr ph[64];
	bool interp = false;
	if (!read_at(fd, &eh, sizeof eh, 0) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
	    eh.e_phentsize != sizeof *ph || eh.e_phnum > 64 ||
	    !read_at(fd, ph, eh.e_phnum * sizeof *ph, eh.e_phoff))
		return REACHED; /* a script, or nothing we know: the kernel's */
	if (go_sections(fd, &eh))
		return GO;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		interp |= ph[i].p_type == PT_INTERP;
		if (ph[i].p_type == PT_NOTE && go_note(fd, &ph[i]))
			return GO;
	}
	return interp || is_loader(path) ? REACHED : STATIC;
}

static enum reach classify(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return REACHED;
	enum reach r = classify_fd(fd, path);
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

/* Whether the configuration file says `supervise = off` in [shim]; -1
 * when there is no file. */
static int file_says_off(const char *path)
{
	char buf[2048], line[LINE_MAX_LEN + 1];
	size_t len = 0;
	bool in_shim = false, off = false, long_line = false;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (len < LINE_MAX_LEN)
					line[len++] = buf[i];
				else
					long_line = true;
				continue;
			}
			line[len] = '\0';
			if (!long_line)
				scan_line(line, &in_shim, &off);
			len = 0;
			long_line = false;
		}
	line[len] = '\0';
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

static void say(enum log_level level, char *const envp[], const char *a,
		const char *b, const char *c, const char *d)
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

/* $HOSTSHIM_SUPERVISOR, else beside this library, else in
 * ../lib/hostshim/ from it: where the launcher looks. */
static bool find_supervisor(char *const envp[], char out[PATH_MAX])
{
	static const char *const places[] = {"/" SUPERVISOR,
					     "/../lib/hostshim/" SUPERVISOR};
	const char *v = env_in(envp, "HOSTSHIM_SUPERVISOR");
	Dl_info info;
	if (v && *v) {
		if (strlen(v) >= PATH_MAX)
			return false;
		strcpy(out, v);
		return executable(out);
	}
	if (!dladdr((void *)find_supervisor, &info) || !info.dli_fname)
		return false;
	const char *slash = strrchr(info.dli_fname, '/');
	size_t dir = slash ? (size_t)(slash - info.dli_fname) : 1;
	for (size_t i = 0; i < 2; i++) {
		if (dir + strlen(places[i]) >= PATH_MAX)
			return false;
		memcpy(out, slash ? info.dli_fname : ".", dir);
		strcpy(out + dir, places[i]);
		if (executable(out))
			return true;
	}
	return false;
}

/* ---- the supervised exec ------------------------------------------- */

static size_t count(char *const v[])
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* LD_PRELOAD without any libhostshim.so, into `out` ("" when nothing is
 * left), as the launcher's --supervise does: the supervisor answers for
 * the whole tree. */
static void preload_without_us(const char *v, char *out, size_t cap)
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
		if (n && !ours && len + n + 2 < cap) {
			if (len)
				out[len++] = ':';
			memcpy(out + len, v, n);
			len += n;
		}
		v = *end ? end + 1 : end;
	}
	out[len] = '\0';
}

typedef int (*runner)(void *ctx, const char *file, char *const argv[],
		      char *const envp[]);

/* When `path` is a program the preload can't reach and supervision
 * applies: calls `run` with the supervisor in its place and returns true
 * if that worked (*rc its result). False: the caller runs `path` itself. */
static bool run_supervised(const char *path, char *const argv[],
			   char *const envp[], runner run, void *ctx, int *rc)
{
	char sup[PATH_MAX], prog[PATH_MAX];
	size_t argc = count(argv), envc = count(envp);
	int asked = supervision_asked(envp);
	if (asked == 0)
		return false;
	enum reach kind = classify(path);
	if (kind == REACHED || !supervision_wanted(envp, asked))
		return false;
	if (!find_supervisor(envp, sup)) {
		say(LOG_WARN, envp, path,
		    kind == GO ? " is a Go program" : " is statically linked",
		    ": " SUPERVISOR " not found (HOSTSHIM_SUPERVISOR, beside "
		    "the library, ../lib/hostshim/); running it without hostshim",
		    "");
		return false;
	}
	if (argc > ARGS_MAX || envc > ARGS_MAX || strlen(path) + 3 > PATH_MAX)
		return false;
	/* exec runs "prog" from the current directory, execvp from PATH. */
	strcpy(prog, strchr(path, '/') ? "" : "./");
	strcat(prog, path);
	char *nargv[argc + 4], *nenv[envc + 2];
	char preload[4096 + 12] = "LD_PRELOAD=";
	size_t k = 0;
	nargv[0] = (char *)SUPERVISOR;
	nargv[1] = (char *)"--";
	nargv[2] = prog;
	for (size_t i = 1; i < argc; i++)
		nargv[2 + i] = argv[i];
	nargv[argc ? argc + 2 : 3] = NULL;
	for (size_t i = 0; i < envc; i++) {
		if (!strncmp(envp[i], MARKER "=", sizeof MARKER))
			continue;
		if (!strncmp(envp[i], "LD_PRELOAD=", 11)) {
			preload_without_us(envp[i] + 11, preload + 11,
					   sizeof preload - 11);
			if (preload[11])
				nenv[k++] = preload;
			continue;
		}
		nenv[k++] = envp[i];
	}
	nenv[k++] = (char *)MARKER "=1";
	nenv[k] = NULL;
	say(LOG_INFO, envp, path,
	    kind == GO ? " is a Go program" : " is statically linked",
	    ": running it supervised by ", sup);
	*rc = run(ctx, sup, nargv, nenv);
	if (*rc == 0)
		return true; /* a spawn; an exec that works does not return */
	int err = *rc > 0 ? *rc : errno;
	char num[12];
	fmt_uint(num, (unsigned)err);
	say(LOG_WARN, envp, sup, ": cannot be run (errno ", num,
	    "); running the program without hostshim");
	errno = err;
	return false;
}

static int run_execve(void *ctx, const char *file, char *const argv[],
		      char *const envp[])
{
	(void)ctx;
	return real.execve(file, argv, envp);
}

/* The file execvp would run: the first executable PATH entry. */
static const char *search_path(const char *file, char out[PATH_MAX])
{
	if (strchr(file, '/'))
		return file;
	const char *p = getenv("PATH");
	size_t flen = strlen(file);
	if (!*file || flen >= NAME_MAX)
		return NULL;
	for (p = p ? p : "/bin:/usr/bin";; p++) {
		size_t n = strcspn(p, ":");
		if (n + flen + 2 <= PATH_MAX) {
			memcpy(out, n ? p : ".", n ? n : 1);
			size_t len = n ? n : 1;
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
	char found[PATH_MAX];
	const char *path;
	int rc;
	real_ready();
	if (given(file) && (path = search_path(file, found)) &&
	    run_supervised(path, argv, envp, run_execve, NULL, &rc))
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
	char found[PATH_MAX];
	const char *path;
	int rc;
	real_ready();
	if (given(file) && (path = search_path(file, found)) &&
	    run_supervised(path, argv, envp, run_spawn, &s, &rc))
		return rc;
	return real.posix_spawnp(pid, file, actions, attr, argv, envp);
}
