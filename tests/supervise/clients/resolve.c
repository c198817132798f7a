/* resolve MODE NAME [QTYPE]: one DNS query to the first nameserver of
 * /etc/resolv.conf, the way resolvers that check where a reply comes
 * from send it:
 *   connected    UDP, connect() then send() and recvfrom(), dropping a
 *                reply whose source address is not the nameserver's
 *                (c-ares does exactly this: the address, not the port)
 *   unconnected  UDP, sendto() and recvfrom(), the same check
 *   tcp          TCP, length-prefixed
 * Prints "rcode R answers N addr A from IP:PORT" (A: the last A record,
 * or -), or "timeout" after 3 s with exit status 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in nameserver(void)
{
	struct sockaddr_in ns = {.sin_family = AF_INET, .sin_port = htons(53)};
	char line[256], addr[64];
	FILE *f = fopen("/etc/resolv.conf", "r");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "nameserver %63s", addr) == 1 &&
		    inet_pton(AF_INET, addr, &ns.sin_addr) == 1)
			break;
	if (f)
		fclose(f);
	return ns;
}

static size_t query(unsigned char *q, const char *name, int qtype)
{
	unsigned char head[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t n = sizeof head;
	memcpy(q, head, n);
	for (const char *p = name; *p;) {
		size_t l = strcspn(p, ".");
		q[n++] = (unsigned char)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (p[l] == '.');
	}
	q[n++] = 0;
	q[n++] = (unsigned char)(qtype >> 8);
	q[n++] = (unsigned char)qtype;
	q[n++] = 0;
	q[n++] = 1;
	return n;
}

static void show(const unsigned char *r, size_t n, const struct sockaddr_in *from)
{
	char a[INET_ADDRSTRLEN] = "-", f[INET_ADDRSTRLEN];
	unsigned an = (unsigned)(r[6] << 8 | r[7]);
	if (an && n >= 4 && r[n - 6] == 0 && r[n - 5] == 4)
		inet_ntop(AF_INET, r + n - 4, a, sizeof a);
	inet_ntop(AF_INET, &from->sin_addr, f, sizeof f);
	printf("rcode %u answers %u addr %s from %s:%u\n", r[3] & 15, an, a, f,
	       ntohs(from->sin_port));
}

/* No source to check: shown as the nameserver asked. */
static struct in_addr want_addr;

static int by_tcp(struct sockaddr_in ns, const unsigned char *q, size_t n)
{
	unsigned char r[4098], l[2] = {(unsigned char)(n >> 8), (unsigned char)n};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&ns, sizeof ns) || write(s, l, 2) != 2 ||
	    write(s, q, n) != (ssize_t)n || recv(s, l, 2, MSG_WAITALL) != 2) {
		perror("tcp");
		return 1;
	}
	size_t len = (size_t)(l[0] << 8 | l[1]);
	if (len > sizeof r || recv(s, r, len, MSG_WAITALL) != (ssize_t)len)
		return 1;
	show(r, len, &(struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(53),
					  .sin_addr = want_addr});
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	struct sockaddr_in ns = nameserver();
	/* What the reply is checked against: a copy of our own, as c-ares
	 * keeps (what we pass to connect or sendto may be rewritten). */
	const struct sockaddr_in want = ns;
	want_addr = want.sin_addr;
	unsigned char q[512], r[4096];
	size_t n = query(q, argv[2], argc > 3 ? atoi(argv[3]) : 1);
	if (!strcmp(argv[1], "tcp"))
		return by_tcp(ns, q, n);
	bool connected = !strcmp(argv[1], "connected");
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (connected ? connect(s, (struct sockaddr *)&ns, sizeof ns) || send(s, q, n, 0) < 0
		      : sendto(s, q, n, 0, (struct sockaddr *)&ns, sizeof ns) < 0) {
		perror("send");
		return 1;
	}
	struct pollfd p = {.fd = s, .events = POLLIN};
	while (poll(&p, 1, 3000) == 1) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t got = recvfrom(s, r, sizeof r, 0, (struct sockaddr *)&from, &fl);
		if (got < 12)
			continue;
		if (from.sin_addr.s_addr != want.sin_addr.s_addr) {
			char f[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &from.sin_addr, f, sizeof f);
			printf("dropped a reply from %s:%u\n", f, ntohs(from.sin_port));
			continue;
		}
		show(r, (size_t)got, &from);
		return 0;
	}
	printf("timeout\n");
	return 1;
}
