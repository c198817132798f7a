/* The DNS stub: where queries to the nameservers of /etc/resolv.conf go.
 *
 * For each IPv4 nameserver it listens on loopback (in the supervisor's
 * network namespace, which is the child's) twice:
 *   plain  UDP and TCP on one port, for connected sockets (Go, glibc and
 *          c-ares connect first; TCP after a truncated answer). Replies
 *          come from this address, which is what the socket is connected to.
 *   spoof  UDP, for queries sent with sendto to the nameserver without a
 *          connect (musl, Python's own DNS clients). Such programs drop a
 *          reply that does not come from the address they compare with,
 *          so the reply goes out twice (see reply()): from the stub, and
 *          through a raw socket with the nameserver's address and port 53
 *          as its source (CAP_NET_RAW, in Docker's default set; without
 *          it, only the first).
 * Mapped names are answered here; every other query goes unchanged to
 * the nameserver the program asked, and its answer back unchanged. Each
 * query is handled on a thread of its own, so a slow upstream or target
 * lookup holds up nobody else. IPv6 nameservers are not redirected. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervise.h"

#define UPSTREAM_TIMEOUT_MS 5000
#define MSG_MAX 65535
/* Queries in flight, per kind; more are dropped (clients retry). Mapped
 * names have a budget of their own: forwarded queries stuck on a slow
 * upstream never hold up an answer the stub gives itself. */
#define JOBS_MAX 128

struct nameserver stub_ns[MAX_NS];
size_t stub_nns;

static int udp_plain[MAX_NS], udp_spoof[MAX_NS], tcp_plain[MAX_NS];
static int raw_fd = -1;
enum { JOB_LOCAL, JOB_FORWARD, JOB_TCP, JOB_KINDS };
static atomic_int jobs[JOB_KINDS];

struct job {
	int ns;		   /* index into stub_ns */
	int fd;		   /* UDP: the socket the query came in on; TCP: the
			    * accepted connection */
	bool spoof, tcp;
	int kind;	   /* JOB_*: whose budget it counts against */
	struct sockaddr_in client;
	size_t len;
	unsigned char msg[];
};

static void read_resolv_conf(void)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[512], word[64], addr[64];
	if (!f)
		return;
	while (fgets(line, sizeof line, f) && stub_nns < MAX_NS) {
		struct in_addr a;
		if (sscanf(line, " %63s %63s", word, addr) != 2 ||
		    strcmp(word, "nameserver") || inet_pton(AF_INET, addr, &a) != 1)
			continue;
		struct sockaddr_in *ns = &stub_ns[stub_nns++].real;
		ns->sin_family = AF_INET;
		ns->sin_addr = a;
		ns->sin_port = htons(53);
	}
	fclose(f);
}

static int bound(int type, struct sockaddr_in *at)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof *at;
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)at, sizeof *at) ||
	    getsockname(fd, (struct sockaddr *)at, &len) ||
	    (type == SOCK_STREAM && listen(fd, 64))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* UDP and TCP on the same loopback port: a connect can't tell which. */
static bool open_plain(size_t i)
{
	for (int tries = 0; tries < 20; tries++) {
		struct sockaddr_in at = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		udp_plain[i] = bound(SOCK_DGRAM, &at);
		if (udp_plain[i] < 0)
			return false;
		tcp_plain[i] = bound(SOCK_STREAM, &at);
		if (tcp_plain[i] >= 0) {
			stub_ns[i].plain = at;
			return true;
		}
		close(udp_plain[i]);
	}
	return false;
}

bool stub_open(void)
{
	read_resolv_conf();
	for (size_t i = 0; i < stub_nns; i++) {
		struct sockaddr_in at = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (!open_plain(i) || (udp_spoof[i] = bound(SOCK_DGRAM, &at)) < 0) {
			log_msg(LOG_ERROR, "DNS stub: cannot listen on loopback: %s",
				strerror(errno));
			stub_nns = i;
			return false;
		}
		stub_ns[i].spoof = at;
	}
	raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw_fd < 0 && stub_nns)
		log_msg(LOG_INFO, "DNS stub: no raw socket (%s): programs that "
				  "query without connecting and check the reply's "
				  "source against their own copy of the nameserver "
				  "won't see mapped names", strerror(errno));
	return true;
}

int stub_ns_index(const struct sockaddr *sa, socklen_t len)
{
	struct in_addr a;
	uint16_t port;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		a = ((const struct sockaddr_in *)sa)->sin_addr;
		port = ((const struct sockaddr_in *)sa)->sin_port;
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6) &&
		   IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		memcpy(&a, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr + 12, 4);
		port = ((const struct sockaddr_in6 *)sa)->sin6_port;
	} else {
		return -1;
	}
	if (port != htons(53))
		return -1;
	for (size_t i = 0; i < stub_nns; i++)
		if (stub_ns[i].real.sin_addr.s_addr == a.s_addr)
			return (int)i;
	return -1;
}

/* ---- answering one query -------------------------------------------- */

/* Our answer for a mapped name, or 0: forward it. */
static size_t local_answer(const unsigned char *msg, size_t len,
			   unsigned char *out)
{
	struct dns_query q;
	struct synth_answer a;
	if (!dns_parse_query(msg, len, &q))
		return 0;
	targets_answer(q.name, &a);
	if (!a.mapped)
		return 0;
	log_msg(LOG_DEBUG, "DNS stub: %s type %u answered here", q.name, q.qtype);
	return dns_answer(msg, &q, &a, out);
}

static bool wait_for(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;
	do
		n = poll(&p, 1, UPSTREAM_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

static bool io_all(int fd, void *buf, size_t len, bool writing)
{
	unsigned char *p = buf;
	while (len) {
		if (!wait_for(fd, writing ? POLLOUT : POLLIN))
			return false;
		ssize_t n = writing ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Sends the query to the real nameserver; its answer, or 0. */
static size_t upstream(const struct job *j, unsigned char *out)
{
	int fd = socket(AF_INET, (j->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	size_t got = 0;
	if (fd < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)&stub_ns[j->ns].real,
		    sizeof stub_ns[j->ns].real) && errno != EINPROGRESS)
		goto done;
	if (j->tcp) {
		unsigned char l[2] = {(unsigned char)(j->len >> 8), (unsigned char)j->len};
		if (!io_all(fd, l, 2, true) || !io_all(fd, (void *)j->msg, j->len, true) ||
		    !io_all(fd, l, 2, false))
			goto done;
		got = (size_t)(l[0] << 8 | l[1]);
		if (!io_all(fd, out, got, false))
			got = 0;
		goto done;
	}
	if (send(fd, j->msg, j->len, 0) != (ssize_t)j->len)
		goto done;
	while (wait_for(fd, POLLIN)) {
		ssize_t n = recv(fd, out, MSG_MAX, 0);
		if (n >= 2 && !memcmp(out, j->msg, 2)) { /* the same ID */
			got = (size_t)n;
			break;
		}
		if (n < 0 && errno != EINTR)
			break;
	}
done:
	close(fd);
	return got;
}

/* A UDP reply that appears to come from the nameserver itself. */
static void send_spoofed(const struct job *j, const unsigned char *msg, size_t len)
{
	static __thread unsigned char pkt[sizeof(struct iphdr) + sizeof(struct udphdr) + MSG_MAX];
	if (len > MSG_MAX - sizeof(struct iphdr) - sizeof(struct udphdr))
		return;
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + sizeof *ip);
	memset(pkt, 0, sizeof *ip + sizeof *udp);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = stub_ns[j->ns].real.sin_addr.s_addr;
	ip->daddr = j->client.sin_addr.s_addr;
	/* tot_len, id and the header checksum are the kernel's to fill in;
	 * a zero UDP checksum means "none", which IPv4 allows. */
	udp->source = htons(53);
	udp->dest = j->client.sin_port;
	udp->len = htons((uint16_t)(sizeof *udp + len));
	memcpy(pkt + sizeof *ip + sizeof *udp, msg, len);
	sendto(raw_fd, pkt, sizeof *ip + sizeof *udp + len, 0,
	       (const struct sockaddr *)&j->client, sizeof j->client);
}

/* A query sent with sendto gets two copies of the reply. Which source a
 * program accepts depends on where it keeps the address it compares:
 * musl compares with the very buffer it passed to sendto, which we
 * rewrote to the stub's address; a program that compares with its own
 * copy (dnspython, for one) wants the nameserver's. Each drops the copy
 * it does not expect, and a resolver drops a second answer to an ID it
 * already has. */
static void reply(const struct job *j, const unsigned char *msg, size_t len)
{
	if (j->spoof && raw_fd >= 0)
		send_spoofed(j, msg, len);
	sendto(j->fd, msg, len, MSG_NOSIGNAL,
	       (const struct sockaddr *)&j->client, sizeof j->client);
}

static void *udp_job(void *arg)
{
	struct job *j = arg;
	int j_kind = j->kind;
	unsigned char *out = malloc(MSG_MAX);
	size_t n = out ? local_answer(j->msg, j->len, out) : 0;
	if (out && !n)
		n = upstream(j, out);
	if (n)
		reply(j, out, n);
	free(out);
	free(j);
	atomic_fetch_sub(&jobs[j_kind], 1);
	return NULL;
}

/* One TCP connection: length-prefixed queries until the client closes. */
static void *tcp_job(void *arg)
{
	struct job *j = arg;
	int j_kind = j->kind;
	struct job *q = malloc(sizeof *q + MSG_MAX);
	unsigned char *out = malloc(MSG_MAX + 2);
	unsigned char l[2];
	while (q && out && io_all(j->fd, l, 2, false)) {
		*q = *j;
		q->len = (size_t)(l[0] << 8 | l[1]);
		if (!io_all(j->fd, q->msg, q->len, false))
			break;
		size_t n = local_answer(q->msg, q->len, out + 2);
		if (!n)
			n = upstream(q, out + 2);
		out[0] = (unsigned char)(n >> 8);
		out[1] = (unsigned char)n;
		if (!n || !io_all(j->fd, out, n + 2, true))
			break;
	}
	close(j->fd);
	free(q);
	free(out);
	free(j);
	atomic_fetch_sub(&jobs[j_kind], 1);
	return NULL;
}

/* A thread per query, so that a slow upstream holds up no other; a
 * bounded number, so that a flood of queries can't exhaust memory. */
static void start_job(void *(*fn)(void *), struct job *j)
{
	pthread_t t;
	pthread_attr_t attr;
	if (atomic_fetch_add(&jobs[j->kind], 1) >= JOBS_MAX) {
		atomic_fetch_sub(&jobs[j->kind], 1);
		if (j->tcp)
			close(j->fd);
		free(j);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, fn, j)) {
		atomic_fetch_sub(&jobs[j->kind], 1);
		if (j->tcp)
			close(j->fd);
		free(j);
	}
	pthread_attr_destroy(&attr);
}

/* Whether a rule names the query's name: cheap (no lookup), so the poll
 * thread can tell which budget a query belongs to. */
static bool is_mapped(const unsigned char *msg, size_t len)
{
	struct dns_query q;
	struct match m;
	char name[NAME_MAX_LEN + 1];
	return dns_parse_query(msg, len, &q) && name_canonical(q.name, name) &&
	       lib_match_name(name, &m);
}

static void udp_ready(int fd, int ns, bool spoof)
{
	struct job *j = malloc(sizeof *j + MSG_MAX);
	socklen_t alen = sizeof j->client;
	if (!j)
		return;
	ssize_t n = recvfrom(fd, j->msg, MSG_MAX, MSG_DONTWAIT,
			     (struct sockaddr *)&j->client, &alen);
	if (n < 12) {
		free(j);
		return;
	}
	j->ns = ns, j->fd = fd, j->spoof = spoof, j->tcp = false;
	j->len = (size_t)n;
	j->kind = is_mapped(j->msg, j->len) ? JOB_LOCAL : JOB_FORWARD;
	start_job(udp_job, j);
}

static void tcp_ready(int fd, int ns)
{
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	struct job *j = c >= 0 ? malloc(sizeof *j) : NULL;
	if (!j) {
		if (c >= 0)
			close(c);
		return;
	}
	memset(j, 0, sizeof *j);
	j->ns = ns, j->fd = c, j->tcp = true, j->kind = JOB_TCP;
	start_job(tcp_job, j);
}

static void *stub_loop(void *arg)
{
	(void)arg;
	struct pollfd p[3 * MAX_NS];
	size_t n = 0;
	for (size_t i = 0; i < stub_nns; i++) {
		p[n++] = (struct pollfd){.fd = udp_plain[i], .events = POLLIN};
		p[n++] = (struct pollfd){.fd = udp_spoof[i], .events = POLLIN};
		p[n++] = (struct pollfd){.fd = tcp_plain[i], .events = POLLIN};
	}
	for (;;) {
		if (poll(p, n, -1) < 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (!(p[k].revents & POLLIN))
				continue;
			int ns = (int)(k / 3);
			if (k % 3 == 2)
				tcp_ready(p[k].fd, ns);
			else
				udp_ready(p[k].fd, ns, k % 3 == 1);
		}
	}
	return NULL;
}

void stub_start(void)
{
	pthread_t t;
	if (stub_nns && pthread_create(&t, NULL, stub_loop, NULL))
		log_msg(LOG_ERROR, "DNS stub: cannot start its thread");
}
