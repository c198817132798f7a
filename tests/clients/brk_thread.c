/* brk_thread: what a program that never asked for threads may do, with
 * the library's background resolver in the process (breaker, issue 14).
 *
 *   brk_thread forkconnect ADDR PORT SECS
 *       a lookup of localhost (the library loads its rules), then fork(); the
 *       child, which never looks a name up, connects to ADDR:PORT once a
 *       second for SECS seconds and prints each outcome:
 *       "try=N connect=ok body=..." or "try=N connect=ERRNO-NAME"
 *   brk_thread connectloop ADDR PORT SECS
 *       no lookup at all: connects to ADDR:PORT every 200 ms for SECS
 *       seconds, a GET each time: "try=N connect=ok body=..." or
 *       "try=N connect=ERRNO-NAME" (curl, Bun, browsers with *.localhost)
 *   brk_thread unshare
 *       a lookup of localhost, then unshare(CLONE_NEWUSER) and
 *       unshare(CLONE_NEWNS|CLONE_FS), as a single-threaded sandbox does:
 *       "threads=N unshare_user=ok|ERRNO-NAME unshare_ns=..."
 *   brk_thread firstconnect ADDR PORT
 *       the program's first call the library hooks is a non-blocking
 *       connect to ADDR:PORT (curl and Bun connect to *.localhost with no
 *       lookup): "first connect=EINPROGRESS|ERRNO-NAME ms=N" (how long
 *       connect() itself took), then the outcome once the socket is done
 *   brk_thread sandbox SECS
 *       a lookup of localhost, then a seccomp filter on every thread
 *       (SECCOMP_FILTER_FLAG_TSYNC, as Chromium's sandbox does) that kills
 *       the process on socket(): the program itself never opens a socket
 *       again. Prints "sandboxed" then, after SECS seconds, "survived"
 *   brk_thread idle PORT SECS
 *       a lookup of localhost with service PORT (no connect), then nothing
 *       for SECS seconds but "t=N threads=K" once a second (fix-reload)
 *   brk_thread closefds SECS
 *       a lookup of localhost, then closes every fd from 3 up (daemonizing),
 *       makes a datagram socketpair (it gets fds 3 and 4: the program's own)
 *       and for SECS seconds prints whatever arrives on its end that the
 *       program never sent: "foreign bytes=N on fd F" or "foreign none"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#if __has_include(<linux/filter.h>)
#include <linux/filter.h>
#include <linux/seccomp.h>
#define HAVE_SECCOMP 1
#endif
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client_net.h"

static const char *ename(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EINPROGRESS: return "EINPROGRESS";
	case EPERM: return "EPERM";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENETUNREACH: return "ENETUNREACH";
	default: return strerror(e);
	}
}

static void look_localhost(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo("localhost", "80", &hints, &res);
	printf("lookup localhost rc=%d\n", rc);
	if (!rc)
		freeaddrinfo(res);
}

static int threads(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static int forkconnect(const char *addr, int port, int secs)
{
	look_localhost();
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid) {
		int st;
		waitpid(pid, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	for (int i = 0; i < secs; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
			printf("try=%d connect=%s\n", i, ename(errno));
		} else {
			char resp[4096];
			char *body = http_exchange(fd, "/", "x", resp, sizeof resp);
			printf("try=%d connect=ok body=%s\n", i, body ? body : "-");
			_exit(0);
		}
		close(fd);
		sleep(1);
	}
	_exit(3);
}

static int connectloop(const char *addr, int port, int secs)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	for (int i = 0; i < secs * 5; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
			printf("try=%d connect=%s\n", i, ename(errno));
			close(fd);
		} else {
			char resp[4096];
			char *body = http_exchange(fd, "/", "x", resp, sizeof resp);
			printf("try=%d connect=ok body=%s\n", i, body ? body : "-");
		}
		usleep(200000);
	}
	return 0;
}

static int do_unshare(void)
{
	look_localhost();
	usleep(300000);
	int n = threads();
	int u = unshare(CLONE_NEWUSER), ue = errno;
	int m = unshare(CLONE_NEWNS | CLONE_FS), me = errno;
	printf("threads=%d unshare_user=%s unshare_ns=%s\n", n, u ? ename(ue) : "ok",
	       m ? ename(me) : "ok");
	return 0;
}

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int firstconnect(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	double t0 = mono();
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa), e = errno;
	printf("first connect=%s ms=%d\n", rc ? ename(e) : "ok", (int)((mono() - t0) * 1000));
	if (rc && e == EINPROGRESS) {
		struct pollfd p = {fd, POLLOUT, 0};
		poll(&p, 1, 5000);
		socklen_t l = sizeof e;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
		printf("outcome=%s\n", e ? ename(e) : "connected");
	}
	return 0;
}

#ifndef HAVE_SECCOMP
static int sandbox(int secs)
{
	(void)secs;
	printf("no linux/filter.h\n");
	return 77;
}
#else
static int sandbox(int secs)
{
	look_localhost();
	usleep(300000);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof f / sizeof f[0], f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)) {
		printf("seccomp failed: %s\n", strerror(errno));
		return 1;
	}
	printf("sandboxed\n");
	sleep(secs);
	printf("survived\n");
	return 0;
}
#endif

static int closefds(int secs)
{
	look_localhost();
	usleep(300000);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return 1;
	printf("socketpair fds=%d,%d\n", sv[0], sv[1]);
	/* the program listens on both ends: it sends nothing itself */
	struct pollfd p[2] = {{sv[0], POLLIN, 0}, {sv[1], POLLIN, 0}};
	time_t end = time(NULL) + secs;
	while (time(NULL) < end) {
		if (poll(p, 2, 500) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (p[i].revents & POLLIN) {
				char buf[2048];
				ssize_t k = recv(p[i].fd, buf, sizeof buf, 0);
				printf("foreign bytes=%zd on fd %d\n", k, p[i].fd);
				return 0;
			}
	}
	printf("foreign none\n");
	return 0;
}

static int idle(const char *port, int secs)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo("localhost", port, &hints, &res);
	printf("lookup localhost rc=%d\n", rc);
	if (!rc)
		freeaddrinfo(res);
	for (int i = 1; i <= secs; i++) {
		sleep(1);
		printf("t=%d threads=%d\n", i, threads());
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "forkconnect"))
		return forkconnect(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc >= 5 && !strcmp(argv[1], "connectloop"))
		return connectloop(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc >= 2 && !strcmp(argv[1], "unshare"))
		return do_unshare();
	if (argc >= 4 && !strcmp(argv[1], "firstconnect"))
		return firstconnect(argv[2], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "sandbox"))
		return sandbox(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "idle"))
		return idle(argv[2], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "closefds"))
		return closefds(atoi(argv[2]));
	fprintf(stderr, "usage: see the top of brk_thread.c\n");
	return 2;
}
