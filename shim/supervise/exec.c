/* Setuid programs under no_new_privs.
 *
 * Without CAP_SYS_ADMIN (Docker's default set has none) the kernel
 * takes a seccomp filter only from a process with no_new_privs, which
 * COMMAND's whole tree then inherits: a setuid or setgid program (sudo,
 * su, ping on some systems) or one with file capabilities runs without
 * those privileges. Where we set it, the filter also sends us execve and
 * execveat, and the first such program run is named once at the default
 * level, so the change is never silent.
 *
 * We look at the file through /proc/PID/{root,cwd,fd}, as the caller
 * sees it. A caller that changed user without exec'ing (gosu, setpriv
 * just before their exec) is not dumpable: we can't read its path, and
 * say nothing (docs/supervised.md). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "supervise.h"

#define PAGE 4096u

static atomic_bool told;

/* The NUL-terminated string at addr, a page at most at a time (the
 * next page may not be mapped). */
static bool read_string(struct mem *m, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;
	while (got + 1 < size) {
		size_t n = PAGE - (size_t)((addr + got) % PAGE);
		if (n > size - 1 - got)
			n = size - 1 - got;
		if (!mem_read(m, addr + got, buf + got, n))
			return false;
		char *end = memchr(buf + got, '\0', n);
		got += n;
		if (end)
			return true;
	}
	return false;
}

/* /proc/PID/root and cwd are ptrace-checked: a caller running as
 * another user (after gosu's exec) is looked at as that user (setfsuid,
 * this thread only, as mem.c does). */
static int stat_as_caller(int pid, const char *file, struct stat *st)
{
	if (stat(file, st) == 0)
		return 0;
	char dir[40];
	struct stat owner;
	snprintf(dir, sizeof dir, "/proc/%d", pid);
	if (stat(dir, &owner))
		return -1;
	uid_t old_uid = (uid_t)setfsuid(owner.st_uid);
	gid_t old_gid = (gid_t)setfsgid(owner.st_gid);
	int r = stat(file, st);
	setfsgid(old_gid);
	setfsuid(old_uid);
	return r;
}

static bool privileged(int pid, const char *file)
{
	struct stat st;
	if (stat_as_caller(pid, file, &st) || !S_ISREG(st.st_mode))
		return false;
	if (st.st_mode & (S_ISUID | S_ISGID))
		return true;
	return getxattr(file, "security.capability", NULL, 0) > 0;
}

void exec_check(struct mem *m, int dirfd, uint64_t path, uint64_t flags)
{
	if (atomic_load(&told))
		return;
	char name[1024], file[1200];
	m->quiet = true;
	if (!read_string(m, path, name, sizeof name))
		return;
	int pid = (int)m->pid;
	if (name[0] == '/')
		snprintf(file, sizeof file, "/proc/%d/root%s", pid, name);
	else if (dirfd == AT_FDCWD)
		snprintf(file, sizeof file, "/proc/%d/cwd/%s", pid, name);
	else if (!name[0] && (flags & AT_EMPTY_PATH))
		snprintf(file, sizeof file, "/proc/%d/fd/%d", pid, dirfd);
	else
		snprintf(file, sizeof file, "/proc/%d/fd/%d/%s", pid, dirfd, name);
	if (!privileged(pid, file) || atomic_exchange(&told, true))
		return;
	log_msg(LOG_WARN, "%s is setuid, setgid or has file capabilities: "
			  "under supervision it runs without those privileges "
			  "(no_new_privs, which the seccomp filter needs without "
			  "CAP_SYS_ADMIN). Give the container CAP_SYS_ADMIN, or "
			  "run it outside hostshim --supervise", name);
}
