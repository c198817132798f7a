/* Starting COMMAND under the filter.
 *
 * The listener fd is created by the child (a filter applies to the
 * process that installs it) but read by us. pidfd_getfd would fetch it,
 * but Docker's default profile refuses that without CAP_SYS_PTRACE, and
 * a unix socket won't do: the child's sendmsg would already be waiting
 * on a listener nobody reads. So the child shares our file table
 * (CLONE_FILES) until execve, which gives it a private copy: the
 * listener it creates appears in our table as well. Its number comes
 * back through a pipe. The listener is close-on-exec, so COMMAND never
 * holds it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"

struct handover {
	int listener; /* -1: seccomp failed with `error` */
	int error;
	bool no_new_privs; /* set by us */
};

_Noreturn static void refuse(const char *why)
{
	log_msg(LOG_ERROR, "supervised mode is not possible here: %s", why);
	log_msg(LOG_ERROR, "COMMAND was not started. Run it with the preload "
			   "(hostshim without --supervise), or where seccomp "
			   "user notification is allowed (Linux 5.5 or later; "
			   "Docker's default seccomp profile allows it)");
	exit(STATUS_NO_SECCOMP);
}

/* SECCOMP_USER_NOTIF_FLAG_CONTINUE arrived in Linux 5.5. */
void spawn_check_kernel(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;
	if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 5))) {
		char why[160];
		snprintf(why, sizeof why,
			 "kernel %.60s is older than 5.5, which "
			 "supervised connects need",
			 u.release);
		refuse(why);
	}
}

/* *ours: we set no_new_privs, which a filter needs without
 * CAP_SYS_ADMIN: setuid programs then run without their privileges, so
 * the filter watches execs to say so when one runs (exec.c). */
static int install_filter(bool *ours)
{
	unsigned flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
	*ours = false;
	int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags,
			      filter_program(false));
	if (fd < 0 && errno == EACCES) {
		*ours = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			return -1;
		fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags,
				  filter_program(*ours));
	}
	return fd;
}

/* In the child: only async-signal-safe work, since it was cloned with
 * a raw system call behind libc's back. */
_Noreturn static void child(char **argv, pid_t parent, int report)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() != parent)
		_exit(STATUS_NO_SECCOMP);
	bool nnp;
	int fd = install_filter(&nnp);
	struct handover h = {.listener = fd, .error = errno, .no_new_privs = nnp};
	/* Before the parent reads the handover: it looks at the terminal. */
	if (h.listener >= 0)
		signals_isolate_child();
	if (write(report, &h, sizeof h) != (ssize_t)sizeof h || h.listener < 0)
		_exit(STATUS_NO_SECCOMP);
	signals_restore_in_child();
	execvp(spawn_file ? spawn_file : argv[0], argv);
	int err = errno;
	char line[300];
	int n = snprintf(line, sizeof line, "hostshim: %s: %s\n",
			 spawn_file ? spawn_file : argv[0],
			 strerror(err));
	if (n > 0 && write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
		_exit(127);
	_exit(err == ENOENT ? 127 : 126);
}

static const char *seccomp_error(int err)
{
	switch (err) {
	case EINVAL:
		return "the kernel does not know seccomp user notification "
		       "(seccomp: EINVAL; Linux 5.0 or later, 5.5 for this mode)";
	case ENOSYS:
		return "the kernel has no seccomp (ENOSYS)";
	default:
		return NULL;
	}
}

/* Inside a tree that already has a listener (hostshim --supervise
 * running a script that runs hostshim again): the kernel allows one per
 * tree (EBUSY). The outer supervisor covers whatever we run, so COMMAND
 * replaces us, with its PID, status and signals, under the outer rules. */
_Noreturn static void run_under_outer(char **argv)
{
	const char *outer = getenv(SUPERVISED_ENV);
	log_msg(LOG_INFO, "already supervised (%s%s%s): %s runs under that "
			  "supervisor and its rules",
		outer ? "by process " : "another supervisor's seccomp listener",
		outer ? outer : "", outer ? ", " SUPERVISED_ENV : "", argv[0]);
	signals_restore_in_child();
	execvp(spawn_file ? spawn_file : argv[0], argv);
	int err = errno;
	log_msg(LOG_ERROR, "%s: %s", spawn_file ? spawn_file : argv[0],
		strerror(err));
	exit(err == ENOENT ? 127 : 126);
}

pid_t spawn_supervised(char **argv, int *listener)
{
	int pipefd[2];
	char why[200];
	if (pipe2(pipefd, O_CLOEXEC))
		refuse(strerror(errno));
	pid_t parent = getpid();
	/* COMMAND's environment names us, for a launcher run inside it. */
	const char *was = getenv(SUPERVISED_ENV);
	char *saved = was ? strdup(was) : NULL;
	char me[24];
	snprintf(me, sizeof me, "%d", (int)parent);
	setenv(SUPERVISED_ENV, me, 1);
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0) {
		snprintf(why, sizeof why, "clone(CLONE_FILES): %s", strerror(errno));
		refuse(why);
	}
	if (pid == 0)
		child(argv, parent, pipefd[1]);
	if (saved)
		setenv(SUPERVISED_ENV, saved, 1);
	else
		unsetenv(SUPERVISED_ENV);
	free(saved);
	struct handover h = {.listener = -1, .error = 0};
	ssize_t n;
	do
		n = read(pipefd[0], &h, sizeof h);
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	close(pipefd[1]);
	if (n == (ssize_t)sizeof h && h.listener >= 0) {
		*listener = h.listener;
		if (h.no_new_privs)
			log_msg(LOG_INFO, "no_new_privs set (a seccomp filter "
					  "needs it without CAP_SYS_ADMIN): setuid "
					  "and setgid programs and file capabilities "
					  "in COMMAND's tree give no privileges; "
					  "said when one is run");
		return pid;
	}
	waitpid(pid, NULL, 0);
	if (n == (ssize_t)sizeof h && h.error == EBUSY)
		run_under_outer(argv);
	const char *known = seccomp_error(h.error);
	if (!known)
		snprintf(why, sizeof why,
			 "installing a seccomp filter was refused (%s): a "
			 "seccomp profile or policy forbids seccomp(2)",
			 strerror(h.error ? h.error : EPERM));
	refuse(known ? known : why);
}
