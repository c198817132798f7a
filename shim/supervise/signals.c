/* Signals and exit status: the supervisor stands in for COMMAND.
 *
 * Termination and user signals sent to the supervisor are forwarded to
 * the child. A signal from the terminal (Ctrl-C) already reached the
 * whole foreground process group, child included, so it is not sent a
 * second time. When the child ends, the supervisor ends the same way:
 * its exit code, or the same signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				SIGUSR1, SIGUSR2, SIGWINCH};
static sigset_t old_mask;
static struct sigaction old_pipe;

int signals_block(void)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old_mask);
	/* A closed pipe must not kill the supervisor (the stub writes). */
	struct sigaction ign;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* COMMAND gets the dispositions and mask we were given, an ignored
 * SIGPIPE included. */
void signals_restore_in_child(void)
{
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
}

/* Reaps every child that ended (as PID 1 in a container, orphans are
 * ours too); true once it is COMMAND. */
static bool reap(pid_t child, int *wstatus)
{
	bool done = false;
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == child) {
			*wstatus = st;
			done = true;
		}
	return done;
}

bool signals_handle(int sfd, pid_t child, int *wstatus)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (si.ssi_code == SI_KERNEL)
			continue; /* the terminal sent it to the child too */
		kill(child, (int)si.ssi_signo);
	}
	return reap(child, wstatus);
}

_Noreturn void exit_like_child(int wstatus)
{
	if (WIFEXITED(wstatus))
		exit(WEXITSTATUS(wstatus));
	int sig = WTERMSIG(wstatus);
	/* Die of the same signal, without a core file of our own. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);
	exit(128 + sig);
}
