/* Pieces the test clients share.
 *
 * connect_first: a TCP connection to the first answer of a lookup that
 * takes one, on `port` (lookups without a service answer port 0, as for
 * Node.js); the answer's address as text in `a`. Returns the socket, or -1
 * with *err set.
 *
 * http_exchange: one HTTP/1.0 GET on a connected socket: sends
 * "GET PATH" with "Host: HOST", reads the answer into resp, closes fd.
 * Returns the body's first line (inside resp), or NULL when no answer
 * came. The suite's servers answer "listener=ADDR:PORT host=HOST".
 *
 * connect_and_get: connects fd to sa, GETs / and prints one line,
 * "connect addr=A port=P " and then body=..., errno=... or no-response.
 * Returns 0 when a body came. */
#ifndef CLIENT_NET_H
#define CLIENT_NET_H

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int connect_first(const struct addrinfo *res, int port,
				char *a, size_t alen, int *err)
{
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
			in4->sin_port = htons((uint16_t)port);
			inet_ntop(AF_INET, &in4->sin_addr, a, (socklen_t)alen);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_port = htons((uint16_t)port);
			inet_ntop(AF_INET6, &in6->sin6_addr, a, (socklen_t)alen);
		}
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, ai->ai_addrlen) == 0)
			return fd;
		*err = errno;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

static inline char *http_exchange(int fd, const char *path, const char *host,
				  char *resp, size_t size)
{
	char req[512];
	int n = snprintf(req, sizeof req,
			 "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
			 path, host);
	size_t got = 0;
	ssize_t r;
	if (write(fd, req, (size_t)n) == n)
		while (got < size - 1 &&
		       (r = read(fd, resp + got, size - 1 - got)) > 0)
			got += (size_t)r;
	resp[got] = 0;
	close(fd);
	char *body = strstr(resp, "\r\n\r\n");
	if (!body)
		return NULL;
	body += 4;
	body[strcspn(body, "\r\n")] = 0;
	return body;
}

static inline int connect_and_get(int fd, const struct sockaddr *sa,
				  socklen_t len, const char *a, int port,
				  const char *host)
{
	char resp[4096];
	if (connect(fd, sa, len) != 0) {
		printf("connect addr=%s port=%d errno=%s\n", a, port,
		       strerrorname_np(errno));
		close(fd);
		return -1;
	}
	char *body = http_exchange(fd, "/", host, resp, sizeof resp);
	if (!body) {
		printf("connect addr=%s port=%d no-response\n", a, port);
		return -1;
	}
	printf("connect addr=%s port=%d body=%s\n", a, port, body);
	return 0;
}

#endif
