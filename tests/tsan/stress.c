/* stress: THREADS threads hammer the library's hooks at once, for
 * ThreadSanitizer (tests/tsan/run.sh, with stress.ini).
 *
 * usage: stress THREADS ROUNDS
 * Listeners (started here, before the threads): TCP 127.0.0.5:9000,
 * 127.0.0.5:9443, 127.0.0.6:8080, 127.0.0.5:9001, 127.0.0.7:7000, each
 * answering one byte that names it; UDP 127.0.0.5:5353, 127.0.0.6:5353.
 * Each round of each thread does one of these, in turn:
 *   getaddrinfo(auth.localhost) + connect :80       -> 127.0.0.5:9000
 *   getaddrinfo(auth.localhost, "443") + connect    -> 127.0.0.5:9443
 *   getaddrinfo(nN.api.localhost), N of 1000 names  -> 127.0.0.6:8080
 *   connect 127.0.0.1:80 (address rule)             -> 127.0.0.5:9001
 *   getaddrinfo(plain.test) (unmapped) + connect    -> 127.0.0.7:7000
 *   gethostbyname_r(auth.localhost) + connect :80   -> 127.0.0.5:9000
 *   AF_INET6 + AI_V4MAPPED, AF_INET6 socket :80     -> 127.0.0.5:9000
 *   getnameinfo + gethostbyaddr_r of a synthetic address -> the name
 *   sendto the synthetic address of dns.localhost:53 -> 127.0.0.5:5353
 *   sendto / sendmsg 127.0.0.1:5353 (address rule)  -> 127.0.0.6:5353
 *   getaddrinfo(nx.test): fails as libc fails
 *   getaddrinfo(mover.localhost) + connect :80      -> 127.0.0.11-16:7100
 * and checks the answer. mover.test, the target of mover.localhost, is
 * answered by tests/integration/hs_dns.py (started by run.sh) in rotating
 * order, and its addresses change every few queries: the target moves
 * while the threads connect; any of its six listeners is right. Meanwhile
 * a thread rewrites the configuration file every 150 ms (by rename, and in
 * place, with the same rules), so the library reloads it about once a
 * second while the others look up and connect. An operation is one
 * hooked call. (Lookups cut off by pthread_cancel are not done here:
 * TSan's interceptors do not survive a cancellation inside them, "thread
 * finished with ignores enabled"; tests/integration/test_abandoned.py
 * does them.)
 * Output: "threads=T rounds=R operations=N bad=B udp_sent=S udp_received=U",
 * then up to 10 "bad ..." lines. Exit 0 iff bad=0 and UDP arrived. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { L9000, L9443, L8080, L9001, L7000, LM1, LM2, LM3, LM4, LM5, LM6, NLISTEN };
#define LMOVER (-1) /* any of LM1..LM6 */
static const struct {
	const char *ip;
	int port;
} listen_at[NLISTEN] = {{"127.0.0.5", 9000}, {"127.0.0.5", 9443},
			{"127.0.0.6", 8080}, {"127.0.0.5", 9001},
			{"127.0.0.7", 7000}, {"127.0.0.11", 7100},
			{"127.0.0.12", 7100}, {"127.0.0.13", 7100},
			{"127.0.0.14", 7100}, {"127.0.0.15", 7100},
			{"127.0.0.16", 7100}};
static int listen_fd[NLISTEN];
static int udp_fd[2];
static atomic_int stopping;
static atomic_long ops, bad, udp_sent, udp_received, rewrites;
static pthread_mutex_t bad_lock = PTHREAD_MUTEX_INITIALIZER;
static char bad_lines[10][256];
static int rounds;

static void report_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report_bad(const char *fmt, ...)
{
	long n = atomic_fetch_add(&bad, 1);
	if (n >= 10)
		return;
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&bad_lock);
	vsnprintf(bad_lines[n], sizeof bad_lines[n], fmt, ap);
	pthread_mutex_unlock(&bad_lock);
	va_end(ap);
}

static void *accept_loop(void *arg)
{
	int i = (int)(long)arg;
	char id = (char)('A' + i);
	for (;;) {
		int c = accept(listen_fd[i], NULL, NULL);
		if (c < 0) {
			if (atomic_load(&stopping))
				return NULL;
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			return NULL;
		}
		if (write(c, &id, 1) != 1)
			; /* the client gave up: it reports that itself */
		close(c);
	}
}

static void *udp_loop(void *arg)
{
	int fd = udp_fd[(long)arg];
	char buf[64];
	for (;;) {
		if (recv(fd, buf, sizeof buf, 0) > 0)
			atomic_fetch_add(&udp_received, 1);
		else if (atomic_load(&stopping))
			return NULL; /* stopped, and 100 ms without a datagram */
	}
}

static int listener(const char *ip, int port, int type)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &sin.sin_addr);
	int fd = socket(AF_INET, type, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) ||
	    (type == SOCK_STREAM && listen(fd, 4096))) {
		fprintf(stderr, "stress: listener %s:%d: %s\n", ip, port, strerror(errno));
		exit(2);
	}
	if (type == SOCK_DGRAM) {
		struct timeval tv = {.tv_usec = 100000};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		int size = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	}
	return fd;
}

/* Connects to sa on a fresh socket and checks the listener's byte. */
static void connect_expect(const struct sockaddr *sa, socklen_t len, int want,
			   const char *what)
{
	int fd = socket(sa->sa_family, SOCK_STREAM, 0);
	char id = 0;
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	atomic_fetch_add(&ops, 1);
	if (connect(fd, sa, len) != 0) {
		report_bad("%s: connect: %s", what, strerror(errno));
	} else if (read(fd, &id, 1) != 1) {
		report_bad("%s: read: %s", what, strerror(errno));
	} else if (want == LMOVER ? (id < 'A' + LM1 || id > 'A' + LM6) : id != 'A' + want) {
		report_bad("%s: reached listener %c, not %c", what, id, 'A' + want);
	}
	close(fd);
}

static void set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

static int synthetic(const struct sockaddr *sa)
{
	const unsigned char *b;
	if (sa->sa_family == AF_INET)
		b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
	else
		b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr + 12;
	return b[0] == 127 && b[1] == 88;
}

/* getaddrinfo, then connect the first answer on `port`. */
static void lookup_connect(const char *name, const char *service, int family,
			   int flags, int port, int want, int expect_synthetic)
{
	struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM,
				 .ai_flags = flags},
			*res;
	atomic_fetch_add(&ops, 1);
	int rc = getaddrinfo(name, service, &hints, &res);
	if (rc) {
		report_bad("getaddrinfo(%s): %s", name, gai_strerror(rc));
		return;
	}
	struct sockaddr_storage ss;
	memcpy(&ss, res->ai_addr, res->ai_addrlen);
	socklen_t len = res->ai_addrlen;
	freeaddrinfo(res);
	if (synthetic((struct sockaddr *)&ss) != expect_synthetic) {
		report_bad("getaddrinfo(%s): synthetic=%d", name, !expect_synthetic);
		return;
	}
	if (port)
		set_port((struct sockaddr *)&ss, port);
	connect_expect((struct sockaddr *)&ss, len, want, name);
}

static void reverse(void)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	atomic_fetch_add(&ops, 1);
	if (getaddrinfo("auth.localhost", NULL, &hints, &res)) {
		report_bad("getaddrinfo(auth.localhost) for reverse");
		return;
	}
	char host[NI_MAXHOST];
	atomic_fetch_add(&ops, 1);
	int rc = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, NULL, 0,
			     NI_NAMEREQD);
	if (rc || strcmp(host, "auth.localhost"))
		report_bad("getnameinfo: rc %d host %s", rc, rc ? "-" : host);
	struct hostent he, *r = NULL;
	char buf[1024];
	int herr;
	atomic_fetch_add(&ops, 1);
	gethostbyaddr_r(&((struct sockaddr_in *)res->ai_addr)->sin_addr, 4, AF_INET, &he,
			buf, sizeof buf, &r, &herr);
	if (!r || strcmp(r->h_name, "auth.localhost"))
		report_bad("gethostbyaddr_r: %s", r ? r->h_name : "no answer");
	freeaddrinfo(res);
}

static void hostent_connect(void)
{
	struct hostent he, *r = NULL;
	char buf[1024];
	int herr = 0;
	atomic_fetch_add(&ops, 1);
	gethostbyname_r("auth.localhost", &he, buf, sizeof buf, &r, &herr);
	if (!r) {
		report_bad("gethostbyname_r(auth.localhost): h_errno %d", herr);
		return;
	}
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
	memcpy(&sin.sin_addr, r->h_addr_list[0], 4);
	if (!synthetic((struct sockaddr *)&sin)) {
		report_bad("gethostbyname_r(auth.localhost): not synthetic");
		return;
	}
	connect_expect((struct sockaddr *)&sin, sizeof sin, L9000, "gethostbyname_r");
}

static void udp_send(int use_msg, int by_name)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(by_name ? 53 : 5353)};
	if (by_name) {
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res;
		atomic_fetch_add(&ops, 1);
		if (getaddrinfo("dns.localhost", "53", &hints, &res)) {
			report_bad("getaddrinfo(dns.localhost)");
			return;
		}
		memcpy(&sin, res->ai_addr, sizeof sin);
		freeaddrinfo(res);
	} else {
		inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char byte = 'u';
	ssize_t n;
	atomic_fetch_add(&ops, 1);
	if (use_msg) {
		struct iovec iov = {.iov_base = &byte, .iov_len = 1};
		struct msghdr msg = {.msg_name = &sin, .msg_namelen = sizeof sin,
				     .msg_iov = &iov, .msg_iovlen = 1};
		n = sendmsg(fd, &msg, 0);
	} else {
		n = sendto(fd, &byte, 1, 0, (struct sockaddr *)&sin, sizeof sin);
	}
	if (n != 1)
		report_bad("%s to %s: %s", use_msg ? "sendmsg" : "sendto",
			   by_name ? "dns.localhost:53" : "127.0.0.1:5353", strerror(errno));
	else
		atomic_fetch_add(&udp_sent, 1);
	close(fd);
}

static void unmapped_failure(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	atomic_fetch_add(&ops, 1);
	int rc = getaddrinfo("nx.test", NULL, &hints, &res);
	if (rc == 0) {
		report_bad("getaddrinfo(nx.test) succeeded");
		freeaddrinfo(res);
	}
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(long)arg * 2654435761u;
	char name[64];
	for (int i = 0; i < rounds; i++) {
		int op = (i + (int)(long)arg) % 13;
		switch (op) {
		case 0:
			lookup_connect("auth.localhost", NULL, AF_UNSPEC, AI_ADDRCONFIG, 80, L9000, 1);
			break;
		case 1:
			lookup_connect("auth.localhost", "443", AF_INET, 0, 0, L9443, 1);
			break;
		case 2:
			seed = seed * 1103515245u + 12345u;
			snprintf(name, sizeof name, "n%u.api.localhost", (seed >> 8) % 1000);
			lookup_connect(name, NULL, AF_UNSPEC, 0, 8080, L8080, 1);
			break;
		case 3: {
			struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
			inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
			connect_expect((struct sockaddr *)&sin, sizeof sin, L9001, "127.0.0.1:80");
			break;
		}
		case 4:
			lookup_connect("plain.test", "7000", AF_INET, 0, 0, L7000, 0);
			break;
		case 5:
			hostent_connect();
			break;
		case 6:
			lookup_connect("auth.localhost", NULL, AF_INET6, AI_V4MAPPED, 80, L9000, 1);
			break;
		case 7:
			reverse();
			break;
		case 8:
			udp_send(0, 1);
			break;
		case 9:
			udp_send(0, 0);
			break;
		case 10:
			udp_send(1, 0);
			break;
		case 11:
			unmapped_failure();
			break;
		case 12:
			lookup_connect("mover.localhost", NULL, AF_UNSPEC, 0, 80, LMOVER, 1);
			break;
		}
	}
	return NULL;
}

/* Writes the file's own text back, alternately in place and by rename,
 * with a comment that changes its size: an edit every time. */
static void *rewriter(void *arg)
{
	const char *path = arg;
	char text[4096], tmp[4200];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof text - 64, f) : 0;
	if (f)
		fclose(f);
	snprintf(tmp, sizeof tmp, "%s.new", path);
	for (unsigned i = 0; n && !atomic_load(&stopping); i++) {
		const char *to = i % 2 ? tmp : path;
		f = fopen(to, "w");
		if (!f)
			break;
		fwrite(text, 1, n, f);
		fprintf(f, "; rewrite %u%*s\n", i, (int)(i % 7), "");
		fclose(f);
		chmod(to, 0600);
		if (i % 2)
			rename(tmp, path);
		atomic_fetch_add(&rewrites, 1);
		nanosleep(&(struct timespec){0, 150 * 1000000}, NULL);
	}
	return NULL;
}

/* Address rules' named targets resolve in the background from when the
 * rules load (SPEC 13): until they have, a connect through them fails at
 * once with EHOSTUNREACH, and under TSan that can take a while. Waits for
 * both (5 s at most), so that any later failure is a real one. */
static void warm_up(void)
{
	for (int tries = 0; tries < 100; tries++) {
		struct sockaddr_in tcp = {.sin_family = AF_INET, .sin_port = htons(80)},
				   udp = {.sin_family = AF_INET, .sin_port = htons(5353)};
		inet_pton(AF_INET, "127.0.0.1", &tcp.sin_addr);
		inet_pton(AF_INET, "127.0.0.1", &udp.sin_addr);
		int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
		bool ok = connect(t, (struct sockaddr *)&tcp, sizeof tcp) == 0 &&
			  sendto(u, "w", 1, 0, (struct sockaddr *)&udp, sizeof udp) == 1;
		if (ok)
			atomic_fetch_add(&udp_sent, 1); /* the echo counts it */
		close(t);
		close(u);
		if (ok)
			return;
		nanosleep(&(struct timespec){0, 50 * 1000000}, NULL);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: stress THREADS ROUNDS\n");
		return 2;
	}
	int threads = atoi(argv[1]);
	rounds = atoi(argv[2]);
	pthread_t acceptors[NLISTEN], udp_threads[2], *workers = calloc(threads, sizeof *workers);
	for (int i = 0; i < NLISTEN; i++) {
		listen_fd[i] = listener(listen_at[i].ip, listen_at[i].port, SOCK_STREAM);
		pthread_create(&acceptors[i], NULL, accept_loop, (void *)(long)i);
	}
	udp_fd[0] = listener("127.0.0.5", 5353, SOCK_DGRAM);
	udp_fd[1] = listener("127.0.0.6", 5353, SOCK_DGRAM);
	for (long i = 0; i < 2; i++)
		pthread_create(&udp_threads[i], NULL, udp_loop, (void *)i);
	warm_up();
	pthread_t rewrite_thread;
	const char *config = getenv("HOSTSHIM_CONFIG");
	if (config)
		pthread_create(&rewrite_thread, NULL, rewriter, (void *)config);
	for (long i = 0; i < threads; i++)
		pthread_create(&workers[i], NULL, worker, (void *)i);
	for (int i = 0; i < threads; i++)
		pthread_join(workers[i], NULL);
	atomic_store(&stopping, 1);
	if (config)
		pthread_join(rewrite_thread, NULL);
	for (int i = 0; i < NLISTEN; i++) {
		shutdown(listen_fd[i], SHUT_RDWR);
		pthread_join(acceptors[i], NULL);
		close(listen_fd[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(udp_threads[i], NULL);
	printf("threads=%d rounds=%d operations=%ld bad=%ld udp_sent=%ld udp_received=%ld "
	       "rewrites=%ld\n",
	       threads, threads * rounds, atomic_load(&ops), atomic_load(&bad),
	       atomic_load(&udp_sent), atomic_load(&udp_received), atomic_load(&rewrites));
	for (long i = 0; i < atomic_load(&bad) && i < 10; i++)
		printf("bad %s\n", bad_lines[i]);
	free(workers);
	return atomic_load(&bad) == 0 && atomic_load(&udp_received) > 0 ? 0 : 1;
}
