/* Signals and exit status: the supervisor stands in for COMMAND.
 *
 * COMMAND runs in a process group of its own (spawn.c), like tini's
 * child: a signal sent to the supervisor's group (kill -- -PGID, kill 0,
 * timeout(1)) reaches the supervisor alone, which forwards it once. On a
 * terminal COMMAND's group is made the foreground one, so Ctrl-C and
 * friends reach COMMAND straight from the terminal and not us; when
 * COMMAND is stopped (Ctrl-Z) we stop too, so the shell sees the job
 * stop, and we hand the terminal back and continue COMMAND on SIGCONT.
 * The same signal from the same sender twice within a moment (timeout(1)
 * signals its child and then its group) is forwarded once.
 *
 * Signals are blocked from the first instruction of main(): as PID 1 a
 * signal we have no handler for would otherwise be discarded, and one
 * sent during start-up lost. When the child ends, the supervisor ends
 * the same way: its exit code, or the same signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"

#define REPEAT_NS 100000000L /* 100 ms: one signal sent twice by one sender */

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				SIGUSR1, SIGUSR2, SIGWINCH};
static sigset_t old_mask;
static struct sigaction old_pipe;
static bool gave_terminal;

int signals_block(void)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	/* Not read, only kept from stopping us when we touch the terminal. */
	sigaddset(&set, SIGTTOU);
	sigprocmask(SIG_BLOCK, &set, &old_mask);
	sigdelset(&set, SIGTTOU);
	/* A closed pipe must not kill the supervisor (the stub writes). */
	struct sigaction ign;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* In the child, before exec: a process group of its own, the terminal's
 * foreground if ours was. SIGTTOU is still blocked here. */
void signals_isolate_child(void)
{
	pid_t was = getpgrp();
	if (setpgid(0, 0))
		return;
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == was)
		tcsetpgrp(STDIN_FILENO, getpid());
}

/* COMMAND gets the dispositions and mask we were given, an ignored
 * SIGPIPE included. */
void signals_restore_in_child(void)
{
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
}

void signals_started(pid_t child)
{
	gave_terminal = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == child;
}

/* COMMAND stopped (Ctrl-Z, SIGTTIN): stop with it; on SIGCONT, give it
 * the terminal back and continue it. */
static void stop_with(pid_t child)
{
	if (gave_terminal)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	kill(getpid(), SIGSTOP);
	/* Continued (the shell's fg/bg sends SIGCONT to our group); in the
	 * foreground (fg), the terminal is COMMAND's. */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp()) {
		tcsetpgrp(STDIN_FILENO, child);
		gave_terminal = true;
	}
	kill(-child, SIGCONT);
}

/* Reaps every child that ended (as PID 1 in a container, or as the
 * subreaper, orphans are ours too); true once it is COMMAND. */
static bool reap(pid_t child, int *wstatus)
{
	bool done = false;
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG | WUNTRACED)) > 0) {
		if (p == child && WIFSTOPPED(st)) {
			int sig = WSTOPSIG(st);
			if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
				stop_with(child);
		} else if (p == child) {
			*wstatus = st;
			done = true;
		}
	}
	return done;
}

/* The same signal from the same sender within REPEAT_NS. */
static bool repeated(const struct signalfd_siginfo *si)
{
	static uint32_t last_sig, last_pid;
	static struct timespec last;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ns = (now.tv_sec - last.tv_sec) * 1000000000L + (now.tv_nsec - last.tv_nsec);
	bool same = si->ssi_code == SI_USER && si->ssi_signo == last_sig &&
		    si->ssi_pid == last_pid && ns < REPEAT_NS;
	last_sig = si->ssi_signo;
	last_pid = si->ssi_code == SI_USER ? si->ssi_pid : 0;
	last = now;
	return same;
}

bool signals_handle(int sfd, pid_t child, int *wstatus)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (repeated(&si)) {
			log_msg(LOG_DEBUG, "signal %u again from process %u: "
					   "forwarded once", si.ssi_signo, si.ssi_pid);
			continue;
		}
		kill(child, (int)si.ssi_signo);
	}
	return reap(child, wstatus);
}

_Noreturn void exit_like_child(int wstatus)
{
	guard_release();
	/* The terminal back to our group, where our caller is. */
	if (gave_terminal && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) != getpgrp())
		tcsetpgrp(STDIN_FILENO, getpgrp());
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
