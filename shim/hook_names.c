/* Name hooks: where a name is matched. A mapped name resolves to synthetic
 * addresses, one per address of its target, and those back to the name.
 * Everything else goes to libc untouched.
 *
 * The target is resolved here, in the lookup, which Node.js runs on a
 * worker thread, so that connect on its event loop never waits for DNS;
 * and it is resolved as the program asked (family, AI_ADDRCONFIG,
 * AI_V4MAPPED), so the answer has the families and the order libc gives
 * for the target, and a failure is the resolver's own code.
 *
 * Nothing is held while the resolver runs, which may take seconds, be
 * cancelled (getaddrinfo is a cancellation point) or be cut off by a
 * siglongjmp out of an alarm handler: a lookup holds the rules to match
 * the name and copy what it needs, lets go, resolves, and holds them again
 * to store the answer into the targets of the rules in force by then.
 *
 * getaddrinfo's lists are built by libc, from the synthetic addresses with
 * AI_NUMERICHOST, so the program frees them with the libc's own
 * freeaddrinfo whatever that libc's layout. glibc frees node by node, so
 * lists for several addresses are chained; musl frees a list as the one
 * block it allocated, so there the answer has the first address only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "current.h"
#include "explain.h"
#include "init.h"
#include "log.h"
#include "resolver.h"
#include "rules.h"
#include "slots.h"
#include "targets.h"

#ifndef NETDB_INTERNAL /* not in musl */
#define NETDB_INTERNAL NO_RECOVERY
#endif

/* A mapped name and what the rules that apply to it say, in precedence
 * order: copied out of the rules, so that no one holds them while the
 * resolver runs (a lookup can wait for DNS for seconds, be cancelled or
 * be cut off by a siglongjmp there, and a reload waits for no one). */
struct route_copy {
	int port;
	bool literal;
	char host[NAME_MAX_LEN + 1];
};
struct lookup {
	char name[NAME_MAX_LEN + 1];
	struct route_copy routes[ROUTES_MAX];
	size_t nroutes;
	bool too_many;
};

/* Before a lookup: an edited configuration goes in force, and the
 * background resolver is there if needed (this is not connect). */
static bool lookup_ready(const char *node)
{
	if (!node || !shim_ready())
		return false;
	reload_if_changed();
	resolver_note_lookup();
	resolver_ensure();
	return true;
}

/* The rules that apply to the name, with the rules held; false when
 * none do. */
static size_t match_held(const struct ruleset *rs, const char *name,
			 const struct rule *routes[ROUTES_MAX])
{
	struct match m;
	if (!rules_match_name(rs, name, &m))
		return 0;
	return rules_routes(&m, routes, ROUTES_MAX);
}

/* Whether `node` is mapped, and what its rules say, copied into `lk`. A
 * few atomic operations and a filter for a name no rule concerns. */
static bool mapped(const char *node, struct lookup *lk)
{
	const struct rule *routes[ROUTES_MAX];
	unsigned ticket;
	size_t n = 0;
	const struct ruleset *rs = current_enter(&ticket);
	if (rs && rules_may_match(rs, node) && name_canonical(node, lk->name))
		n = match_held(rs, lk->name, routes);
	lk->too_many = n > ROUTES_MAX;
	lk->nroutes = n > ROUTES_MAX ? ROUTES_MAX : n;
	for (size_t i = 0; i < lk->nroutes; i++) {
		struct route_copy *c = &lk->routes[i];
		c->port = routes[i]->port;
		c->literal = routes[i]->target_literal;
		snprintf(c->host, sizeof c->host, "%s", routes[i]->target_host);
	}
	current_leave(ticket);
	if (lk->too_many)
		log_msg(LOG_WARN, "%s: more than %d rules apply; the least "
				  "specific are ignored",
			lk->name, ROUTES_MAX);
	return lk->nroutes > 0;
}

/* The rule for a port (0: not known yet, the least specific rule), as an
 * index into the routes; -1: none. */
static int route_for(const struct route_copy *routes, size_t n, int port)
{
	if (!port)
		return (int)n - 1;
	for (size_t i = 0; i < n; i++)
		if (routes[i].port == port || !routes[i].port)
			return (int)i;
	return -1;
}

static void warn_unresolved(const char *name, const struct rule *r, int rc)
{
	if (explain_unresolved_due(r->target_host)) /* once a minute */
		log_msg(LOG_WARN, "%s: rule %s -> %s (%s): %s does not resolve: %s",
			name, r->public_text, r->target_text, r->origin,
			r->target_host, gai_strerror(rc));
}

/* What the resolver said for each target of the name, before it is kept. */
struct answers {
	int primary;		      /* which route */
	struct addrinfo *list[ROUTES_MAX]; /* per route; NULL: failed or a repeat */
	int rc[ROUTES_MAX];	      /* per route; -1: the host of an earlier route */
	int rc_any;		      /* the primary target for any family */
	struct addrinfo *any;	      /* its answer, when the family asked has none */
	struct addrinfo *own;	      /* the name's own address */
	int own_rc;		      /* -1: not asked */
};

/* Resolves the name's targets, nothing held: the primary one as the
 * program asked (family, AI_ADDRCONFIG, AI_V4MAPPED), so the answer has the
 * families and the order libc gives, and a failure is the resolver's own
 * code; the others, which connect may need for other ports, for any
 * family; and the name's own address when ports without a rule go there. */
static void resolve_all(const struct lookup *lk, int family, int flags,
			struct answers *a)
{
	bool any_port = false;
	const struct route_copy *p = &lk->routes[a->primary];
	for (size_t i = 0; i < lk->nroutes; i++) {
		const struct route_copy *r = &lk->routes[i];
		bool repeat = (int)i != a->primary && !strcmp(r->host, p->host);
		any_port |= !r->port;
		a->list[i] = NULL;
		for (size_t j = 0; j < i && !repeat; j++)
			repeat = !strcmp(lk->routes[j].host, r->host);
		if (repeat && (int)i != a->primary)
			a->rc[i] = -1;
		else if ((int)i == a->primary)
			a->rc[i] = target_lookup(r->host, r->literal, family,
						 flags & (AI_ADDRCONFIG |
							  AI_V4MAPPED | AI_ALL),
						 &a->list[i]);
		else
			a->rc[i] = target_lookup(r->host, r->literal, AF_UNSPEC,
						 0, &a->list[i]);
	}
	/* No address of the family asked for is libc's answer, not a fault;
	 * a target with no address at all is worth a warning. */
	a->any = NULL;
	a->rc_any = a->rc[a->primary];
	if (a->rc_any && family != AF_UNSPEC)
		a->rc_any = target_lookup(p->host, p->literal, AF_UNSPEC, 0,
					  &a->any);
	a->own = NULL;
	a->own_rc = any_port ? -1
			     : target_lookup(lk->name, false, AF_UNSPEC, 0, &a->own);
}

static void answers_free(struct answers *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a->list[i] && (int)i != a->primary)
			real.freeaddrinfo(a->list[i]);
	if (a->own)
		real.freeaddrinfo(a->own);
	if (a->any)
		real.freeaddrinfo(a->any);
}

/* What was resolved for `host`; false when nothing was (a rule that
 * came with a reload in between). */
static bool answer_for(const struct lookup *lk, const struct answers *a,
		       const char *host, int family,
		       const struct addrinfo **list, int *rc, int *asked)
{
	for (size_t k = 0; k <= lk->nroutes; k++) {
		/* the primary first: its answer is the family asked */
		size_t i = k ? k - 1 : (size_t)a->primary;
		if (a->rc[i] == -1 || strcmp(lk->routes[i].host, host))
			continue;
		*rc = a->rc[i];
		*list = a->list[i];
		*asked = (int)i == a->primary ? family : AF_UNSPEC;
		if (*rc && (int)i == a->primary && !a->rc_any) {
			*rc = 0; /* none of the family asked, some of another */
			*list = a->any;
			*asked = AF_UNSPEC;
		}
		return true;
	}
	return false;
}

/* Keeps what was resolved for rule r's target; warns when it has no
 * address at all. */
static void keep(const struct lookup *lk, const struct answers *a,
		 const struct rule *r, int family)
{
	const struct addrinfo *list;
	int rc, asked;
	if (!answer_for(lk, a, r->target_host, family, &list, &rc, &asked))
		return;
	if (!rc)
		target_store(r->target, list, asked);
	else
		target_failed(r->target);
	if (rc)
		warn_unresolved(lk->name, r, rc);
}

/* With the rules held again (maybe others by now): keeps the answers in
 * the targets of the rules that apply to the name now, gives the name its
 * slot with those rules, and warns. False when the name's rule for this
 * port no longer has the target that was resolved (a reload in between):
 * the caller starts again. Runs uncut (current.h): it holds a target's
 * writer mark and the slots' lock for a moment. */
static bool store_held(const struct ruleset *rs, const struct lookup *lk,
		       int port, int family, const struct answers *a,
		       unsigned *index)
{
	const struct rule *routes[ROUTES_MAX];
	struct route_copy now[ROUTES_MAX];
	size_t n = match_held(rs, lk->name, routes);
	if (n > ROUTES_MAX)
		n = ROUTES_MAX;
	for (size_t i = 0; i < n; i++)
		now[i].port = routes[i]->port;
	int p = n ? route_for(now, n, port) : -1;
	if (p < 0 ||
	    strcmp(routes[p]->target_host, lk->routes[a->primary].host))
		return false;
	keep(lk, a, routes[p], family);
	for (size_t i = 0; i < n; i++) {
		bool seen = routes[i]->target == routes[p]->target;
		for (size_t j = 0; j < i && !seen; j++)
			seen = routes[j]->target == routes[i]->target;
		if (!seen)
			keep(lk, a, routes[i], family);
	}
	*index = slot_assign(rs, lk->name, routes, n);
	if (*index && a->own_rc == 0)
		slot_store_own(*index, lk->name, a->own);
	else if (*index && a->own_rc > 0)
		target_failed(slot_own(*index));
	return true;
}

#define ATTEMPTS 3 /* reloads in the middle of one lookup, at most */

/* The slot of a mapped name with its targets resolved, and the primary
 * rule's answer from libc in `targets`. Returns 0, an EAI_* code, or 1:
 * the name is not mapped (any more) for this port. */
static int resolve_mapped(struct lookup *lk, int port, int family, int flags,
			  unsigned *index, struct addrinfo **targets)
{
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		struct answers a;
		struct uncut u;
		unsigned ticket;
		char name[NAME_MAX_LEN + 1];
		if (attempt && !mapped(strcpy(name, lk->name), lk))
			return 1;
		if ((a.primary = route_for(lk->routes, lk->nroutes, port)) < 0)
			return 1;
		resolve_all(lk, family, flags, &a);
		*index = 0;
		uncut_begin(&u);
		const struct ruleset *rs = current_enter(&ticket);
		bool stored = rs && store_held(rs, lk, port, family, &a, index);
		current_leave(ticket);
		uncut_end(&u);
		answers_free(&a, lk->nroutes);
		int rc = a.rc[a.primary];
		if (!stored) {
			if (!rc)
				real.freeaddrinfo(a.list[a.primary]);
			continue;
		}
		if (rc)
			return rc;
		if (!*index) {
			real.freeaddrinfo(a.list[a.primary]);
			log_msg(LOG_WARN, "%s: out of memory for its synthetic "
					  "address",
				lk->name);
			return EAI_MEMORY;
		}
		*targets = a.list[a.primary];
		return 0;
	}
	return EAI_AGAIN;
}

/* ---- getaddrinfo ---------------------------------------------------- */

static uint16_t answer_port(const struct addrinfo *ai)
{
	if (ai->ai_family == AF_INET)
		return ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port);
	return ntohs(((struct sockaddr_in6 *)ai->ai_addr)->sin6_port);
}

/* The port the service names, and libc's verdict on the hints, from a
 * numeric lookup of a loopback address. Returns 0 or libc's code. */
static int service_port(const char *service, const struct addrinfo *h,
			int *port)
{
	struct addrinfo numeric = *h, *probe;
	numeric.ai_flags = (h->ai_flags & ~AI_ADDRCONFIG) | AI_NUMERICHOST;
	int rc = real.getaddrinfo(h->ai_family == AF_INET6 ? "::1" : "127.0.0.1",
				  service, &numeric, &probe);
	if (rc)
		return rc;
	*port = answer_port(probe);
	real.freeaddrinfo(probe);
	return 0;
}

/* glibc frees ai_canonname on its own, so it gets a copy; musl frees the
 * list as one block and never ai_canonname, so it points at the slot's
 * copy of the name, which stays until SLOT_COUNT newer names reuse it. */
static void set_canonname(struct addrinfo *ai, const char *name,
			  unsigned index)
{
	if (!ai->ai_canonname)
		return;
#ifdef __GLIBC__
	char *copy = strdup(name);
	(void)index;
	if (copy) {
		free(ai->ai_canonname);
		ai->ai_canonname = copy;
	}
#else
	(void)name;
	for (; ai; ai = ai->ai_next)
		if (ai->ai_canonname)
			ai->ai_canonname = (char *)slot_key(index);
#endif
}

/* The program's answer: for each address of the target's, the synthetic
 * address of the same family and position, in the same order. */
static int synth_list(unsigned index, const struct addrinfo *targets,
		      const char *service, const struct addrinfo *h,
		      struct addrinfo **res)
{
	struct addrinfo numeric = *h, *head = NULL, **tail = &head;
	unsigned count[3] = {0};
	numeric.ai_flags = (h->ai_flags & ~(AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL)) |
			   AI_NUMERICHOST;
	for (const struct addrinfo *t = targets; t; t = t->ai_next) {
		struct synth s = {.index = index, .form = form_of(t->ai_addr)};
		char text[ADDR_TEXT_MAX];
		struct addrinfo *part;
		if (count[s.form] == SYNTH_POS)
			continue;
		s.pos = count[s.form]++;
		synth_text(&s, text);
		int rc = real.getaddrinfo(text, service, &numeric, &part);
		if (rc) {
			if (!head)
				return rc;
			break;
		}
		if (head && part->ai_canonname) {
			free(part->ai_canonname);
			part->ai_canonname = NULL;
		}
		*tail = part;
		while (*tail)
			tail = &(*tail)->ai_next;
#ifndef __GLIBC__
		break;
#endif
	}
	if (!head)
		return EAI_NONAME;
	*res = head;
	return 0;
}

/* getaddrinfo for a name that may be mapped. */
static int answer(struct lookup *lk, const char *node, const char *service,
		  const struct addrinfo *hints, const struct addrinfo *h,
		  struct addrinfo **res)
{
	struct addrinfo *targets;
	unsigned index;
	int port = 0;
	if (!mapped(node, lk))
		return real.getaddrinfo(node, service, hints, res);
	int rc = service_port(service, h, &port);
	if (rc)
		return rc; /* a bad service or hints: libc's own answer */
	int primary = route_for(lk->routes, lk->nroutes, port);
	if (primary < 0) /* no rule for this port: the name as it is */
		return real.getaddrinfo(node, service, hints, res);
	/* A program that binds gets what it can bind: the target's address. */
	if (h->ai_flags & AI_PASSIVE)
		return real.getaddrinfo(lk->routes[primary].host, service, hints,
					res);
	rc = resolve_mapped(lk, port, h->ai_family, h->ai_flags, &index,
			    &targets);
	if (rc == 1) /* unmapped by a reload meanwhile */
		return real.getaddrinfo(node, service, hints, res);
	if (rc)
		return rc;
	rc = synth_list(index, targets, service, h, res);
	real.freeaddrinfo(targets);
	if (rc)
		return rc;
	if (h->ai_flags & AI_CANONNAME)
		set_canonname(*res, lk->name, index);
	if (log_level >= LOG_DEBUG) {
		char text[ADDR_TEXT_MAX];
		struct synth first;
		synth_decode((*res)->ai_addr, (*res)->ai_addrlen, &first);
		synth_text(&first, text);
		log_msg(LOG_DEBUG, "getaddrinfo(%s) -> %s", lk->name, text);
	}
	return 0;
}

/* An answer that leads to an address rule's public address (and port,
 * when the program named one): the program is about to connect there, so
 * the rule's named target is wanted now, and the lookup, not the connect,
 * gives the background resolver up to RESOLVER_SETTLE_MS for it the first
 * time (a lookup may wait for DNS: Node runs it on a worker thread).
 * Until then nothing resolves an address rule's target that no one uses. */
static void foresee(const struct addrinfo *res)
{
	const struct rule *rules[ROUTES_MAX];
	bool first = false, any = false;
	unsigned ticket;
	if (atomic_load_explicit(&shim_connect_filter, memory_order_acquire) !=
	    CONNECT_ALL)
		return;
	const struct ruleset *rs = current_enter(&ticket);
	for (const struct addrinfo *ai = res; rs && ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		size_t n = rules_match_addr_all(rs, ai->ai_addr,
						answer_port(ai), rules,
						ROUTES_MAX);
		for (size_t i = 0; i < n; i++)
			any |= target_foreseen(rules[i]->target, &first);
	}
	current_leave(ticket);
	if (!any)
		return;
	resolver_needed(true);
	if (first)
		resolver_settle(RESOLVER_SETTLE_MS);
}

SHIM_EXPORT int getaddrinfo(const char *node, const char *service,
			    const struct addrinfo *hints, struct addrinfo **res)
{
	struct lookup lk;
	struct addrinfo h = {.ai_flags = AI_ADDRCONFIG | AI_V4MAPPED};
	real_ready();
	if (hints) {
		h.ai_flags = hints->ai_flags;
		h.ai_family = hints->ai_family;
		h.ai_socktype = hints->ai_socktype;
		h.ai_protocol = hints->ai_protocol;
	}
	if ((h.ai_flags & AI_NUMERICHOST) ||
	    (h.ai_family != AF_UNSPEC && h.ai_family != AF_INET &&
	     h.ai_family != AF_INET6) ||
	    !lookup_ready(node)) {
		int rc = real.getaddrinfo(node, service, hints, res);
		if (!rc && atomic_load_explicit(&shim_state, memory_order_acquire) ==
				   SHIM_READY)
			foresee(*res);
		return rc;
	}
	int rc = answer(&lk, node, service, hints, &h, res);
	if (!rc)
		foresee(*res);
	return rc;
}

/* ---- the hostent family --------------------------------------------- */

static int h_errno_for(int eai)
{
	switch (eai) {
	case EAI_AGAIN:
		return TRY_AGAIN;
	case EAI_NONAME:
		return HOST_NOT_FOUND;
#ifdef EAI_NODATA
	case EAI_NODATA:
		return NO_DATA;
#endif
	default:
		return NO_RECOVERY;
	}
}

struct host_answer {
	struct lookup lk;
	int family;
	size_t naddrs;
	unsigned char addrs[SYNTH_POS][16];
};

static int host_answer(const char *node, int family, struct host_answer *out);

/* 0 and the answer; -1: not a mapped name; else an h_errno value. */
static int host_lookup(const char *node, int family, struct host_answer *out)
{
	real_ready();
	if ((family != AF_INET && family != AF_INET6) || !lookup_ready(node))
		return -1;
	return host_answer(node, family, out);
}

/* Lays out a hostent in the caller's buffer. */
static int fill_hostent(struct hostent *he, char *buf, size_t buflen,
			const char *name, int family,
			const unsigned char (*addrs)[16], size_t naddrs)
{
	size_t addrlen = family == AF_INET6 ? 16 : 4;
	size_t namelen = strlen(name) + 1;
	uintptr_t align = (uintptr_t)buf % sizeof(char *);
	size_t skip = align ? sizeof(char *) - align : 0;
	size_t nptrs = naddrs + 2; /* no aliases; the addresses; NULL */
	if (buflen < skip + nptrs * sizeof(char *) + naddrs * 16 + namelen)
		return ERANGE;
	char **ptrs = (char **)(buf + skip);
	char *bytes = (char *)(ptrs + nptrs);
	ptrs[0] = NULL;
	for (size_t i = 0; i < naddrs; i++) {
		ptrs[1 + i] = memcpy(bytes + 16 * i, addrs[i], addrlen);
	}
	ptrs[1 + naddrs] = NULL;
	he->h_name = memcpy(bytes + 16 * naddrs, name, namelen);
	he->h_aliases = ptrs;
	he->h_addrtype = family;
	he->h_length = (int)addrlen;
	he->h_addr_list = ptrs + 1;
	return 0;
}

static int host_answer(const char *node, int family, struct host_answer *out)
{
	struct addrinfo *targets;
	unsigned index;
	if (!mapped(node, &out->lk))
		return -1;
	int rc = resolve_mapped(&out->lk, 0, family, 0, &index, &targets);
	if (rc == 1) /* unmapped by a reload meanwhile */
		return -1;
	if (rc)
		return h_errno_for(rc);
	out->family = family;
	out->naddrs = 0;
	for (const struct addrinfo *t = targets;
	     t && out->naddrs < SYNTH_POS; t = t->ai_next) {
		struct synth s = {.index = index, .form = form_of(t->ai_addr),
				  .pos = (unsigned)out->naddrs};
		struct sockaddr_storage ss;
		socklen_t len;
		if (t->ai_family != family)
			continue;
		synth_encode(&s, &ss, &len);
		if (family == AF_INET)
			memcpy(out->addrs[out->naddrs++],
			       &((struct sockaddr_in *)&ss)->sin_addr, 4);
		else
			memcpy(out->addrs[out->naddrs++],
			       &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	real.freeaddrinfo(targets);
	if (!out->naddrs)
		return NO_DATA;
	log_msg(LOG_DEBUG, "gethostbyname(%s): slot %u", out->lk.name, index);
	return 0;
}

static int hostent_answer(const struct host_answer *a, int herr,
			  struct hostent *he, char *buf, size_t buflen,
			  struct hostent **result, int *h_errnop)
{
	*result = NULL;
	if (herr) {
		*h_errnop = herr;
		return herr == TRY_AGAIN ? EAGAIN : 0;
	}
	if (fill_hostent(he, buf, buflen, a->lk.name, a->family, a->addrs,
			 a->naddrs)) {
		*h_errnop = NETDB_INTERNAL;
		return ERANGE;
	}
	*result = he;
	return 0;
}

SHIM_EXPORT int gethostbyname2_r(const char *node, int family,
				 struct hostent *he, char *buf, size_t buflen,
				 struct hostent **result, int *h_errnop)
{
	struct host_answer a;
	int herr = host_lookup(node, family, &a);
	if (herr < 0)
		return real.gethostbyname2_r(node, family, he, buf, buflen,
					     result, h_errnop);
	return hostent_answer(&a, herr, he, buf, buflen, result, h_errnop);
}

SHIM_EXPORT int gethostbyname_r(const char *node, struct hostent *he,
				char *buf, size_t buflen,
				struct hostent **result, int *h_errnop)
{
	struct host_answer a;
	int herr = host_lookup(node, AF_INET, &a);
	if (herr < 0)
		return real.gethostbyname_r(node, he, buf, buflen, result,
					    h_errnop);
	return hostent_answer(&a, herr, he, buf, buflen, result, h_errnop);
}

/* Like libc's, the non-reentrant forms answer from storage of their own. */
static __thread struct {
	struct hostent he;
	char buf[(SYNTH_POS + 3) * sizeof(char *) + SYNTH_POS * 16 +
		 NAME_MAX_LEN + 1];
} static_answer __attribute__((tls_model("initial-exec")));

static struct hostent *static_hostent(const struct host_answer *a, int herr)
{
	struct hostent *result;
	hostent_answer(a, herr, &static_answer.he, static_answer.buf,
		       sizeof static_answer.buf, &result, &herr);
	if (!result)
		h_errno = herr;
	return result;
}

SHIM_EXPORT struct hostent *gethostbyname2(const char *node, int family)
{
	struct host_answer a;
	int herr = host_lookup(node, family, &a);
	if (herr < 0)
		return real.gethostbyname2(node, family);
	return static_hostent(&a, herr);
}

SHIM_EXPORT struct hostent *gethostbyname(const char *node)
{
	struct host_answer a;
	int herr = host_lookup(node, AF_INET, &a);
	if (herr < 0)
		return real.gethostbyname(node);
	return static_hostent(&a, herr);
}

/* ---- back from an address to the name ------------------------------ */

/* The name a raw synthetic address of `family` stands for. */
static bool name_of_raw(const void *addr, socklen_t len, int family,
			char name[NAME_MAX_LEN + 1])
{
	struct sockaddr_storage ss = {0};
	struct synth s;
	real_ready();
	if (family == AF_INET && len == 4) {
		ss.ss_family = AF_INET;
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
	} else if (family == AF_INET6 && len == 16) {
		ss.ss_family = AF_INET6;
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
	} else {
		return false;
	}
	return synth_decode((struct sockaddr *)&ss, sizeof ss, &s) &&
	       shim_ready() && slot_name(s.index, name);
}

SHIM_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int family,
				struct hostent *he, char *buf, size_t buflen,
				struct hostent **result, int *h_errnop)
{
	char name[NAME_MAX_LEN + 1];
	if (!addr || !name_of_raw(addr, len, family, name))
		return real.gethostbyaddr_r(addr, len, family, he, buf, buflen,
					    result, h_errnop);
	*result = NULL;
	if (fill_hostent(he, buf, buflen, name, family,
			 (const unsigned char(*)[16])addr, 1)) {
		*h_errnop = NETDB_INTERNAL;
		return ERANGE;
	}
	*result = he;
	return 0;
}

SHIM_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len,
					  int family)
{
	char name[NAME_MAX_LEN + 1];
	if (!addr || !name_of_raw(addr, len, family, name))
		return real.gethostbyaddr(addr, len, family);
	fill_hostent(&static_answer.he, static_answer.buf,
		     sizeof static_answer.buf, name, family,
		     (const unsigned char(*)[16])addr, 1);
	return &static_answer.he;
}

SHIM_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen,
			    char *host, socklen_t hostlen, char *serv,
			    socklen_t servlen, int flags)
{
	char name[NAME_MAX_LEN + 1];
	struct synth s;
	real_ready();
	if (!sa || !host || !hostlen || (flags & NI_NUMERICHOST) ||
	    !synth_decode(sa, salen, &s) || !shim_ready() ||
	    !slot_name(s.index, name))
		return real.getnameinfo(sa, salen, host, hostlen, serv, servlen,
					flags);
	if (serv && servlen) {
		int rc = real.getnameinfo(sa, salen, NULL, 0, serv, servlen,
					  flags);
		if (rc)
			return rc;
	}
	if (strlen(name) >= hostlen)
		return EAI_OVERFLOW;
	strcpy(host, name);
	return 0;
}
