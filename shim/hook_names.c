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
 * getaddrinfo's lists are built by libc, from the synthetic addresses with
 * AI_NUMERICHOST, so the program frees them with the libc's own
 * freeaddrinfo whatever that libc's layout. glibc frees node by node, so
 * lists for several addresses are chained; musl frees a list as the one
 * block it allocated, so there the answer has the first address only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "current.h"
#include "explain.h"
#include "init.h"
#include "log.h"
#include "rules.h"
#include "slots.h"
#include "targets.h"

#ifndef NETDB_INTERNAL /* not in musl */
#define NETDB_INTERNAL NO_RECOVERY
#endif

/* A mapped name and the rules that apply to it, in precedence order. */
struct lookup {
	const struct ruleset *rs;
	unsigned ticket;
	char name[NAME_MAX_LEN + 1];
	const struct rule *routes[ROUTES_MAX];
	size_t nroutes;
};

/* Holds the rules in force for a lookup of `node`; false when there are
 * none (nothing to release then). */
static bool lookup_begin(const char *node, struct lookup *lk)
{
	if (!node || !shim_ready())
		return false;
	reload_if_changed();
	lk->rs = current_enter(&lk->ticket);
	if (!lk->rs) { /* no ruleset could be built */
		current_leave(lk->ticket);
		return false;
	}
	targets_prepare(rules_targets(lk->rs));
	return true;
}

static bool mapped(const char *node, struct lookup *lk)
{
	struct match m;
	if (!rules_may_match(lk->rs, node) || !name_canonical(node, lk->name) ||
	    !rules_match_name(lk->rs, lk->name, &m))
		return false;
	lk->nroutes = rules_routes(&m, lk->routes, ROUTES_MAX);
	if (lk->nroutes > ROUTES_MAX) {
		log_msg(LOG_WARN, "%s: more than %d rules apply; the least "
				  "specific are ignored",
			lk->name, ROUTES_MAX);
		lk->nroutes = ROUTES_MAX;
	}
	return lk->nroutes > 0;
}

/* The rule for a port (0: not known yet, the least specific rule). */
static const struct rule *route_for(const struct lookup *lk, int port)
{
	if (!port)
		return lk->routes[lk->nroutes - 1];
	for (size_t i = 0; i < lk->nroutes; i++)
		if (lk->routes[i]->port == port || !lk->routes[i]->port)
			return lk->routes[i];
	return NULL;
}

static void warn_unresolved(const char *name, const struct rule *r, int rc)
{
	if (explain_unresolved_due(r->target_host)) /* once a minute */
		log_msg(LOG_WARN, "%s: rule %s -> %s (%s): %s does not resolve: %s",
			name, r->public_text, r->target_text, r->origin,
			r->target_host, gai_strerror(rc));
}

/* The targets of the other rules, and the name's own address when ports
 * without a rule go there: connect may need them too. */
static void refresh_others(const struct lookup *lk, unsigned index,
			   const struct rule *primary)
{
	bool any_port = false;
	for (size_t i = 0; i < lk->nroutes; i++) {
		const struct rule *r = lk->routes[i];
		bool seen = r->target == primary->target;
		any_port |= !r->port;
		for (size_t j = 0; j < i && !seen; j++)
			seen = lk->routes[j]->target == r->target;
		if (seen)
			continue;
		int rc = target_resolve(r->target, r->target_host, AF_UNSPEC, 0,
					NULL);
		if (rc)
			warn_unresolved(lk->name, r, rc);
	}
	if (!any_port)
		target_resolve(slot_own(index), lk->name, AF_UNSPEC, 0, NULL);
}

/* The slot of a mapped name with its targets resolved, and the primary
 * rule's answer from libc in `targets`. Returns 0 or an EAI_* code. */
static int resolve_mapped(const struct lookup *lk, const struct rule *primary,
			  int family, int flags, unsigned *index,
			  struct addrinfo **targets)
{
	if (!(*index = slot_assign(lk->name, lk->routes, lk->nroutes))) {
		log_msg(LOG_WARN, "%s: out of memory for its synthetic address",
			lk->name);
		return EAI_MEMORY;
	}
	refresh_others(lk, *index, primary);
	int rc = target_resolve(primary->target, primary->target_host, family,
				flags & (AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL),
				targets);
	/* No address of the family asked for is libc's answer, not a fault;
	 * a target with no address at all is worth a warning. */
	if (rc && (family == AF_UNSPEC ||
		   target_resolve(primary->target, primary->target_host,
				  AF_UNSPEC, 0, NULL)))
		warn_unresolved(lk->name, primary, rc);
	return rc;
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

/* getaddrinfo for a name that may be mapped, the rules held. */
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
	const struct rule *primary = route_for(lk, port);
	if (!primary) /* no rule for this port: the name as it is */
		return real.getaddrinfo(node, service, hints, res);
	/* A program that binds gets what it can bind: the target's address. */
	if (h->ai_flags & AI_PASSIVE)
		return real.getaddrinfo(primary->target_host, service, hints, res);
	rc = resolve_mapped(lk, primary, h->ai_family, h->ai_flags, &index,
			    &targets);
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
	    !lookup_begin(node, &lk))
		return real.getaddrinfo(node, service, hints, res);
	int rc = answer(&lk, node, service, hints, &h, res);
	current_leave(lk.ticket);
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
	if ((family != AF_INET && family != AF_INET6) ||
	    !lookup_begin(node, &out->lk))
		return -1;
	int herr = host_answer(node, family, out);
	current_leave(out->lk.ticket);
	return herr;
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
	const struct rule *primary = route_for(&out->lk, 0);
	int rc = resolve_mapped(&out->lk, primary, family, 0, &index, &targets);
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
