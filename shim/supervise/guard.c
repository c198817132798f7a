/* When the supervisor dies: the guard.
 *
 * COMMAND dies with us (PR_SET_PDEATHSIG), but what it started would run
 * on with every connect, sendmsg and sendmmsg failing with ENOSYS once
 * no one listens: the kernel's answer to a notification nobody reads.
 * So a small process forked before our threads holds a copy of the
 * listener and a pipe from us, and waits:
 *   we end normally (COMMAND ended): a byte on the pipe. What COMMAND
 *     left running keeps running, as it would without us; the guard
 *     lets its calls through unchanged until none is left.
 *   we are killed (SIGKILL, the OOM killer): end of file. The guard kills
 *     COMMAND's process group (COMMAND and everything it started that
 *     stayed in it), says so, and lets through the calls of any process
 *     that left the group (setsid) until none is left.
 * The guard is in a process group of its own and ignores the signals we
 * forward, so what kills our group does not kill it. As PID 1 of a
 * container none of this matters: the kernel ends the whole namespace. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "supervise.h"

static int to_guard = -1;

/* Lets every call through unchanged until no process uses the filter. */
_Noreturn static void pass_through(int listener)
{
	/* Room for a newer kernel's larger structures (notify.c asks the
	 * kernel for their sizes; here a margin will do). */
	union {
		struct seccomp_notif n;
		char room[512];
	} req;
	union {
		struct seccomp_notif_resp r;
		char room[512];
	} resp;
	struct pollfd p = {.fd = listener, .events = POLLIN};
	for (;;) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			_exit(0);
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			_exit(0);
		if (!(p.revents & POLLIN))
			continue;
		memset(&req, 0, sizeof req);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req))
			continue;
		memset(&resp, 0, sizeof resp);
		resp.r.id = req.n.id;
		resp.r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

_Noreturn static void guard(int listener, pid_t supervisor, pid_t child, int from)
{
	setpgid(0, 0);
	prctl(PR_SET_NAME, "hostshim-guard", 0, 0, 0);
	/* Everything but the listener, the pipe and stderr. */
	for (int fd = 3; fd < 1024; fd++)
		if (fd != listener && fd != from)
			close(fd);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (null > 2)
			close(null);
	}
	char byte;
	ssize_t n;
	do
		n = read(from, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) { /* end of file: the supervisor died */
		/* COMMAND shares its caller's group on a terminal
		 * (signals.c): then COMMAND alone. */
		bool group = kill(-child, SIGKILL) == 0;
		if (!group)
			kill(child, SIGKILL);
		char line[200];
		int len = snprintf(line, sizeof line,
				   "hostshim: the supervisor (process %d) died: "
				   "COMMAND's process group %d was killed\n",
				   (int)supervisor, (int)child);
		if (!group)
			len = snprintf(line, sizeof line,
				       "hostshim: the supervisor (process %d) "
				       "died: COMMAND (process %d) was killed\n",
				       (int)supervisor, (int)child);
		if (len > 0 && write(2, line, (size_t)len) < 0)
			len = 0;
	}
	close(2);
	pass_through(listener);
}

void guard_start(int listener, pid_t child)
{
	int p[2];
	pid_t supervisor = getpid();
	if (pipe2(p, O_CLOEXEC)) {
		log_msg(LOG_WARN, "no guard process (%s): if the supervisor is "
				  "killed, what COMMAND started gets ENOSYS from "
				  "connect", strerror(errno));
		return;
	}
	pid_t g = fork();
	if (g == 0) {
		close(p[1]);
		guard(listener, supervisor, child, p[0]);
	}
	close(p[0]);
	if (g < 0) {
		close(p[1]);
		log_msg(LOG_WARN, "no guard process (%s)", strerror(errno));
		return;
	}
	to_guard = p[1];
}

void guard_release(void)
{
	if (to_guard >= 0 && write(to_guard, "", 1) < 0)
		log_msg(LOG_DEBUG, "guard: %s", strerror(errno));
}
