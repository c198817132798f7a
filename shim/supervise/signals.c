/* Signals and exit status: the supervisor stands in for COMMAND.
 *
 * Every signal a process can catch is blocked from the first instruction
 * of main() and read from a signalfd: as PID 1 a signal we have no
 * handler for would be discarded, and any other would kill or stop us.
 * Each is forwarded to COMMAND (a sigqueue value kept), except SIGCHLD,
 * which is ours. When COMMAND ends, we end the same way: its exit code,
 * or the same signal.
 *
 * Where COMMAND runs, decided once at start (plan()):
 *   no terminal, or one whose foreground is not our group (a service, a
 *     container, a test harness): COMMAND gets a process group of its
 *     own, like tini's child, and what we get goes to that whole group
 *     (tini -g): a signal sent to our group (kill -- -PGID, kill 0,
 *     timeout(1)) reaches us alone and then COMMAND's group once, and
 *     `timeout 1 hostshim -- sh -c 'worker & wait'` ends the worker too.
 *   a terminal whose foreground is our group, and we lead our group (a
 *     job-control shell made us a job, or we lead the session as in
 *     `docker run -t`): the same, and COMMAND's group becomes the
 *     foreground, so it reads the terminal and Ctrl-C reaches it straight
 *     from the terminal. When COMMAND stops (Ctrl-Z; SIGTTIN in the
 *     background too) we stop too, so the shell sees the job stop; on
 *     SIGCONT (fg) we give the terminal back.
 *   a terminal whose foreground is our group but not ours alone (a
 *     script, make, a for loop run from a shell): COMMAND stays in our
 *     group, so Ctrl-C reaches the script too and stops it, as without
 *     hostshim. What the terminal sends reached COMMAND already and is
 *     not forwarded; on Ctrl-Z we stop as the group does.
 * Only with a terminal do we ever stop: our notification thread must run
 * whenever COMMAND does.
 *
 * timeout(1) signals its child (us) and then its own group, which is
 * ours: the same signal from our parent twice within REPEAT_NS is
 * forwarded once (docs/supervised.md says what else that covers). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"

/* timeout(1)'s two kill()s come microseconds apart; a script's "kill;
 * sleep 0.03; kill" is two requests. */
#define REPEAT_NS 20000000L /* 20 ms */
#define NSIGNALS 65

static sigset_t old_mask;
static struct sigaction old_pipe;
static bool own_group;	   /* COMMAND in a process group of its own */
static bool job;	   /* we are a job of a shell (or lead the session) */
static bool take_terminal; /* ... in the foreground: COMMAND gets it */
static bool gave_terminal;

static void plan(void)
{
	bool tty = isatty(STDIN_FILENO) && tcgetsid(STDIN_FILENO) == getsid(0);
	bool foreground = tty && tcgetpgrp(STDIN_FILENO) == getpgrp();
	bool leader = getpgrp() == getpid();
	own_group = !foreground || leader;
	job = tty && leader;
	take_terminal = job && foreground;
}

int signals_block(void)
{
	sigset_t set;
	sigfillset(&set); /* libc leaves out the signals it reserves */
	sigprocmask(SIG_BLOCK, &set, &old_mask);
	/* Ignored too: a pipe closed under the stub's write (a signal to
	 * that thread, which no one reads) must not kill us. */
	struct sigaction ign;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	plan();
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* In the child, before exec: a process group of its own, and the
 * terminal's foreground, as plan() said. Every signal (SIGTTOU too) is
 * still blocked here. */
void signals_isolate_child(void)
{
	if (!own_group || setpgid(0, 0))
		return;
	if (take_terminal)
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
	gave_terminal = take_terminal && tcgetpgrp(STDIN_FILENO) == child;
	log_msg(LOG_DEBUG, "COMMAND (process %d) runs in %s%s", (int)child,
		own_group ? "a process group of its own" : "our process group",
		gave_terminal ? ", the terminal's foreground" : "");
}

bool signals_command_group(void)
{
	return own_group;
}

static bool job_stop(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* COMMAND, a shell's job with us, stopped (Ctrl-Z, SIGTTIN): stop with
 * it, so the shell sees the job stop; on SIGCONT (fg, bg), give it the
 * terminal back if we have it, and continue it. */
static void stop_with(pid_t child)
{
	if (gave_terminal)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	kill(getpid(), SIGSTOP);
	/* Continued (the shell's fg/bg sends SIGCONT to our group); in the
	 * foreground (fg), the terminal is COMMAND's. */
	gave_terminal = tcgetpgrp(STDIN_FILENO) == getpgrp() &&
			tcsetpgrp(STDIN_FILENO, child) == 0;
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
			if (job && job_stop(WSTOPSIG(st)))
				stop_with(child);
		} else if (p == child) {
			*wstatus = st;
			done = true;
		}
	}
	return done;
}

/* The second of timeout(1)'s two: the same signal from our parent
 * within REPEAT_NS of the one forwarded. Only SI_USER (kill(2)) with a
 * sender we can see: as PID 1 our parent is outside (getppid() 0), and
 * so is every sender from there (ssi_pid 0). */
static bool repeated(const struct signalfd_siginfo *si)
{
	static struct timespec last[NSIGNALS];
	if (si->ssi_code != SI_USER || si->ssi_signo >= NSIGNALS ||
	    si->ssi_pid == 0 || si->ssi_pid != (uint32_t)getppid())
		return false;
	struct timespec now, *was = &last[si->ssi_signo];
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ns = (now.tv_sec - was->tv_sec) * 1000000000L +
		  (now.tv_nsec - was->tv_nsec);
	bool again = (was->tv_sec || was->tv_nsec) && ns < REPEAT_NS;
	if (!again)
		*was = now;
	return again;
}

/* To COMMAND's group (or COMMAND alone when it shares ours); a
 * sigqueue(3) value to COMMAND with its value and sender, as sigqueue
 * addresses one process. The kernel allows a negative si_code from us
 * to a process we may signal. */
static void forward(const struct signalfd_siginfo *si, pid_t child)
{
	int sig = (int)si->ssi_signo;
	if (si->ssi_code == SI_QUEUE) {
		siginfo_t info;
		memset(&info, 0, sizeof info);
		info.si_signo = sig;
		info.si_code = SI_QUEUE;
		info.si_pid = (pid_t)si->ssi_pid;
		info.si_uid = si->ssi_uid;
		info.si_value.sival_ptr = (void *)(uintptr_t)si->ssi_ptr;
		if (syscall(SYS_rt_sigqueueinfo, child, sig, &info) == 0)
			return;
	}
	kill(own_group ? -child : child, sig);
}

bool signals_handle(int sfd, pid_t child, int *wstatus)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD)
			continue;
		if (!own_group && si.ssi_code == SI_KERNEL) {
			/* From the terminal to our group: COMMAND has it.
			 * Ctrl-Z stops the group, us with it. */
			if (job_stop(sig))
				kill(getpid(), SIGSTOP);
			continue;
		}
		if (repeated(&si)) {
			log_msg(LOG_DEBUG, "signal %d again from our parent "
					   "(process %u): forwarded once", sig,
				si.ssi_pid);
			continue;
		}
		forward(&si, child);
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
