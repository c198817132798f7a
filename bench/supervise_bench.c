/* supervise_bench [N]: the cost of a connect under supervision.
 * supervise_bench --dns-server: the nameserver the lookups below ask, on
 * 127.0.0.53:53; run it outside supervision (bench/supervise.sh does).
 *
 * Listens on 127.0.0.5:9100 itself (a thread accepts and closes), then
 * times N rounds of socket + blocking connect + close to
 *   unmapped  127.0.0.5:9100, which no rule names
 *   mapped    127.0.0.9:80, for the rule 127.0.0.9:80 = 127.0.0.5:9100
 *             (skipped when not supervised: nothing listens there)
 * the same with UDP sockets (no handshake: the call's own cost), and N
 * send() calls on a connected UDP socket (sendto without an address:
 * the filter lets them through without a notification). Prints the mean
 * per round in microseconds (the median of 15 batches), and when its parent is hostshim-supervise,
 * the supervisor's resident memory. Then:
 *   sendmsg    sendmsg without an address on a connected UDP socket, and
 *              a recv (the filter always traps sendmsg)
 *   lookup     a forwarded DNS lookup as Go or glibc makes one: socket,
 *              connect to the nameserver, send, recv, close
 *   parallel   1000 lookups at once, each on its own socket: how many
 *              were answered within 5 s
 * Run it in a network namespace (bench/supervise.sh does). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in at(const char *ip, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

static void *acceptor(void *arg)
{
	int l = *(int *)arg;
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c >= 0)
			close(c);
	}
	return NULL;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#define BATCHES 15

/* CPU time, in ns, of every thread of `pid` (schedstat: on-CPU time). On
 * a machine others share, wall time per call mostly measures waiting for
 * a CPU; what the calls cost the CPUs (ours and the supervisor's) does
 * not depend on that. */
static double cpu_ns(int pid)
{
	char path[64], line[128];
	double sum = 0;
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.20s/schedstat", pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (f && fgets(line, sizeof line, f))
			sum += atof(line);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return sum;
}

static int supervisor; /* our parent's pid when it is hostshim-supervise */

static double cpu_now(void)
{
	return cpu_ns(getpid()) + (supervisor ? cpu_ns(supervisor) : 0);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median over BATCHES batches of the mean per round: the machine's
 * other work shows up as outlying batches, which the median ignores. */
static double last_cpu_us; /* CPU per round over the last median() */

static double median(double (*fn)(struct sockaddr_in, int, int),
		     struct sockaddr_in sa, int n, int type)
{
	double v[BATCHES];
	double c0 = cpu_now();
	for (int b = 0; b < BATCHES; b++)
		if ((v[b] = fn(sa, n / BATCHES, type)) < 0)
			return -1;
	last_cpu_us = (cpu_now() - c0) / 1e3 / (BATCHES * (n / BATCHES));
	qsort(v, BATCHES, sizeof *v, by_value);
	return v[BATCHES / 2];
}

static void show(const char *what, double us)
{
	if (us < 0)
		printf("%-22s failed\n", what);
	else
		printf("%-22s %8.2f us   CPU %6.2f us (ours + supervisor's)\n", what, us, last_cpu_us);
}

/* Mean microseconds per connect, or -1 when one failed. */
static double connects(struct sockaddr_in sa, int n, int type)
{
	double t0 = now();
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, type, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return (now() - t0) * 1e6 / n;
}

static double sends(struct sockaddr_in unused, int n, int type)
{
	(void)unused, (void)type;
	struct sockaddr_in sa = at("127.0.0.5", 9101);
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[64] = "x";
	if (bind(r, (struct sockaddr *)&sa, sizeof sa) ||
	    connect(s, (struct sockaddr *)&sa, sizeof sa))
		return -1;
	double t0 = now();
	for (int i = 0; i < n; i++) {
		if (send(s, buf, 1, 0) != 1)
			return -1;
		if (recv(r, buf, sizeof buf, 0) < 0)
			return -1;
	}
	close(r);
	close(s);
	return (now() - t0) * 1e6 / n;
}

static double sendmsgs(struct sockaddr_in unused, int n, int type)
{
	(void)unused, (void)type;
	struct sockaddr_in sa = at("127.0.0.5", 9102);
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[64] = "x";
	struct iovec iov = {buf, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (bind(r, (struct sockaddr *)&sa, sizeof sa) ||
	    connect(s, (struct sockaddr *)&sa, sizeof sa))
		return -1;
	double t0 = now();
	for (int i = 0; i < n; i++) {
		if (sendmsg(s, &m, 0) != 1)
			return -1;
		if (recv(r, buf, sizeof buf, 0) < 0)
			return -1;
	}
	close(r);
	close(s);
	return (now() - t0) * 1e6 / n;
}

/* ---- DNS ------------------------------------------------------------------ */

#define NS "127.0.0.53"

static size_t query(unsigned char *q, unsigned id)
{
	static const unsigned char name[] = "\7example\4test";
	unsigned char head[12] = {(unsigned char)(id >> 8), (unsigned char)id, 1, 0, 0, 1};
	memset(head + 6, 0, 6);
	memcpy(q, head, 12);
	memcpy(q + 12, name, sizeof name); /* with its final 0 */
	size_t n = 12 + sizeof name;
	memcpy(q + n, "\0\1\0\1", 4); /* A, IN */
	return n + 4;
}

/* Answers every query at once: NOERROR, one A record (192.0.2.1). */
static int dns_server(void)
{
	struct sockaddr_in sa = at(NS, 53);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa)) {
		perror("dns server: bind " NS ":53");
		return 1;
	}
	unsigned char m[600];
	static const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, m, 500, 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		m[2] |= 0x80;
		m[3] = 0x80;
		m[7] = 1;
		memcpy(m + n, rr, sizeof rr);
		sendto(fd, m, (size_t)n + sizeof rr, 0, (struct sockaddr *)&from, fl);
	}
}

static double lookups(struct sockaddr_in ns, int n, int type)
{
	(void)type;
	unsigned char q[64], r[512];
	double t0 = now();
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		size_t len = query(q, (unsigned)i);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (connect(fd, (struct sockaddr *)&ns, sizeof ns) ||
		    send(fd, q, len, 0) != (ssize_t)len || poll(&p, 1, 5000) != 1 ||
		    recv(fd, r, sizeof r, 0) < 12) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return (now() - t0) * 1e6 / n;
}

#define PARALLEL 1000

static int parallel(void)
{
	static struct pollfd p[PARALLEL];
	struct sockaddr_in ns = at(NS, 53);
	unsigned char q[64], r[512];
	int answered = 0;
	for (int i = 0; i < PARALLEL; i++) {
		size_t len = query(q, (unsigned)i);
		p[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
		p[i].events = POLLIN;
		if (p[i].fd < 0 || connect(p[i].fd, (struct sockaddr *)&ns, sizeof ns) ||
		    send(p[i].fd, q, len, 0) != (ssize_t)len)
			return -1;
	}
	double end = now() + 5;
	while (answered < PARALLEL && now() < end) {
		if (poll(p, PARALLEL, 100) <= 0)
			continue;
		for (int i = 0; i < PARALLEL; i++)
			if (p[i].revents & POLLIN) {
				if (recv(p[i].fd, r, sizeof r, 0) >= 12)
					answered++;
				p[i].fd = -p[i].fd - 1; /* poll ignores it now */
			}
	}
	for (int i = 0; i < PARALLEL; i++)
		close(p[i].fd < 0 ? -p[i].fd - 1 : p[i].fd);
	return answered;
}

static void find_supervisor(void)
{
	char path[64], comm[64] = "";
	snprintf(path, sizeof path, "/proc/%d/comm", (int)getppid());
	FILE *f = fopen(path, "r");
	if (f && fgets(comm, sizeof comm, f) && !strncmp(comm, "hostshim-superv", 15))
		supervisor = (int)getppid();
	if (f)
		fclose(f);
}

static void supervisor_rss(void)
{
	char path[64], line[256];
	FILE *f;
	if (!supervisor)
		return;
	snprintf(path, sizeof path, "/proc/%d/status", (int)getppid());
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6) || !strncmp(line, "VmHWM:", 6))
			printf("supervisor %s", line);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--dns-server"))
		return dns_server();
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	struct sockaddr_in la = at("127.0.0.5", 9100);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, (struct sockaddr *)&la, sizeof la) || listen(l, 4096)) {
		perror("listen 127.0.0.5:9100");
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, acceptor, &l);
	find_supervisor();
	connects(la, n / 10, SOCK_STREAM); /* warm up */
	show("TCP connect unmapped", median(connects, la, n, SOCK_STREAM));
	double m = median(connects, at("127.0.0.9", 80), n, SOCK_STREAM);
	if (m >= 0)
		show("TCP connect mapped", m);
	/* A UDP connect has no handshake: what is left is the call itself. */
	show("UDP connect unmapped", median(connects, la, n, SOCK_DGRAM));
	show("UDP connect mapped", median(connects, at("127.0.0.9", 80), n, SOCK_DGRAM));
	show("UDP send+recv", median(sends, la, n, 0));
	show("UDP sendmsg+recv", median(sendmsgs, la, n, 0));
	show("DNS lookup (forwarded)", median(lookups, at(NS, 53), n / 4, 0));
	printf("DNS %d parallel lookups: %d answered\n", PARALLEL, parallel());
	supervisor_rss();
	return 0;
}
