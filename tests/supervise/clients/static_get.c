/* static_get NAME PORT: resolve NAME with getaddrinfo, connect, send an
 * HTTP GET with Host: NAME and print the response body. Linked with
 * `musl-gcc -static`: no dynamic loader, so no preload can reach it, and
 * musl's resolver sends its queries with sendto on an unconnected socket. */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
	if (argc != 3)
		return 2;
	int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if (rc) {
		fprintf(stderr, "getaddrinfo %s: %s\n", argv[1], gai_strerror(rc));
		return 1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("connect");
		return 1;
	}
	char req[512], buf[4096];
	int n = snprintf(req, sizeof req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", argv[1]);
	if (write(fd, req, (size_t)n) != n)
		return 1;
	size_t got = 0;
	ssize_t r;
	while (got < sizeof buf - 1 && (r = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	fputs(body ? body + 4 : buf, stdout);
	return 0;
}
