/* The DNS stub: where queries to the nameservers of /etc/resolv.conf go.
 *
 * For each IPv4 nameserver it listens on the nameserver's own address
 * when that address is local (127.0.0.11 in Docker, 127.0.0.53 with
 * systemd-resolved: any loopback address is), on ports of its own, else
 * on 127.0.0.1; twice:
 *   plain  UDP and TCP on one port, for connected sockets (Go, glibc and
 *          c-ares connect first; TCP after a truncated answer). Replies
 *          come from this address, which is what the socket is connected
 *          to. c-ares also compares the reply's source address with the
 *          nameserver's (not the port): on the nameserver's own address,
 *          that holds.
 *   spoof  UDP, for queries sent with sendto to the nameserver without a
 *          connect (musl, Python's own DNS clients). Such programs drop a
 *          reply that does not come from the address they compare with,
 *          so the reply goes out twice (see reply()): from the stub, and
 *          through a raw socket with the nameserver's address and port 53
 *          as its source (CAP_NET_RAW; without it, only the first, which
 *          a program checking the source port too, dnspython, drops).
 * Mapped names are answered here, on a thread per query (resolving the
 * targets may take a while); every other query goes unchanged to the
 * nameserver the program asked, from a socket of its own, and its answer
 * back unchanged: those wait in one event loop, not a thread each, so
 * forwarding costs a few system calls. IPv6 nameservers are not
 * redirected. */
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
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"

#define UPSTREAM_TIMEOUT_MS 5000
#define MSG_MAX 65535
/* Mapped names and TCP connections in flight, each on a thread; more are
 * dropped (clients retry). Mapped names have a budget of their own:
 * nothing forwarded holds up an answer the stub gives itself. */
#define JOBS_MAX 128
/* Forwarded UDP queries in flight, each with a socket of its own. */
#define FORWARD_MAX 4096
#define RCVBUF (4 << 20) /* a burst of queries waits here: rmem_max caps it */

struct nameserver stub_ns[MAX_NS];
size_t stub_nns;

static int udp_plain[MAX_NS], udp_spoof[MAX_NS], tcp_plain[MAX_NS];
static int raw_fd = -1;
enum { JOB_LOCAL, JOB_TCP, JOB_KINDS };
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
	int size = RCVBUF;
	if (fd < 0)
		return -1;
	if (type == SOCK_DGRAM)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (bind(fd, (struct sockaddr *)at, sizeof *at) ||
	    getsockname(fd, (struct sockaddr *)at, &len) ||
	    (type == SOCK_STREAM && listen(fd, 256))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* UDP and TCP on the same port: a connect can't tell which. */
static bool open_plain(size_t i, struct in_addr on)
{
	for (int tries = 0; tries < 20; tries++) {
		struct sockaddr_in at = {.sin_family = AF_INET, .sin_addr = on};
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

/* The nameserver's own address if it is one of ours (c-ares compares a
 * reply's source address with it), else loopback. */
static bool open_ns(size_t i)
{
	struct in_addr own = stub_ns[i].real.sin_addr;
	struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
	if (!open_plain(i, own) && (errno != EADDRNOTAVAIL || !open_plain(i, lo)))
		return false;
	struct sockaddr_in at = {.sin_family = AF_INET,
				 .sin_addr = stub_ns[i].plain.sin_addr};
	if ((udp_spoof[i] = bound(SOCK_DGRAM, &at)) < 0)
		return false;
	stub_ns[i].spoof = at;
	if (stub_ns[i].plain.sin_addr.s_addr != own.s_addr)
		log_msg(LOG_INFO, "DNS stub: nameserver %s is not a local "
				  "address: its stub listens on 127.0.0.1, and "
				  "resolvers that check where a reply comes from "
				  "(c-ares: Node's dns.resolve*) drop its answers",
			inet_ntoa(own));
	return true;
}

bool stub_open(void)
{
	read_resolv_conf();
	for (size_t i = 0; i < stub_nns; i++) {
		if (!open_ns(i)) {
			log_msg(LOG_ERROR, "DNS stub: cannot listen: %s", strerror(errno));
			stub_nns = i;
			return false;
		}
	}
	raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw_fd < 0 && stub_nns)
		log_msg(LOG_INFO, "DNS stub: no raw socket (%s; CAP_NET_RAW, which "
				  "USER nobody lacks): a query sent without "
				  "connect() is answered from %s:%u, not port 53. "
				  "Go, glibc, musl and c-ares accept that; a "
				  "resolver that checks the source port too "
				  "(dnspython) won't see mapped names",
			strerror(errno), inet_ntoa(stub_ns[0].spoof.sin_addr),
			ntohs(stub_ns[0].spoof.sin_port));
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

/* A TCP query to the real nameserver; its answer, or 0. */
static size_t upstream_tcp(const struct job *j, unsigned char *out)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t got = 0;
	unsigned char l[2] = {(unsigned char)(j->len >> 8), (unsigned char)j->len};
	if (fd < 0)
		return 0;
	if (!connect(fd, (const struct sockaddr *)&stub_ns[j->ns].real,
		     sizeof stub_ns[j->ns].real) &&
	    io_all(fd, l, 2, true) && io_all(fd, (void *)j->msg, j->len, true) &&
	    io_all(fd, l, 2, false)) {
		got = (size_t)(l[0] << 8 | l[1]);
		if (!io_all(fd, out, got, false))
			got = 0;
	}
	close(fd);
	return got;
}

/* A UDP reply that appears to come from the nameserver itself. */
static void send_spoofed(const struct sockaddr_in *client, int ns,
			 const unsigned char *msg, size_t len)
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
	ip->saddr = stub_ns[ns].real.sin_addr.s_addr;
	ip->daddr = client->sin_addr.s_addr;
	/* tot_len, id and the header checksum are the kernel's to fill in;
	 * a zero UDP checksum means "none", which IPv4 allows. */
	udp->source = htons(53);
	udp->dest = client->sin_port;
	udp->len = htons((uint16_t)(sizeof *udp + len));
	memcpy(pkt + sizeof *ip + sizeof *udp, msg, len);
	sendto(raw_fd, pkt, sizeof *ip + sizeof *udp + len, 0,
	       (const struct sockaddr *)client, sizeof *client);
}

/* A query sent with sendto gets two copies of the reply. Which source a
 * program accepts depends on where it keeps the address it compares:
 * musl compares with the very buffer it passed to sendto, which we
 * rewrote to the stub's address; a program that compares with its own
 * copy (dnspython, for one) wants the nameserver's. Each drops the copy
 * it does not expect, and a resolver drops a second answer to an ID it
 * already has. */
static void reply(int fd, bool spoof, int ns, const struct sockaddr_in *client,
		  const unsigned char *msg, size_t len)
{
	if (spoof && raw_fd >= 0)
		send_spoofed(client, ns, msg, len);
	sendto(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT,
	       (const struct sockaddr *)client, sizeof *client);
}

/* A mapped name, on a thread of its own: its targets are resolved. */
static void *udp_job(void *arg)
{
	struct job *j = arg;
	int j_kind = j->kind;
	unsigned char *out = malloc(MSG_MAX);
	size_t n = out ? local_answer(j->msg, j->len, out) : 0;
	if (n)
		reply(j->fd, j->spoof, j->ns, &j->client, out, n);
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
			n = upstream_tcp(q, out + 2);
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

/* A thread per job, so that a slow target lookup holds up no other; a
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

/* Whether a rule names the query's name: cheap (no lookup). */
static bool is_mapped(const unsigned char *msg, size_t len)
{
	struct dns_query q;
	struct match m;
	char name[NAME_MAX_LEN + 1];
	return dns_parse_query(msg, len, &q) && name_canonical(q.name, name) &&
	       lib_match_name(name, &m);
}

/* ---- forwarding: the event loop --------------------------------------- */

/* A forwarded UDP query waiting for its answer, on the upstream socket
 * `fd`; in a FIFO by deadline (they all wait as long). */
struct forward {
	int fd;
	int from;	/* the stub socket the query came in on */
	int ns;
	bool spoof;
	unsigned char id[2];
	struct sockaddr_in client;
	struct timespec deadline;
	struct forward *prev, *next;
};

static int ep = -1;
static struct forward *fifo_head, *fifo_tail;
static size_t nforward, forward_max = FORWARD_MAX;
/* epoll data for the listening sockets: small integers, never pointers */
#define LISTENER_TAG(k) ((uint64_t)(k) + 1)
#define LISTENERS (3 * MAX_NS)

static void forward_done(struct forward *f)
{
	close(f->fd); /* leaves the epoll set with it: never dup'd */
	if (f->prev)
		f->prev->next = f->next;
	else
		fifo_head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		fifo_tail = f->prev;
	nforward--;
	free(f);
}

static void forward(int from, int ns, bool spoof, const struct sockaddr_in *client,
		    const unsigned char *msg, size_t len)
{
	if (nforward >= forward_max)
		return; /* dropped, as a busy server would: the client retries */
	struct forward *f = malloc(sizeof *f);
	if (!f)
		return;
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};
	if (f->fd < 0 ||
	    connect(f->fd, (const struct sockaddr *)&stub_ns[ns].real,
		    sizeof stub_ns[ns].real) ||
	    send(f->fd, msg, len, 0) != (ssize_t)len ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &ev)) {
		if (f->fd >= 0)
			close(f->fd);
		free(f);
		return;
	}
	f->from = from, f->ns = ns, f->spoof = spoof, f->client = *client;
	memcpy(f->id, msg, 2);
	clock_gettime(CLOCK_MONOTONIC, &f->deadline);
	f->deadline.tv_sec += UPSTREAM_TIMEOUT_MS / 1000;
	f->prev = fifo_tail, f->next = NULL;
	if (fifo_tail)
		fifo_tail->next = f;
	else
		fifo_head = f;
	fifo_tail = f;
	nforward++;
}

static void answered(struct forward *f)
{
	static unsigned char out[MSG_MAX];
	ssize_t n;
	while ((n = recv(f->fd, out, sizeof out, 0)) >= 0 || errno == EINTR) {
		if (n >= 12 && !memcmp(out, f->id, 2)) { /* the same ID */
			reply(f->from, f->spoof, f->ns, &f->client, out, (size_t)n);
			forward_done(f);
			return;
		}
	}
	if (errno != EAGAIN)
		forward_done(f); /* refused (ICMP): the client times out */
}

/* Drops the forwards past their deadline; ms until the next one's. */
static int expire(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	while (fifo_head) {
		long ms = (fifo_head->deadline.tv_sec - now.tv_sec) * 1000 +
			  (fifo_head->deadline.tv_nsec - now.tv_nsec) / 1000000;
		if (ms > 0)
			return (int)ms + 1;
		forward_done(fifo_head);
	}
	return -1;
}

static void udp_ready(int fd, int ns, bool spoof)
{
	static unsigned char msg[MSG_MAX];
	for (int batch = 0; batch < 64; batch++) {
		struct sockaddr_in client;
		socklen_t alen = sizeof client;
		ssize_t n = recvfrom(fd, msg, sizeof msg, MSG_DONTWAIT,
				     (struct sockaddr *)&client, &alen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		if (n < 12)
			continue;
		if (!is_mapped(msg, (size_t)n)) {
			forward(fd, ns, spoof, &client, msg, (size_t)n);
			continue;
		}
		struct job *j = malloc(sizeof *j + (size_t)n);
		if (!j)
			continue;
		j->ns = ns, j->fd = fd, j->spoof = spoof, j->tcp = false;
		j->client = client, j->len = (size_t)n, j->kind = JOB_LOCAL;
		memcpy(j->msg, msg, (size_t)n);
		start_job(udp_job, j);
	}
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

static int listener_fd(size_t k)
{
	size_t i = k / 3;
	return k % 3 == 0 ? udp_plain[i] : k % 3 == 1 ? udp_spoof[i] : tcp_plain[i];
}

static void *stub_loop(void *arg)
{
	(void)arg;
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(ep, evs, 64, expire());
		for (int e = 0; e < n; e++) {
			uint64_t tag = evs[e].data.u64;
			if (tag > LISTENERS) {
				answered(evs[e].data.ptr);
				continue;
			}
			size_t k = (size_t)tag - 1;
			if (k % 3 == 2)
				tcp_ready(listener_fd(k), (int)(k / 3));
			else
				udp_ready(listener_fd(k), (int)(k / 3), k % 3 == 1);
		}
	}
	return NULL;
}

/* Room for the forwards' sockets: the soft limit up to the hard one
 * (after COMMAND was spawned, so that COMMAND keeps its own). */
static void raise_files_limit(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r))
		return;
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
		getrlimit(RLIMIT_NOFILE, &r);
	}
	if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < FORWARD_MAX + 256)
		forward_max = r.rlim_cur > 512 ? r.rlim_cur - 256 : 256;
}

void stub_start(void)
{
	pthread_t t;
	if (!stub_nns)
		return;
	raise_files_limit();
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (size_t k = 0; ep >= 0 && k < 3 * stub_nns; k++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LISTENER_TAG(k)};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, listener_fd(k), &ev)) {
			close(ep);
			ep = -1;
		}
	}
	if (ep < 0 || pthread_create(&t, NULL, stub_loop, NULL))
		log_msg(LOG_ERROR, "DNS stub: cannot start its thread: %s", strerror(errno));
}
