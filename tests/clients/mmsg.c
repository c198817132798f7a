/* mmsg: one sendmmsg() call with several destinations, mapped or not.
 *
 * usage: mmsg HOST PORT PAYLOAD [HOST PORT PAYLOAD]...
 *   Each HOST is looked up (getaddrinfo, AF_INET, SOCK_DGRAM); one AF_INET
 *   UDP socket sends every PAYLOAD to its HOST:PORT in a single sendmmsg()
 *   call, then collects the echoes for up to 2 s.
 * Output: "sendmmsg rc=N [errno=E]", then "reply data=..." per datagram
 * received. exit: 0 all sent, 1 lookup failed, 3 sendmmsg sent fewer. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = (argc - 1) / 3;
	if (n < 1 || (argc - 1) % 3) {
		fprintf(stderr, "usage: mmsg HOST PORT PAYLOAD...\n");
		return 2;
	}
	struct mmsghdr *msgs = calloc((size_t)n, sizeof *msgs);
	struct iovec *iov = calloc((size_t)n, sizeof *iov);
	struct sockaddr_storage *dst = calloc((size_t)n, sizeof *dst);
	for (int i = 0; i < n; i++) {
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res;
		int rc = getaddrinfo(argv[1 + 3 * i], argv[2 + 3 * i], &hints, &res);
		if (rc) {
			printf("gai %s rc=%s\n", argv[1 + 3 * i], gai_strerror(rc));
			return 1;
		}
		memcpy(&dst[i], res->ai_addr, res->ai_addrlen);
		msgs[i].msg_hdr.msg_name = &dst[i];
		msgs[i].msg_hdr.msg_namelen = res->ai_addrlen;
		freeaddrinfo(res);
		iov[i].iov_base = argv[3 + 3 * i];
		iov[i].iov_len = strlen(argv[3 + 3 * i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int rc = sendmmsg(fd, msgs, (unsigned)n, 0);
	if (rc < 0)
		printf("sendmmsg rc=-1 errno=%s\n", strerror(errno));
	else
		printf("sendmmsg rc=%d\n", rc);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 2000) <= 0)
			break;
		char buf[2048];
		ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
		if (got < 0)
			break;
		buf[got] = 0;
		printf("reply data=%s\n", buf);
	}
	fflush(stdout);
	close(fd);
	free(msgs);
	free(iov);
	free(dst);
	return rc == n ? 0 : 3;
}
