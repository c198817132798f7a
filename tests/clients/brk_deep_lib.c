/* brk_deep_lib: what libcurl does inside a PHP extension (loaded with
 * RTLD_DEEPBIND): a lookup, a non-blocking connect, poll, then
 * getsockopt(SO_ERROR) to learn how it ended. For brk_deep.c.
 *
 * int deep_nb_connect(const char *name, int port)  returns SO_ERROR's value
 * (0 connected), or -1 when the lookup or the socket failed */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((visibility("default"))) int deep_nb_connect(const char *name, int port)
{
	char service[16];
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	int len = 0, p = port;
	do { /* no snprintf: keep the library's imports few */
		len++;
	} while (p /= 10);
	service[len] = 0;
	for (p = port; len--; p /= 10)
		service[len] = (char)('0' + p % 10);
	if (getaddrinfo(name, service, &hints, &res))
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	if (fd < 0 || (connect(fd, res->ai_addr, res->ai_addrlen) && errno != EINPROGRESS)) {
		err = errno;
	} else {
		struct pollfd pf = {fd, POLLOUT, 0};
		socklen_t l = sizeof err;
		poll(&pf, 1, 5000);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
	}
	freeaddrinfo(res);
	if (fd >= 0)
		close(fd);
	return err;
}
