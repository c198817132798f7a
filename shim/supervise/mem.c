/* Reading and writing a stopped caller's memory.
 *
 * Two ways in, and what each needs:
 *   process_vm_readv  one call, no file to open; the fast way. Docker
 *                     20.10's default seccomp profile refuses it without
 *                     CAP_SYS_PTRACE (later releases allow it).
 *   /proc/TID/mem     open, pread/pwrite, close. Allowed by that profile;
 *                     writes always go this way: the open file is tied to
 *                     the caller's memory once NOTIF_ID_VALID confirms
 *                     the caller after the open, so a recycled PID can't
 *                     receive the write.
 * Both are ptrace access checks: the caller must have our user ID and be
 * dumpable, or we need CAP_SYS_PTRACE. A COMMAND that switched user
 * (gosu, su-exec, setpriv) and then exec'd is dumpable again, under
 * another user ID: we open its memory with that user ID as our
 * filesystem user ID (setfsuid: this thread only; needs CAP_SETUID, which
 * root has in Docker's default set). A process that changed user without
 * exec'ing (a server dropping privileges itself) is not dumpable: only
 * CAP_SYS_PTRACE reaches it, and we say so once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "supervise.h"

static bool vm_refused; /* process_vm_readv refused outright (seccomp) */
static bool told_other_user;

void mem_begin(struct mem *m, int listener, pid_t pid, uint64_t id)
{
	m->listener = listener;
	m->pid = pid;
	m->id = id;
	m->fd = -1;
	m->tried_open = false;
	m->quiet = false;
}

void mem_end(struct mem *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

static bool still_valid(const struct mem *m)
{
	uint64_t id = m->id;
	return ioctl(m->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static int open_mem(pid_t pid)
{
	char path[40];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* The caller runs as another user: open its memory as that user. */
static int open_mem_as_owner(pid_t pid, int *err)
{
	char path[40];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	if (stat(path, &st) || st.st_uid == (uid_t)setfsuid((uid_t)-1))
		return -1; /* same owner: switching would not help */
	uid_t old_uid = (uid_t)setfsuid(st.st_uid);
	gid_t old_gid = (gid_t)setfsgid(st.st_gid);
	int fd = -1;
	if ((uid_t)setfsuid((uid_t)-1) == st.st_uid &&
	    (gid_t)setfsgid((gid_t)-1) == st.st_gid) {
		fd = open_mem(pid);
		*err = errno;
	}
	setfsgid(old_gid);
	setfsuid(old_uid);
	return fd;
}

static void tell_unreachable(pid_t pid, int err)
{
	if (told_other_user)
		return;
	told_other_user = true;
	char comm[64] = "?", path[40];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof comm, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	log_msg(LOG_WARN, "process %d (%s) can't be covered: reading its "
			  "memory was refused (%s). It changed user without "
			  "exec'ing (it is not dumpable) or runs as a user we can't "
			  "become, which only CAP_SYS_PTRACE overcomes. Its "
			  "connects go where it sends them. Run hostshim after "
			  "the switch instead (gosu app hostshim -- cmd, "
			  "USER app in the Dockerfile), or grant CAP_SYS_PTRACE",
		(int)pid, comm, strerror(err));
}

/* Opens the caller's memory once per notification and confirms it is
 * the caller's. */
static bool opened(struct mem *m)
{
	if (m->fd >= 0 || m->tried_open)
		return m->fd >= 0;
	m->tried_open = true;
	m->fd = open_mem(m->pid);
	int err = errno;
	if (m->fd < 0 && (err == EACCES || err == EPERM))
		m->fd = open_mem_as_owner(m->pid, &err);
	if (m->fd < 0) {
		if ((err == EACCES || err == EPERM) && !m->quiet)
			tell_unreachable(m->pid, err);
		errno = err;
		return false;
	}
	if (!still_valid(m)) {
		close(m->fd);
		m->fd = -1;
		errno = ESRCH;
		return false;
	}
	return true;
}

bool mem_read(struct mem *m, uint64_t addr, void *buf, size_t len)
{
	if (!vm_refused && m->fd < 0) {
		struct iovec local = {buf, len};
		struct iovec remote = {(void *)(uintptr_t)addr, len};
		if (process_vm_readv(m->pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
			return true;
		if (errno != EPERM && errno != ENOSYS)
			return false; /* gone, or a bad address */
		/* EPERM: refused for this process (another user), or for
		 * every one (a seccomp profile): mem_probe told which. */
	}
	return opened(m) && pread(m->fd, buf, len, (off_t)addr) == (ssize_t)len;
}

bool mem_write(struct mem *m, uint64_t addr, const void *buf, size_t len)
{
	if (opened(m))
		return pwrite(m->fd, buf, len, (off_t)addr) == (ssize_t)len;
	/* No /proc of COMMAND's PID namespace (unshare --pid without
	 * remounting /proc): by PID, once the caller is confirmed. */
	int err = errno;
	if (vm_refused || (err != ENOENT && err != ESRCH) || !still_valid(m)) {
		errno = err;
		return false;
	}
	struct iovec local = {(void *)buf, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	return process_vm_writev(m->pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* At start, with COMMAND just spawned: which way works. */
bool mem_probe(pid_t child)
{
	char byte;
	struct iovec local = {&byte, 1}, remote = {&byte, 1};
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != 1) {
		vm_refused = true;
		log_msg(LOG_DEBUG, "process_vm_readv refused (%s): reading "
				   "through /proc/PID/mem", strerror(errno));
	}
	int fd = open_mem(child);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	if (!vm_refused) {
		log_msg(LOG_DEBUG, "/proc/%d/mem: %s: writing with "
				   "process_vm_writev", (int)child, strerror(errno));
		return true;
	}
	log_msg(LOG_ERROR, "supervised mode can't redirect here: opening "
			   "/proc/%d/mem of COMMAND was refused (%s)%s. It "
			   "needs a seccomp profile allowing process_vm_readv "
			   "or /proc/PID/mem access to a child, or "
			   "CAP_SYS_PTRACE. COMMAND runs without redirects",
		(int)child, strerror(errno),
		vm_refused ? " and process_vm_readv was refused too" : "");
	return false;
}
