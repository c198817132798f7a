/* brk_exec: exec and spawn as programs really call them, against the
 * library's exec hook (breaker; core-misc shim/hook_exec.c).
 *
 *   brk_exec argv0 PROG NAME     execv(PROG, {NAME, "x", NULL})
 *   brk_exec exec PROG           execv(PROG, {PROG, NULL}); on failure prints
 *                                "exec errno=NAME"
 *   brk_exec smallstack PROG     the same from a thread with a 16 KiB stack
 *                                (PTHREAD_STACK_MIN): "thread exec errno=..."
 *   brk_exec vfork PROG          vfork(), execv in the child, waits
 *   brk_exec spawnchdir DIR PROG posix_spawn of the relative PROG with a
 *                                chdir(DIR) file action (glibc 2.29+)
 * Prints what the exec'd program prints; exit status is its.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *ename(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case ENOEXEC: return "ENOEXEC";
	case EPERM: return "EPERM";
	case ENOTDIR: return "ENOTDIR";
	case EFAULT: return "EFAULT";
	default: return strerror(e);
	}
}

static void *in_thread(void *prog)
{
	char *argv[] = {prog, NULL};
	execv(prog, argv);
	printf("thread exec errno=%s\n", ename(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "argv0")) {
		char *a[] = {argv[3], (char *)"x", NULL};
		execv(argv[2], a);
		printf("exec errno=%s\n", ename(errno));
		return 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "exec")) {
		char *a[] = {argv[2], NULL};
		execv(argv[2], a);
		printf("exec errno=%s\n", ename(errno));
		return 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "smallstack")) {
		pthread_attr_t attr;
		pthread_t t;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
		if (pthread_create(&t, &attr, in_thread, argv[2]))
			return 1;
		pthread_join(t, NULL);
		return 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "vfork")) {
		pid_t p = vfork();
		if (!p) {
			char *a[] = {argv[2], NULL};
			execv(argv[2], a);
			_exit(127);
		}
		int st;
		waitpid(p, &st, 0);
		printf("vfork child status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "spawnchdir")) {
		posix_spawn_file_actions_t fa;
		pid_t pid;
		char *a[] = {argv[3], NULL};
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addchdir_np(&fa, argv[2]);
		int rc = posix_spawn(&pid, argv[3], &fa, NULL, a, environ);
		if (rc) {
			printf("spawn rc=%s\n", ename(rc));
			return 1;
		}
		int st;
		waitpid(pid, &st, 0);
		printf("spawn child status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 0;
	}
	fprintf(stderr, "usage: see the top of brk_exec.c\n");
	return 2;
}
