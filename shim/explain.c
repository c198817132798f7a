/* Messages that explain: where the rules came from, where a name goes now,
 * a target that does not resolve, and a redirected connection that failed.
 *
 * A user who sees `connect ECONNREFUSED 127.88.0.4:80` from Node must not
 * have to guess what 127.88.0.4 is: the first refusal or timeout per
 * public name and port is said at the default level, with the target and
 * its address. A blocking connect sees the error itself. A non-blocking
 * one (libuv, curl) answers EINPROGRESS and the error comes later from
 * getsockopt(SO_ERROR), so such a connect is remembered in a small table
 * until then, with the socket's inode: an fd closed while its connect was
 * in progress and reused for another socket is not that connection. The
 * hot path pays nothing for this (an unmapped connect one load); the
 * inode is read only for a redirected connect in progress and for an
 * error to explain. Everything here that connect or getsockopt reach is
 * lock-free and uses no heap and no stdio: fixed tables of atomic words. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "current.h"
#include "explain.h"
#include "init.h"
#include "log.h"
#include "rules.h"
#include "slots.h"

/* ---- hashing and "already said" ------------------------------------ */

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n--)
		h = (h ^ *b++) * 0x100000001b3u; /* FNV-1a */
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	return hash_bytes(h, s, strlen(s) + 1);
}

#define HASH_START 0xcbf29ce484222325u
#define PROBES 16

/* True the first time `key` is put in `table` (of `size` words). A full
 * neighbourhood overwrites its first place: past that many distinct keys
 * a line may be said again, but a new one is never kept quiet. */
static bool first_time(_Atomic uint64_t *table, unsigned size, uint64_t key)
{
	key |= 1; /* never 0, the empty place */
	unsigned start = (unsigned)(key >> 32) % size;
	for (unsigned i = 0; i < PROBES; i++) {
		_Atomic uint64_t *place = &table[(start + i) % size];
		uint64_t seen = atomic_load_explicit(place, memory_order_relaxed);
		if (seen == key)
			return false;
		if (seen == 0 &&
		    atomic_compare_exchange_strong_explicit(
			    place, &seen, key, memory_order_relaxed,
			    memory_order_relaxed))
			return true;
		if (seen == key)
			return false;
	}
	atomic_store_explicit(&table[start], key, memory_order_relaxed);
	return true;
}

/* ---- where the rules came from ------------------------------------- */

void explain_sources(const struct config *cfg, const char *path,
		     const char *map)
{
	size_t n[2] = {0, 0};
	if (log_level < LOG_INFO)
		return;
	for (size_t i = 0; i < cfg->nrules; i++)
		n[cfg->rules[i]->source == 1]++;
	if (*path)
		log_msg(LOG_INFO, "%zu rule%s from %s", n[0], n[0] == 1 ? "" : "s",
			path);
	if (map)
		log_msg(LOG_INFO, "%zu rule%s from HOSTSHIM_MAP", n[1],
			n[1] == 1 ? "" : "s");
	if (!*path && !map)
		log_msg(LOG_INFO, "no configuration found (HOSTSHIM_CONFIG "
				  "unset or /dev/null, no /etc/hostshim/shim.ini, "
				  "no HOSTSHIM_MAP): nothing is redirected");
}

/* ---- where a name goes --------------------------------------------- */

/* Past this many distinct redirects an info line may be said again. */
#define REDIRECTS_SAID 1024
static _Atomic uint64_t redirects_said[REDIRECTS_SAID];

static uint64_t hash_sockaddr(uint64_t h, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)sa;
		h = hash_bytes(h, &in4->sin_addr, 4);
		return hash_bytes(h, &in4->sin_port, 2);
	}
	const struct sockaddr_in6 *in6 = (const void *)sa;
	h = hash_bytes(h, &in6->sin6_addr, 16);
	return hash_bytes(h, &in6->sin6_port, 2);
}

bool explain_redirect_is_new(const char *public, unsigned port,
			     const char *target, const struct sockaddr *to)
{
	uint64_t h = hash_str(HASH_START, public);
	h = hash_bytes(h, &port, sizeof port);
	h = hash_str(h, target);
	h = hash_sockaddr(h, to);
	return first_time(redirects_said, REDIRECTS_SAID, h);
}

/* ---- a target that does not resolve -------------------------------- */

#define UNRESOLVED_PLACES 64
#define UNRESOLVED_QUIET 60 /* seconds */

static struct {
	_Atomic uint64_t key;
	_Atomic long until;
} unresolved[UNRESOLVED_PLACES];

bool explain_unresolved_due(const char *host)
{
	struct timespec ts;
	uint64_t key = hash_str(HASH_START, host);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	long now = (long)ts.tv_sec;
	/* One place per hash: two hosts that share one only speak more. */
	unsigned i = (unsigned)(key >> 40) % UNRESOLVED_PLACES;
	if (atomic_load_explicit(&unresolved[i].key, memory_order_relaxed) ==
		    key &&
	    now < atomic_load_explicit(&unresolved[i].until,
				       memory_order_relaxed))
		return false;
	atomic_store_explicit(&unresolved[i].until, now + UNRESOLVED_QUIET,
			      memory_order_relaxed);
	atomic_store_explicit(&unresolved[i].key, key, memory_order_relaxed);
	return true;
}

/* ---- a redirected connection that failed --------------------------- */

static const char *failure_text(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "connection refused";
	case ETIMEDOUT:
		return "connection timed out";
	case EHOSTUNREACH:
		return "no route to host";
	case ENETUNREACH:
		return "network unreachable";
	default:
		return NULL;
	}
}

/* What a connect was about: the program's destination and ours. */
struct dests {
	struct sockaddr_storage sa, to;
};

static unsigned port_of(const struct sockaddr *sa)
{
	return ntohs(sa->sa_family == AF_INET
			     ? ((const struct sockaddr_in *)sa)->sin_port
			     : ((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* The public side and the target's text, with the rules held. False when
 * no rule is about `sa` any more. */
static bool describe(const struct sockaddr *sa, char public[NAME_MAX_LEN + 1],
		     char target[NAME_MAX_LEN + 8], bool *synthetic)
{
	struct synth s;
	struct route route;
	unsigned ticket, port = port_of(sa);
	const char *host = NULL;
	unsigned tport = port;
	const struct ruleset *rs = current_enter(&ticket);
	*synthetic = synth_decode(sa, sizeof(struct sockaddr_in6), &s);
	if (*synthetic && rs && slot_name(s.index, public) &&
	    slot_route(rs, s.index, (uint16_t)port, &route)) {
		host = route.rule ? route.rule->target_host : public;
		if (route.rule && route.rule->target_port)
			tport = route.rule->target_port;
	} else if (!*synthetic && rs) {
		const struct rule *r = rules_match_addr(rs, sa, (uint16_t)port);
		if (r) {
			strncpy(public, r->name, NAME_MAX_LEN);
			public[NAME_MAX_LEN] = '\0';
			host = r->target_host;
			if (r->target_port)
				tport = r->target_port;
		}
	}
	if (host) {
		struct logline l = {.len = 0};
		ll_host_port(&l, host, tport);
		/* Past the "hostshim: " the builder puts first. */
		size_t n = l.len - 10 < NAME_MAX_LEN + 7 ? l.len - 10
							  : NAME_MAX_LEN + 7;
		memcpy(target, l.text + 10, n);
		target[n] = '\0';
	}
	current_leave(ticket);
	return host != NULL;
}

/* Past this many distinct names and ports a failure may be said again. */
#define FAILURES_SAID 256
static _Atomic uint64_t failures_said[FAILURES_SAID];

static void explain_failure(const struct sockaddr *sa,
			    const struct sockaddr *to, int err)
{
	const char *what = failure_text(err);
	char public[NAME_MAX_LEN + 1], target[NAME_MAX_LEN + 8];
	bool synthetic;
	unsigned port = port_of(sa);
	if (!what || log_level < LOG_WARN ||
	    !describe(sa, public, target, &synthetic))
		return;
	uint64_t key = hash_str(HASH_START, public);
	if (!first_time(failures_said, FAILURES_SAID,
			hash_bytes(key, &port, sizeof port)))
		return;
	struct logline l = {.len = 0};
	ll_host_port(&l, public, port);
	ll_str(&l, " -> ");
	ll_str(&l, target);
	ll_str(&l, " (");
	ll_addr(&l, to);
	ll_str(&l, "): ");
	ll_str(&l, what);
	if (synthetic) {
		/* What the program prints, so that a search finds this line. */
		ll_str(&l, " (the program sees ");
		ll_addr(&l, sa);
		ll_str(&l, ")");
	}
	ll_emit(&l);
}

/* ---- connects in progress ------------------------------------------ */

struct fd_watch explain_fds[EXPLAIN_FDS];
static _Atomic uint64_t watch_gen;

/* An address in two words and its family and port in a quarter of one. */
static void pack(const struct sockaddr *sa, _Atomic uint64_t *w, uint64_t *meta,
		 int shift)
{
	uint64_t a[2] = {0, 0};
	if (sa->sa_family == AF_INET)
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	atomic_store_explicit(&w[0], a[0], memory_order_relaxed);
	atomic_store_explicit(&w[1], a[1], memory_order_relaxed);
	*meta |= ((uint64_t)(sa->sa_family == AF_INET6) << 16 | port_of(sa))
		 << shift;
}

static void unpack(const _Atomic uint64_t *w, uint64_t meta,
		   struct sockaddr_storage *out)
{
	uint64_t a[2] = {atomic_load_explicit(&w[0], memory_order_relaxed),
			 atomic_load_explicit(&w[1], memory_order_relaxed)};
	memset(out, 0, sizeof *out);
	if (meta >> 16 & 1) {
		struct sockaddr_in6 *in6 = (void *)out;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)meta);
		memcpy(&in6->sin6_addr, a, 16);
	} else {
		struct sockaddr_in *in4 = (void *)out;
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)meta);
		memcpy(&in4->sin_addr, a, 4);
	}
}

/* The socket's identity: fds are reused, inodes of live sockets are not. */
static bool inode_of(int fd, uint64_t *ino)
{
	struct file_id id; /* not fstat: glibc 2.33's symbol (log.c) */
	int saved = errno;
	bool ok = file_id(fd, &id) == 0;
	errno = saved;
	*ino = ok ? id.ino : 0;
	return ok;
}

static void remember(int fd, const struct sockaddr *sa,
		     const struct sockaddr *to)
{
	struct fd_watch *fw = explain_place(fd);
	uint64_t meta = 0, ino;
	if (!inode_of(fd, &ino))
		return;
	uint64_t gen = atomic_fetch_add_explicit(&watch_gen, 1,
						 memory_order_relaxed) + 1;
	atomic_store_explicit(&fw->tag, 0, memory_order_release);
	atomic_store_explicit(&fw->ino, ino, memory_order_relaxed);
	pack(sa, &fw->w[0], &meta, 0);
	pack(to, &fw->w[2], &meta, 32);
	atomic_store_explicit(&fw->w[4], meta, memory_order_relaxed);
	atomic_store_explicit(&fw->tag, gen << 32 | ((uint32_t)fd + 1),
			      memory_order_release);
}

/* The remembered connect of `fd`, taken out of the table: false when there
 * is none, or another thread took it, or it changed while read, or it was
 * about another socket that had the same fd. */
static bool take(int fd, struct dests *d)
{
	struct fd_watch *fw = explain_place(fd);
	uint64_t tag = atomic_load_explicit(&fw->tag, memory_order_acquire);
	uint64_t ino, now;
	if (!explain_tag_is(tag, fd))
		return false;
	ino = atomic_load_explicit(&fw->ino, memory_order_relaxed);
	uint64_t meta = atomic_load_explicit(&fw->w[4], memory_order_relaxed);
	unpack(&fw->w[0], meta, &d->sa);
	unpack(&fw->w[2], meta >> 32, &d->to);
	return atomic_compare_exchange_strong(&fw->tag, &tag, 0) &&
	       inode_of(fd, &now) && now == ino;
}

void explain_connected(int fd, const struct sockaddr *sa,
		       const struct sockaddr *to, int rc, int err)
{
	/* Still under way: started (EINPROGRESS, or EINTR, after which the
	 * kernel goes on), or asked about again (EALREADY). */
	bool pending = rc && (err == EINPROGRESS || err == EINTR ||
			      err == EALREADY);
	if (!pending) {
		explain_forget(fd);
		if (rc)
			explain_failure(sa, to, err);
	} else if (err != EALREADY && fd >= 0) {
		remember(fd, sa, to);
	}
}

/* getsockopt(SO_ERROR) is where libuv and curl learn how a non-blocking
 * connect ended. Anything else costs one compare. */
SHIM_EXPORT int getsockopt(int fd, int level, int name, void *val,
			   socklen_t *len)
{
	real_ready();
	int rc = real.getsockopt(fd, level, name, val, len);
	if (__builtin_expect(name == SO_ERROR, 0) && level == SOL_SOCKET &&
	    rc == 0 && val && len && *len >= sizeof(int) &&
	    explain_tag_is(atomic_load_explicit(&explain_place(fd)->tag,
						memory_order_relaxed),
			   fd)) {
		int err = *(int *)val, saved = errno;
		struct dests d;
		/* 0 is the connect succeeding; EINPROGRESS-like answers
		 * never come from SO_ERROR. Either way it is over. */
		if (take(fd, &d) && err)
			explain_failure((struct sockaddr *)&d.sa,
					(struct sockaddr *)&d.to, err);
		errno = saved;
	}
	return rc;
}
