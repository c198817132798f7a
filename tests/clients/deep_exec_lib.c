/* deep_exec_lib: a library that runs programs, for deep_exec.c: loaded
 * with RTLD_DEEPBIND its execv and posix_spawn bind to libc first.
 *
 * int deep_run(const char *how, const char *path)
 *   how "spawn": posix_spawn(path) and wait; returns its exit status
 *   how "exec":  execv(path, {path, NULL}); returns errno when it fails */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

__attribute__((visibility("default"))) int deep_run(const char *how, const char *path)
{
	char *argv[] = {(char *)path, NULL};
	if (!strcmp(how, "exec")) {
		execv(path, argv);
		return errno;
	}
	pid_t pid;
	int st, rc = posix_spawn(&pid, path, NULL, NULL, argv, environ);
	if (rc)
		return rc;
	if (waitpid(pid, &st, 0) != pid)
		return errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
