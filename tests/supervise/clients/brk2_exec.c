/* brk2_exec MODE PROGRAM [ARG]...: execs PROGRAM the way some launchers do.
 *   procfd  open(PROGRAM, O_CLOEXEC), execv("/proc/self/fd/N") (systemd's
 *           and runc's way to run a file they hold open)
 *   memfd   copied into memfd_create(MFD_CLOEXEC), fexecve (runc, and
 *           programs unpacking an embedded binary)
 * argv[0] given to PROGRAM is PROGRAM's basename. Exit 126 if the exec
 * fails. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[2]);
		return 126;
	}
	char *args[argc];
	const char *slash = strrchr(argv[2], '/');
	args[0] = (char *)(slash ? slash + 1 : argv[2]);
	for (int i = 3; i < argc; i++)
		args[i - 2] = argv[i];
	args[argc - 2] = NULL;
	if (!strcmp(argv[1], "procfd")) {
		char path[40];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		execv(path, args);
	} else {
		struct stat st;
		int m = memfd_create("prog", MFD_CLOEXEC);
		if (m < 0 || fstat(fd, &st) ||
		    sendfile(m, fd, NULL, (size_t)st.st_size) != st.st_size)
			return 126;
		fexecve(m, args, environ);
	}
	perror("exec");
	return 126;
}
