/* Targets: where each rule's target host is now.
 *
 * Memory is fixed per target: a new answer replaces the old one in place,
 * so a name looked up a million times, with an answer that rotates on each
 * query (Docker's DNS for a scaled service), costs nothing more. A failed
 * resolution keeps the last good answer, so addresses already handed out
 * keep working through a passing DNS failure.
 *
 * Writers are lookups, one at a time per target (another lookup that finds
 * one in progress skips storing: its answer is as fresh). Readers are
 * connect and sendto, possibly in a signal handler: they copy what they
 * need from the active copy and check its generation did not move. A
 * writer only ever writes the inactive copy, so a reader that interrupts a
 * writer in the same thread still reads a whole answer. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "targets.h"

#define W_COUNTS 0
#define W_A4(i) (1 + (i))
#define W_A6(i) (1 + ANSWER_MAX + 5 * (i))

struct target_entry {
	struct target t;
	UT_hash_handle hh;
};
/* The targets of one ruleset. */
struct targets {
	struct target_entry *by_host;
	/* Named targets of address rules not resolved yet: the first lookup
	 * of any name resolves them, so that a program which looks names up
	 * (on a worker thread, like Node) never has connect wait for them. */
	_Atomic bool addr_pending;
};

/* ---- storing (lookups) --------------------------------------------- */

static bool writer_enter(struct target *t)
{
	int me = (int)getpid(), seen = 0;
	if (atomic_compare_exchange_strong(&t->writer, &seen, me))
		return true;
	/* Held in the process we were forked from: nobody here holds it. */
	return seen != me &&
	       atomic_compare_exchange_strong(&t->writer, &seen, me);
}

static void writer_leave(struct target *t)
{
	atomic_store_explicit(&t->writer, 0, memory_order_release);
}

static void put_addr(uint32_t w[ANSWER_WORDS], const struct sockaddr *sa)
{
	unsigned n4 = w[W_COUNTS] & 0xff, n6 = w[W_COUNTS] >> 8;
	const struct sockaddr_in6 *in6 = (const void *)sa;
	uint32_t a[5] = {0};
	if (sa->sa_family == AF_INET) {
		a[0] = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	} else if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		memcpy(a, in6->sin6_addr.s6_addr + 12, 4); /* AI_V4MAPPED */
	} else {
		memcpy(a, &in6->sin6_addr, 16);
		a[4] = in6->sin6_scope_id;
		for (unsigned i = 0; i < n6; i++)
			if (!memcmp(&w[W_A6(i)], a, sizeof a))
				return;
		if (n6 < ANSWER_MAX)
			memcpy(&w[W_A6(n6++)], a, sizeof a);
		w[W_COUNTS] = n4 | n6 << 8;
		return;
	}
	for (unsigned i = 0; i < n4; i++)
		if (w[W_A4(i)] == a[0])
			return;
	if (n4 < ANSWER_MAX)
		w[W_A4(n4++)] = a[0];
	w[W_COUNTS] = n4 | n6 << 8;
}

static void current_words(const struct target *t, uint32_t w[ANSWER_WORDS])
{
	unsigned a = atomic_load_explicit(&t->active, memory_order_acquire);
	for (unsigned i = 0; i < ANSWER_WORDS; i++)
		w[i] = atomic_load_explicit(&t->words[a][i], memory_order_relaxed);
}

/* Publishes `w` as the answer; the caller is the writer. */
static void publish(struct target *t, const uint32_t w[ANSWER_WORDS])
{
	unsigned b = atomic_load_explicit(&t->active, memory_order_relaxed) ^ 1;
	/* Odd while writing. A fork in the middle of another thread's write
	 * may have left the count odd in this process: go on from there. */
	unsigned g = atomic_load_explicit(&t->gen[b], memory_order_relaxed) | 1;
	atomic_store_explicit(&t->gen[b], g, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (unsigned i = 0; i < ANSWER_WORDS; i++)
		atomic_store_explicit(&t->words[b][i], w[i], memory_order_relaxed);
	atomic_store_explicit(&t->gen[b], g + 1, memory_order_release);
	atomic_store_explicit(&t->active, b, memory_order_release);
	atomic_store_explicit(&t->resolved, true, memory_order_release);
}

/* Replaces the families `list` answers for with its addresses: both for
 * an AF_UNSPEC question, else the one asked (v4-mapped ones are IPv4). */
static void store(struct target *t, const struct addrinfo *list, int asked)
{
	uint32_t w[ANSWER_WORDS];
	bool v4 = asked != AF_INET6, v6 = asked != AF_INET;
	current_words(t, w);
	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next)
		v4 |= ai->ai_family == AF_INET6 &&
		      IN6_IS_ADDR_V4MAPPED(
			      &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	w[W_COUNTS] &= (v4 ? 0 : 0xffu) | (v6 ? 0 : 0xff00u);
	for (; list; list = list->ai_next)
		put_addr(w, list->ai_addr);
	publish(t, w);
}

static long now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

/* Resolves `host` for `t` with the real resolver, as a program asking for
 * `family` with `flags` would, and stores the answer. A failure keeps the
 * last good answer. With `list`, the caller gets libc's list too (free it
 * with real.freeaddrinfo). Returns 0 or the resolver's EAI_* code. */
int target_resolve(struct target *t, const char *host, int family, int flags,
		   struct addrinfo **list)
{
	struct addrinfo hints = {.ai_family = family,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = flags},
			*res;
	if (t->literal)
		hints.ai_flags |= AI_NUMERICHOST;
	int rc = real.getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		atomic_store_explicit(&t->retry_at, now_seconds() + 1,
				      memory_order_relaxed);
		return rc;
	}
	if (writer_enter(t)) {
		store(t, res, family);
		writer_leave(t);
	}
	if (list)
		*list = res;
	else
		real.freeaddrinfo(res);
	return 0;
}

void target_store(struct target *t, const struct addrinfo *list, int family)
{
	if (writer_enter(t)) {
		store(t, list, family);
		writer_leave(t);
	}
}

/* A target that has never resolved (an address rule's, first used in
 * connect) is resolved now; after a failure, at most once a second. One
 * thread asks the resolver; the others connecting at the same moment wait
 * for its answer (a few seconds at most: a signal handler that interrupts
 * the asking thread must not wait forever). */
void target_ensure(struct target *t)
{
	if (atomic_load_explicit(&t->resolved, memory_order_acquire) ||
	    now_seconds() < atomic_load_explicit(&t->retry_at,
						 memory_order_relaxed))
		return;
	int me = (int)getpid(), seen = 0;
	if (atomic_compare_exchange_strong(&t->resolving, &seen, me) ||
	    (seen != me && atomic_compare_exchange_strong(&t->resolving, &seen, me))) {
		target_resolve(t, t->host, AF_UNSPEC, 0, NULL);
		atomic_store(&t->resolving, 0);
		return;
	}
	for (long until = now_seconds() + 10;
	     atomic_load(&t->resolving) == me &&
	     !atomic_load_explicit(&t->resolved, memory_order_acquire) &&
	     now_seconds() < until;)
		sched_yield();
}

void targets_prepare(struct targets *ts)
{
	if (!atomic_load_explicit(&ts->addr_pending, memory_order_relaxed))
		return;
	bool pending = false;
	for (struct target_entry *e = ts->by_host; e; e = e->hh.next) {
		if (!e->t.for_addr_rule)
			continue;
		target_ensure(&e->t);
		pending |= !atomic_load(&e->t.resolved);
	}
	atomic_store_explicit(&ts->addr_pending, pending, memory_order_relaxed);
}

/* ---- reading (connect) --------------------------------------------- */

static bool v6only(int fd)
{
	int on = 0;
	socklen_t len = sizeof on;
	return fd >= 0 && !getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len) &&
	       on;
}

/* Copies the counts and the words of one address, consistently. */
static bool snapshot(const struct target *t, unsigned pos, unsigned *n4,
		     unsigned *n6, uint32_t *a4, uint32_t a6[5])
{
	for (int tries = 0; tries < 1000; tries++) {
		unsigned a = atomic_load_explicit(&t->active, memory_order_acquire);
		unsigned g = atomic_load_explicit(&t->gen[a], memory_order_acquire);
		if (g & 1)
			continue;
		uint32_t counts = atomic_load_explicit(&t->words[a][W_COUNTS],
						       memory_order_relaxed);
		*n4 = counts & 0xff;
		*n6 = counts >> 8;
		if (*n4)
			*a4 = atomic_load_explicit(&t->words[a][W_A4(pos % *n4)],
						   memory_order_relaxed);
		for (unsigned k = 0; *n6 && k < 5; k++)
			a6[k] = atomic_load_explicit(
				&t->words[a][W_A6(pos % *n6) + k],
				memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&t->gen[a], memory_order_relaxed) == g)
			return true;
	}
	return false;
}

static socklen_t make_v4(struct sockaddr_storage *out, uint32_t a4,
			 uint16_t port)
{
	struct sockaddr_in *in4 = (void *)out;
	memset(in4, 0, sizeof *in4);
	in4->sin_family = AF_INET;
	in4->sin_port = htons(port);
	in4->sin_addr.s_addr = a4;
	return sizeof *in4;
}

static socklen_t make_v6(struct sockaddr_storage *out, const uint32_t *a6,
			 bool mapped, uint16_t port)
{
	struct sockaddr_in6 *in6 = (void *)out;
	memset(in6, 0, sizeof *in6);
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	if (mapped) {
		v4mapped(&in6->sin6_addr, (const struct in_addr *)a6);
	} else {
		memcpy(&in6->sin6_addr, a6, 16);
		in6->sin6_scope_id = a6[4];
	}
	return sizeof *in6;
}

/* The address a socket of `p->form` connects to, in the answer's order.
 * An IPv4 socket needs an IPv4 address; an IPv6 socket takes the family
 * its destination asked for first, the other one if that is all there is
 * and the socket allows it. False: the target has no address it can use. */
bool target_pick(const struct target *t, const struct pick *p,
		 struct sockaddr_storage *out, socklen_t *len)
{
	unsigned n4, n6;
	uint32_t a4 = 0, a6[5];
	if (!snapshot(t, p->pos, &n4, &n6, &a4, a6))
		return false;
	if (p->form == FORM_V4) {
		if (!n4)
			return false;
		*len = make_v4(out, a4, p->port);
		return true;
	}
	bool want4 = p->form == FORM_MAPPED ? n4 > 0 : n6 == 0;
	if (want4 && n4 && !v6only(p->fd)) {
		*len = make_v6(out, &a4, true, p->port);
		return true;
	}
	if (!n6)
		return false;
	*len = make_v6(out, a6, false, p->port);
	return true;
}

void target_describe(const struct target *t, char *buf, size_t len)
{
	char *p = buf, *end = buf + len;
	unsigned a = atomic_load_explicit(&t->active, memory_order_acquire);
	uint32_t counts = atomic_load_explicit(&t->words[a][W_COUNTS],
					       memory_order_relaxed);
	*p = '\0';
	for (unsigned i = 0; i < (counts & 0xff) + (counts >> 8); i++) {
		uint32_t w[4];
		bool v4 = i < (counts & 0xff);
		unsigned first = v4 ? W_A4(i) : W_A6(i - (counts & 0xff));
		for (unsigned k = 0; k < (v4 ? 1u : 4u); k++)
			w[k] = atomic_load_explicit(&t->words[a][first + k],
						    memory_order_relaxed);
		if (end - p < ADDR_TEXT_MAX + 3)
			break;
		if (i)
			p = memcpy(p, ", ", 3) + 2;
		p = fmt_addr(p, v4 ? AF_INET : AF_INET6, w);
	}
}

/* ---- building ------------------------------------------------------ */

/* One target per distinct host; rule->target points at it. Literal
 * targets are parsed now (no resolver involved); names wait for their
 * first use. NULL when out of memory. */
struct targets *targets_build(struct rule **rules, size_t n)
{
	struct targets *ts = calloc(1, sizeof *ts);
	if (!ts)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct rule *r = rules[i];
		struct target_entry *e;
		bool added = true;
		HASH_FIND_STR(ts->by_host, r->target_host, e);
		if (!e && (e = calloc(1, sizeof *e))) {
			e->t.host = r->target_host;
			e->t.literal = r->target_literal;
#undef uthash_nonfatal_oom
#define uthash_nonfatal_oom(obj) (added = false)
			HASH_ADD_KEYPTR(hh, ts->by_host, e->t.host,
					strlen(e->t.host), e);
			if (added && e->t.literal)
				target_resolve(&e->t, e->t.host, AF_UNSPEC, 0, NULL);
		}
		if (!e || !added) {
			free(e);
			targets_free(ts);
			return NULL;
		}
		r->target = &e->t;
		if (r->kind == PUBLIC_ADDR && !r->target_literal) {
			e->t.for_addr_rule = true;
			atomic_store(&ts->addr_pending, true);
		}
	}
	return ts;
}

/* Answers `old` has for hosts `ts` has too and has not resolved itself:
 * after a reload, a target that stays is where it was until a lookup
 * says otherwise. Called before `ts` is in force, and again once the
 * lookups that still used `old` are done (they may have found more). */
void targets_inherit(struct targets *ts, const struct targets *old)
{
	struct target_entry *e, *was;
	uint32_t w[ANSWER_WORDS];
	for (e = ts->by_host; e; e = e->hh.next) {
		HASH_FIND_STR(old->by_host, e->t.host, was);
		if (!was || e->t.literal ||
		    atomic_load_explicit(&e->t.resolved, memory_order_acquire) ||
		    !atomic_load_explicit(&was->t.resolved, memory_order_acquire) ||
		    !writer_enter(&e->t))
			continue;
		current_words(&was->t, w);
		publish(&e->t, w);
		writer_leave(&e->t);
	}
}

void targets_free(struct targets *ts)
{
	struct target_entry *e, *next;
	if (!ts)
		return;
	HASH_ITER(hh, ts->by_host, e, next) {
		HASH_DEL(ts->by_host, e);
		free(e);
	}
	free(ts);
}
