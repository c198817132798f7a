/* sockops ADDR PORT: what a program's socket must keep under supervision.
 * A non-blocking TCP socket is added to epoll before connect (as nginx
 * does); connect must answer EINPROGRESS, a second connect EALREADY (or
 * EISCONN, or 0 if just done), epoll must report EPOLLOUT, SO_ERROR 0, a
 * third connect EISCONN; then an HTTP GET prints where it arrived.
 * Prints one line per step; exit 0 only when every step was right. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;

static void step(const char *what, bool ok, int err)
{
	printf("%s %s (%s)\n", ok ? "ok" : "FAIL", what, err ? strerror(err) : "0");
	failures += !ok;
}

static void get(int fd, const char *host)
{
	char req[256], buf[2048];
	int n = snprintf(req, sizeof req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
	if (send(fd, req, (size_t)n, 0) != n) {
		step("send", false, errno);
		return;
	}
	size_t got = 0;
	for (;;) {
		ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EAGAIN) {
			usleep(10000);
			continue;
		}
		break;
	}
	buf[got] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	printf("body %s", body ? body + 4 : "(none)\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (argc != 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);

	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	step("connect: EINPROGRESS", rc < 0 && errno == EINPROGRESS, rc ? errno : 0);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	/* On loopback the handshake may be over already: then the kernel
	 * reports the success once (0), as it does for any socket. */
	step("again: EALREADY, EISCONN or 0",
	     rc == 0 || (rc < 0 && (errno == EALREADY || errno == EISCONN)),
	     rc ? errno : 0);
	int n = epoll_wait(ep, &ev, 1, 5000);
	step("epoll: EPOLLOUT", n == 1 && (ev.events & EPOLLOUT), n < 0 ? errno : 0);
	int err = -1;
	socklen_t len = sizeof err;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	step("SO_ERROR 0", err == 0, err);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	step("third: EISCONN", rc < 0 && errno == EISCONN, rc ? errno : 0);
	/* The destination was rewritten in this very buffer. */
	char ip[INET_ADDRSTRLEN];
	printf("buffer after: %s:%u\n", inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip),
	       ntohs(sa.sin_port));
	get(fd, "auth.localhost");
	return failures ? 1 : 0;
}
