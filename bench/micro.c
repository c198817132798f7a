/* micro: one hooked call in a loop, timed, for the hostshim benchmarks.
 *
 * usage: micro [-n ITERS] [-w WARMUP] [-t THREADS] [-l TCPPORT] [-u UDPPORT]
 *              OP HOST [PORT]
 *
 *   gai      getaddrinfo(HOST, NULL, AF_UNSPEC/SOCK_STREAM/AI_ADDRCONFIG) and
 *            freeaddrinfo: the call Node.js makes for every new connection
 *   gaisvc   getaddrinfo(HOST, PORT, AF_UNSPEC/SOCK_STREAM): Python's call
 *   ghbn     gethostbyname(HOST)
 *   tcp      socket, connect to HOST:PORT (looked up once, before the loop),
 *            close it with a reset (SO_LINGER 0: no TIME_WAIT, so no
 *            running out of ports), accept on the listener at
 *            127.0.0.1:TCPPORT and close that. The client resets its own
 *            connection once its connect has returned: in threads, a
 *            reset from the accepting side could reach another thread's
 *            socket before its connect returns (ECONNRESET).
 *   udpconn  connect a UDP socket to HOST:PORT, again and again
 *   sendto   sendto HOST:PORT from one UDP socket (a receiver that never
 *            reads is bound at 127.0.0.1:UDPPORT, so the kernel drops)
 *
 * The measured loop is bench_loop(): valgrind --tool=callgrind
 * --toggle-collect=bench_loop counts only its instructions, and WARMUP calls
 * (outside it) have bound every symbol and filled every cache first.
 * Prints one line: "op=... iters=N threads=T ns_per_op=X ops_per_s=Y
 * cpu_ns_per_op=Z fail=F": wall-clock time per call (in T threads: from
 * the first thread's start to the last one's end, over all calls: the
 * inverse of throughput) and the threads' CPU time per call, which a busy
 * machine disturbs less. Each thread times its own loop. Exits 1 when any
 * call failed: a broken setup must not pass for a fast one. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum op { OP_GAI, OP_GAISVC, OP_GHBN, OP_TCP, OP_UDPCONN, OP_SENDTO };

static const struct linger reset = {.l_onoff = 1, .l_linger = 0};

static enum op op;
static const char *host, *port;
static struct sockaddr_storage dest;
static socklen_t destlen;
static int listener = -1;
static long iters = 1000, warmup = 50;
static int nthreads = 1;
static pthread_barrier_t barrier;

struct worker {
	pthread_t tid;
	int udp; /* this thread's UDP socket */
	long fail;
	const char *what; /* the first failure: which call, and its errno */
	int err;
	struct timespec t0, t1, c0, c1; /* this thread's loop: wall, CPU */
};

static int failed(struct worker *w, const char *what, int err)
{
	if (!w->what) {
		w->what = what;
		w->err = err;
	}
	return -1;
}

__attribute__((noinline)) static int one(struct worker *w)
{
	switch (op) {
	case OP_GAI:
	case OP_GAISVC: {
		struct addrinfo hints = {.ai_family = AF_UNSPEC,
					 .ai_socktype = SOCK_STREAM},
				*res = NULL;
		if (op == OP_GAI)
			hints.ai_flags = AI_ADDRCONFIG;
		int rc = getaddrinfo(host, op == OP_GAISVC ? port : NULL,
				     &hints, &res);
		if (rc)
			return failed(w, "getaddrinfo", rc);
		freeaddrinfo(res);
		return 0;
	}
	case OP_GHBN:
		return gethostbyname(host) ? 0 : failed(w, "gethostbyname", h_errno);
	case OP_TCP: {
		int s = socket(dest.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return failed(w, "socket", errno);
		int rc = connect(s, (struct sockaddr *)&dest, destlen);
		if (rc) {
			failed(w, "connect", errno);
			close(s);
			return rc;
		}
		setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
		close(s);
		int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			return failed(w, "accept", errno);
		close(c);
		return 0;
	}
	case OP_UDPCONN:
		return connect(w->udp, (struct sockaddr *)&dest, destlen)
			       ? failed(w, "connect", errno)
			       : 0;
	case OP_SENDTO:
		return sendto(w->udp, "x", 1, 0, (struct sockaddr *)&dest,
			      destlen) == 1
			       ? 0
			       : failed(w, "sendto", errno);
	}
	return -1;
}

/* The measured loop: callgrind collects inside this function only. */
__attribute__((noinline)) void bench_loop(struct worker *w, long n)
{
	for (long i = 0; i < n; i++)
		if (one(w))
			w->fail++;
	__asm__ volatile("" ::: "memory");
}

static void *run(void *arg)
{
	struct worker *w = arg;
	for (long i = 0; i < warmup; i++)
		if (one(w))
			w->fail++;
	pthread_barrier_wait(&barrier);
	/* Timed here, not in main: main may be scheduled late after the
	 * barrier, when the loop has long started. */
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &w->c0);
	bench_loop(w, iters);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &w->c1);
	clock_gettime(CLOCK_MONOTONIC, &w->t1);
	return NULL;
}

static int bound_socket(int type, int port_no)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port_no),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one_ = 1, s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one_, sizeof one_);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static void die(const char *what)
{
	fprintf(stderr, "micro: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: micro [-n ITERS] [-w WARMUP] [-t THREADS] "
			"[-l TCPPORT] [-u UDPPORT] "
			"gai|gaisvc|ghbn|tcp|udpconn|sendto HOST [PORT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int opt, tcp_port = 0, udp_port = 0, recv_sock = -1;
	while ((opt = getopt(argc, argv, "n:w:t:l:u:")) != -1) {
		switch (opt) {
		case 'n': iters = atol(optarg); break;
		case 'w': warmup = atol(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'l': tcp_port = atoi(optarg); break;
		case 'u': udp_port = atoi(optarg); break;
		default: usage();
		}
	}
	if (argc - optind < 2 || nthreads < 1 || nthreads > 64 || iters < 1)
		usage();
	const char *name = argv[optind];
	host = argv[optind + 1];
	port = argc - optind > 2 ? argv[optind + 2] : "80";
	static const char *const names[] = {"gai", "gaisvc", "ghbn",
					    "tcp", "udpconn", "sendto"};
	for (op = 0; op < 6 && strcmp(name, names[op]); op++)
		;
	if (op == 6)
		usage();

	if (op >= OP_TCP) {
		/* The destination is looked up once, outside the loop, the
		 * way a program does: a mapped name gets its synthetic
		 * address here and connect is what the loop measures. */
		struct addrinfo hints = {.ai_family = AF_INET,
					 .ai_socktype = op == OP_TCP
								? SOCK_STREAM
								: SOCK_DGRAM},
				*res;
		int rc = getaddrinfo(host, port, &hints, &res);
		if (rc) {
			fprintf(stderr, "micro: %s: %s\n", host,
				gai_strerror(rc));
			return 2;
		}
		memcpy(&dest, res->ai_addr, res->ai_addrlen);
		destlen = res->ai_addrlen;
		freeaddrinfo(res);
	}
	if (op == OP_TCP) {
		if (!tcp_port)
			usage();
		if ((listener = bound_socket(SOCK_STREAM, tcp_port)) < 0)
			die("tcp listener");
		if (listen(listener, 4096) < 0)
			die("listen");
	}
	if (op == OP_SENDTO && udp_port) {
		int small = 1;
		if ((recv_sock = bound_socket(SOCK_DGRAM, udp_port)) < 0)
			die("udp receiver");
		setsockopt(recv_sock, SOL_SOCKET, SO_RCVBUF, &small,
			   sizeof small);
	}

	struct worker *w = calloc((size_t)nthreads, sizeof *w);
	if (!w)
		die("calloc");
	for (int i = 0; i < nthreads; i++) {
		w[i].udp = -1;
		if (op == OP_UDPCONN || op == OP_SENDTO) {
			w[i].udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (w[i].udp < 0)
				die("udp socket");
		}
	}
	pthread_barrier_init(&barrier, NULL, (unsigned)nthreads + 1);
#define NS(ts) ((double)(ts).tv_sec * 1e9 + (double)(ts).tv_nsec)
	for (int i = 0; i < nthreads; i++)
		if ((errno = pthread_create(&w[i].tid, NULL, run, &w[i])))
			die("pthread_create");
	pthread_barrier_wait(&barrier);
	long fail = 0;
	const char *what = NULL;
	int err = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].tid, NULL);
		fail += w[i].fail;
		if (w[i].what && !what) {
			what = w[i].what;
			err = w[i].err;
		}
	}
	if (what)
		fprintf(stderr, "micro: first failure: %s: %s (%d)\n", what,
			!strcmp(what, "getaddrinfo") ? gai_strerror(err)
			: !strcmp(what, "gethostbyname") ? "h_errno"
							  : strerror(err),
			err);
	/* Wall: from the first thread's start to the last one's end. CPU:
	 * the threads' own CPU time, summed. */
	double start = NS(w[0].t0), end = NS(w[0].t1), cpu = 0;
	for (int i = 0; i < nthreads; i++) {
		if (NS(w[i].t0) < start)
			start = NS(w[i].t0);
		if (NS(w[i].t1) > end)
			end = NS(w[i].t1);
		cpu += NS(w[i].c1) - NS(w[i].c0);
	}
	double ns = end - start;
	double total = (double)iters * nthreads;
	printf("op=%s host=%s iters=%ld threads=%d ns_per_op=%.1f "
	       "ops_per_s=%.0f cpu_ns_per_op=%.1f fail=%ld\n",
	       name, host, iters, nthreads, ns / total, total / (ns / 1e9),
	       cpu / total, fail);
	return fail ? 1 : 0;
}
