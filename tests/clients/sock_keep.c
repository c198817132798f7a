/* sock_keep: is the program's socket still the program's after connect()?
 *
 * usage: sock_keep [-f unspec|inet|inet6] MODE HOST PORT
 *   HOST is looked up like Node.js does (getaddrinfo, service NULL,
 *   SOCK_STREAM, the family of -f); a socket of the first answer's family
 *   connects to it on PORT, then sends "GET /" with Host: HOST.
 *   epoll   non-blocking; the socket joins an epoll set (EPOLLOUT) before
 *           connect(), as nginx does; prints what epoll_wait() reports
 *           within 5 s: "epoll events=0xN" or "epoll timeout"
 *   repeat  non-blocking; connect() twice at once, then after the socket
 *           is writable (poll, 10 s) twice more: Linux answers
 *           EINPROGRESS, EALREADY, 0 (the connect completed), EISCONN
 *   opts    sets options no preload library knows to carry (SO_MARK,
 *           SO_BINDTODEVICE lo, SO_REUSEPORT, SO_PRIORITY, TCP_CONGESTION
 *           reno, TCP_NOTSENT_LOWAT, TCP_USER_TIMEOUT, TCP_KEEPIDLE,
 *           IP_TOS or IPV6_TCLASS, O_ASYNC with F_SETOWN) before a blocking
 *           connect, prints "opt NAME before=X after=Y" for each
 *   bind    binds to the loopback address of its family, port 0, before
 *           a blocking connect: "local before=A after=A"
 *   v6only  every answer in order (AF_UNSPEC style); an AF_INET6 answer
 *           gets an AF_INET6 socket with IPV6_V6ONLY=1 (as servers and
 *           some runtimes make them); the first that connects is used
 * Output: "connect rc=0|errno=E", "socket family=inet|inet6", then
 * "body=..." or "no-response". exit: 0 a body came, 1 lookup failed,
 * 3 no connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case EINPROGRESS: return "EINPROGRESS";
	case EALREADY: return "EALREADY";
	case EISCONN: return "EISCONN";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EINVAL: return "EINVAL";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EBADF: return "EBADF";
	default: return strerror(e);
	}
}

static int get_body(int fd, const char *host)
{
	char req[256], resp[4096];
	int len = snprintf(req, sizeof req, "GET /keep HTTP/1.0\r\nHost: %s\r\n\r\n", host);
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	size_t got = 0;
	ssize_t r;
	if (write(fd, req, (size_t)len) == len)
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

static void fam_line(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &l);
	printf("socket family=%s\n", ss.ss_family == AF_INET6 ? "inet6" : "inet");
}

struct iopt {
	const char *name;
	int level, opt, val;
};

static void show_opts(int fd, int fam, const char *when, char out[][128], int *n)
{
	static const struct iopt ints[] = {
		{"SO_MARK", SOL_SOCKET, SO_MARK, 0x2a},
		{"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 1},
		{"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 5},
		{"TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT, 12345},
		{"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 4321},
		{"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 77},
	};
	int k = 0;
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		int v = -1;
		socklen_t l = sizeof v;
		getsockopt(fd, ints[i].level, ints[i].opt, &v, &l);
		snprintf(out[k++], 128, "%s=%d", ints[i].name, v);
	}
	int tos = -1;
	socklen_t l = sizeof tos;
	if (fam == AF_INET6)
		getsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, &l);
	else
		getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &l);
	snprintf(out[k++], 128, "%s=%d", fam == AF_INET6 ? "IPV6_TCLASS" : "IP_TOS", tos);
	char cc[32] = "";
	l = sizeof cc;
	getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &l);
	snprintf(out[k++], 128, "TCP_CONGESTION=%s", cc);
	char dev[IFNAMSIZ + 1] = "";
	l = sizeof dev;
	getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &l);
	snprintf(out[k++], 128, "SO_BINDTODEVICE=%s", dev[0] ? dev : "-");
	snprintf(out[k++], 128, "O_ASYNC=%d", (fcntl(fd, F_GETFL) & O_ASYNC) ? 1 : 0);
	snprintf(out[k++], 128, "F_GETOWN=%s", fcntl(fd, F_GETOWN) == getpid() ? "self" : "other");
	*n = k;
	(void)when;
}

static int set_opts(int fd, int fam)
{
	int bad = 0;
	int v;
#define SETI(level, opt, value) (v = (value), bad |= setsockopt(fd, level, opt, &v, sizeof v) != 0)
	SETI(SOL_SOCKET, SO_MARK, 0x2a);
	SETI(SOL_SOCKET, SO_REUSEPORT, 1);
	SETI(SOL_SOCKET, SO_PRIORITY, 5);
	SETI(IPPROTO_TCP, TCP_NOTSENT_LOWAT, 12345);
	SETI(IPPROTO_TCP, TCP_USER_TIMEOUT, 4321);
	SETI(IPPROTO_TCP, TCP_KEEPIDLE, 77);
	if (fam == AF_INET6)
		SETI(IPPROTO_IPV6, IPV6_TCLASS, 0x28);
	else
		SETI(IPPROTO_IP, IP_TOS, 0x28);
	bad |= setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) != 0;
	bad |= setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) != 0;
	signal(SIGIO, SIG_IGN);
	bad |= fcntl(fd, F_SETOWN, getpid()) != 0;
	bad |= fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) != 0;
	return bad;
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	int port;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		port = ntohs(s6->sin6_port);
		snprintf(out, len, "[%s]:%d", a, port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		port = ntohs(s4->sin_port);
		snprintf(out, len, "%s:%d", a, port);
	}
}

int main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
	int o;
	while ((o = getopt(argc, argv, "f:")) != -1) {
		if (o != 'f')
			return 2;
		hints.ai_family = !strcmp(optarg, "inet") ? AF_INET : !strcmp(optarg, "inet6") ? AF_INET6 : AF_UNSPEC;
	}
	if (argc - optind != 3)
		return 2;
	const char *mode = argv[optind], *host = argv[optind + 1];
	int port = atoi(argv[optind + 2]);
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		printf("gai rc=%s\n", gai_strerror(rc));
		return 1;
	}
	struct addrinfo *ai = res;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = -1;
	if (!strcmp(mode, "v6only")) {
		for (; ai; ai = ai->ai_next) {
			memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
			sl = ai->ai_addrlen;
			((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
			fd = socket(ai->ai_family, SOCK_STREAM, 0);
			if (ai->ai_family == AF_INET6) {
				int one = 1;
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
			}
			char a[80];
			addr_text(&ss, a, sizeof a);
			if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
				printf("connect addr=%s v6only=%d rc=0\n", a, ai->ai_family == AF_INET6);
				freeaddrinfo(res);
				fam_line(fd);
				return get_body(fd, host);
			}
			printf("connect addr=%s v6only=%d errno=%s\n", a, ai->ai_family == AF_INET6, ename(errno));
			close(fd);
		}
		freeaddrinfo(res);
		return 3;
	}
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	sl = ai->ai_addrlen;
	((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	int fam = ai->ai_family;
	freeaddrinfo(res);
	char a[80];
	addr_text(&ss, a, sizeof a);
	printf("answer addr=%s\n", a);

	if (!strcmp(mode, "epoll")) {
		fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLOUT | EPOLLET, .data.fd = fd}, got;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		rc = connect(fd, (struct sockaddr *)&ss, sl);
		printf("connect %s\n", rc == 0 ? "rc=0" : ename(errno));
		int n = epoll_wait(ep, &got, 1, 5000);
		if (n == 1)
			printf("epoll events=0x%x\n", got.events);
		else
			printf("epoll timeout\n");
		int err = -1;
		socklen_t el = sizeof err;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		printf("so_error=%s\n", ename(err));
		fam_line(fd);
		return n == 1 ? get_body(fd, host) : 3;
	}
	if (!strcmp(mode, "repeat")) {
		fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
		rc = connect(fd, (struct sockaddr *)&ss, sl);
		printf("connect1=%s\n", rc == 0 ? "0" : ename(errno));
		rc = connect(fd, (struct sockaddr *)&ss, sl);
		printf("connect2=%s\n", rc == 0 ? "0" : ename(errno));
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int pr = poll(&p, 1, 10000);
		int err = -1;
		socklen_t el = sizeof err;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		printf("poll=%d so_error=%s\n", pr, ename(err));
		rc = connect(fd, (struct sockaddr *)&ss, sl);
		printf("connect3=%s\n", rc == 0 ? "0" : ename(errno));
		rc = connect(fd, (struct sockaddr *)&ss, sl);
		printf("connect4=%s\n", rc == 0 ? "0" : ename(errno));
		fam_line(fd);
		return get_body(fd, host);
	}
	fd = socket(fam, SOCK_STREAM, 0);
	if (!strcmp(mode, "opts")) {
		if (set_opts(fd, fam))
			printf("setting an option failed: %s\n", strerror(errno));
		char before[16][128], after[16][128];
		int nb, na;
		show_opts(fd, fam, "before", before, &nb);
		rc = connect(fd, (struct sockaddr *)&ss, sl);
		printf("connect %s\n", rc == 0 ? "rc=0" : ename(errno));
		show_opts(fd, fam, "after", after, &na);
		for (int i = 0; i < nb; i++) {
			char *eq = strchr(before[i], '=');
			printf("opt %.*s before=%s after=%s\n", (int)(eq - before[i]), before[i], eq + 1,
			       strchr(after[i], '=') + 1);
		}
		fam_line(fd);
		return rc == 0 ? get_body(fd, host) : 3;
	}
	if (!strcmp(mode, "bind")) {
		struct sockaddr_storage lb = {0};
		socklen_t ll;
		if (fam == AF_INET6) {
			struct sockaddr_in6 *s6 = (void *)&lb;
			s6->sin6_family = AF_INET6;
			s6->sin6_addr = in6addr_loopback;
			ll = sizeof *s6;
		} else {
			struct sockaddr_in *s4 = (void *)&lb;
			s4->sin_family = AF_INET;
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			ll = sizeof *s4;
		}
		if (bind(fd, (struct sockaddr *)&lb, ll) != 0)
			printf("bind errno=%s\n", ename(errno));
		struct sockaddr_storage b1, b2;
		socklen_t l1 = sizeof b1, l2 = sizeof b2;
		getsockname(fd, (struct sockaddr *)&b1, &l1);
		rc = connect(fd, (struct sockaddr *)&ss, sl);
		printf("connect %s\n", rc == 0 ? "rc=0" : ename(errno));
		getsockname(fd, (struct sockaddr *)&b2, &l2);
		char t1[80], t2[80];
		addr_text(&b1, t1, sizeof t1);
		addr_text(&b2, t2, sizeof t2);
		printf("local before=%s after=%s\n", t1, t2);
		return rc == 0 ? get_body(fd, host) : 3;
	}
	return 2;
}
