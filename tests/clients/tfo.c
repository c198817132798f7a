/* tfo: TCP Fast Open the way a client uses it: no connect(), the first
 * data goes with sendto()/sendmsg() and MSG_FASTOPEN on a fresh socket.
 *
 * usage: tfo sendto|sendmsg HOST PORT
 *   HOST is looked up (getaddrinfo, AF_UNSPEC, SOCK_STREAM, service PORT);
 *   the first answer gets "GET /tfo HTTP/1.0" + Host: HOST.
 * Output: "send rc=N [errno=E]", then "body=..." or "no-response".
 * exit: 0 a body came, 1 lookup failed, 3 otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo(argv[2], argv[3], &hints, &res);
	if (rc) {
		printf("gai rc=%s\n", gai_strerror(rc));
		return 1;
	}
	char req[256];
	int len = snprintf(req, sizeof req, "GET /tfo HTTP/1.0\r\nHost: %s\r\n\r\n", argv[2]);
	int fd = socket(res->ai_family, SOCK_STREAM, 0);
	ssize_t sent;
	if (!strcmp(argv[1], "sendmsg")) {
		struct iovec iov = {req, (size_t)len};
		struct msghdr m = {.msg_name = res->ai_addr, .msg_namelen = res->ai_addrlen,
				   .msg_iov = &iov, .msg_iovlen = 1};
		sent = sendmsg(fd, &m, MSG_FASTOPEN);
	} else {
		sent = sendto(fd, req, (size_t)len, MSG_FASTOPEN, res->ai_addr, res->ai_addrlen);
	}
	freeaddrinfo(res);
	if (sent < 0) {
		printf("send rc=-1 errno=%s\n", strerror(errno));
		return 3;
	}
	printf("send rc=%zd\n", sent);
	if (sent < len && write(fd, req + sent, (size_t)(len - sent)) < 0)
		return 3;
	char resp[4096];
	size_t got = 0;
	ssize_t r;
	while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
		got += (size_t)r;
	resp[got] = 0;
	char *body = strstr(resp, "\r\n\r\n");
	if (!body) {
		printf("no-response\n");
		return 3;
	}
	body += 4;
	body[strcspn(body, "\r\n")] = 0;
	printf("body=%s\n", body);
	return 0;
}
