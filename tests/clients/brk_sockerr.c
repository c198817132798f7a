/* brk_sockerr: getsockopt(SO_ERROR) on an fd number that held a
 * redirected connect in progress (breaker; core-misc shim/explain.c).
 *
 *   brk_sockerr reuse NAME TPORT
 *       listens on 127.0.0.5:TPORT with a full accept queue (so a connect
 *       there stays in progress), looks NAME up (mapped to server:TPORT),
 *       starts a non-blocking connect to it on port 80 ("first
 *       connect=EINPROGRESS fd=N"), closes that socket without asking how
 *       it ended (curl's happy-eyeballs loser, a client's own timeout),
 *       then opens a UDP socket (same fd number) with IP_RECVERR, sends a
 *       datagram to 127.0.0.1:9 (nothing there) and reads SO_ERROR:
 *       "udp fd=N so_error=ECONNREFUSED". That socket never went near a
 *       mapped name: the library has nothing to explain about it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 4 || strcmp(argv[1], "reuse")) {
		fprintf(stderr, "usage: see the top of brk_sockerr.c\n");
		return 2;
	}
	int tport = atoi(argv[3]), one = 1;
	struct sockaddr_in t = {.sin_family = AF_INET, .sin_port = htons(tport)};
	inet_pton(AF_INET, "127.0.0.5", &t.sin_addr);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, (struct sockaddr *)&t, sizeof t) || listen(l, 0)) {
		perror("listen");
		return 1;
	}
	for (int i = 0; i < 3; i++) { /* fill the accept queue */
		int f = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(f, (struct sockaddr *)&t, sizeof t);
	}
	usleep(100000);
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	if (getaddrinfo(argv[2], "80", &hints, &res)) {
		printf("lookup failed\n");
		return 1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int rc = connect(fd, res->ai_addr, res->ai_addrlen), e = errno;
	freeaddrinfo(res);
	printf("first connect=%s fd=%d\n", rc ? (e == EINPROGRESS ? "EINPROGRESS" : strerror(e)) : "ok", fd);
	close(fd);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
	struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(9)};
	inet_pton(AF_INET, "127.0.0.1", &d.sin_addr);
	sendto(u, "x", 1, 0, (struct sockaddr *)&d, sizeof d);
	usleep(100000);
	int err = 0;
	socklen_t len = sizeof err;
	getsockopt(u, SOL_SOCKET, SO_ERROR, &err, &len);
	printf("udp fd=%d so_error=%s\n", u, err == ECONNREFUSED ? "ECONNREFUSED" : strerror(err));
	return 0;
}
