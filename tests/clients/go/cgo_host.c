/* cgo_host: a C program linked against a Go c-shared library (cshared.go),
 * which calls into Go and then resolves and connects with libc.
 *
 * usage: cgo_host NAME PORT
 * Output: "go=42" then "get addr=A body=BODY" (or "gai rc=N",
 * "addr=A connect errno=N").
 * exit: 0 a body came back, 3 otherwise, 2 usage. */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "../client_net.h"

int GoAnswer(void);

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *name = argv[1];
	int port = atoi(argv[2]);
	printf("go=%d\n", GoAnswer());
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc) {
		printf("gai rc=%d\n", rc);
		return 3;
	}
	char a[INET6_ADDRSTRLEN] = "?", resp[2048];
	int err = 0, fd = connect_first(res, port, a, sizeof a, &err);
	freeaddrinfo(res);
	if (fd < 0) {
		printf("addr=%s connect errno=%d\n", a, err);
		return 3;
	}
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char *body = http_exchange(fd, "/", name, resp, sizeof resp);
	printf("get addr=%s body=%s\n", a, body ? body : "(none)");
	return body ? 0 : 3;
}
