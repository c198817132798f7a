/* Name hooks: a mapped name resolves to its synthetic address, and that
 * address back to the name. Everything else goes to libc untouched.
 *
 * getaddrinfo's list is never built here: libc builds it from the synthetic
 * address with AI_NUMERICHOST, so the program frees it with the libc's own
 * freeaddrinfo whatever that libc's layout (glibc and musl differ). The
 * targets are resolved here, in the lookup, which Node.js runs on a worker
 * thread, so that connect on its event loop never waits for DNS. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

#ifndef NETDB_INTERNAL /* not in musl */
#define NETDB_INTERNAL NO_RECOVERY
#endif

/* The mapped name `node` stands for, in `name`, or false. */
static bool mapped(const char *node, char name[NAME_MAX_LEN + 1],
		   struct match *m)
{
	return node && rules_may_match(node) && name_canonical(node, name) &&
	       rules_match_name(name, m);
}

static uint16_t answer_port(const struct addrinfo *ai)
{
	if (ai->ai_family == AF_INET)
		return ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port);
	return ntohs(((struct sockaddr_in6 *)ai->ai_addr)->sin6_port);
}

/* glibc frees ai_canonname on its own, so it gets a copy; musl frees the
 * list as one block and never ai_canonname, so it can point at the slot's
 * name, which lives as long as the process. */
static void set_canonname(struct addrinfo *ai, const char *name)
{
	if (!ai->ai_canonname)
		return;
#ifdef __GLIBC__
	char *copy = strdup(name);
	if (copy) {
		free(ai->ai_canonname);
		ai->ai_canonname = copy;
	}
#else
	for (; ai; ai = ai->ai_next)
		if (ai->ai_canonname)
			ai->ai_canonname = (char *)name;
#endif
}

static int synth_answer(unsigned index, const char *service,
			const struct addrinfo *hints, struct addrinfo **res)
{
	const char *name = slot_at(index)->name;
	struct addrinfo h = {0};
	char text[INET6_ADDRSTRLEN];
	if (hints) {
		h.ai_flags = hints->ai_flags;
		h.ai_family = hints->ai_family;
		h.ai_socktype = hints->ai_socktype;
		h.ai_protocol = hints->ai_protocol;
	}
	/* AI_ADDRCONFIG would hide a loopback-range answer in a namespace
	 * with no other address; connect takes it elsewhere anyway. */
	h.ai_flags = (h.ai_flags & ~AI_ADDRCONFIG) | AI_NUMERICHOST;
	synth_text(index, h.ai_family, text);
	int rc = real.getaddrinfo(text, service, &h, res);
	if (rc == 0 && (h.ai_flags & AI_CANONNAME))
		set_canonname(*res, name);
	if (rc == 0)
		log_msg(LOG_DEBUG, "getaddrinfo(%s) -> %s", name, text);
	return rc;
}

SHIM_EXPORT int getaddrinfo(const char *node, const char *service,
			    const struct addrinfo *hints, struct addrinfo **res)
{
	char name[NAME_MAX_LEN + 1];
	struct match m;
	int family = hints ? hints->ai_family : AF_UNSPEC;
	if (!shim_ready() || (hints && (hints->ai_flags & AI_NUMERICHOST)) ||
	    (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) ||
	    !mapped(node, name, &m))
		return real.getaddrinfo(node, service, hints, res);

	unsigned index = slot_for_name(name);
	if (!index) {
		log_msg(LOG_WARN, "%s: no synthetic address left", name);
		return EAI_MEMORY;
	}
	int rc = synth_answer(index, service, hints, res);
	if (rc)
		return rc; /* a bad service or hints: libc's own answer */
	rc = routes_refresh(index, &m, answer_port(*res));
	if (rc == 0)
		return 0;
	real.freeaddrinfo(*res);
	*res = NULL;
	if (rc == ROUTE_NONE)
		return real.getaddrinfo(node, service, hints, res);
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

/* Lays out a hostent for one address in the caller's buffer. */
static int fill_hostent(struct hostent *he, char *buf, size_t buflen,
			const char *name, int family, const void *addr)
{
	size_t addrlen = family == AF_INET6 ? 16 : 4;
	size_t namelen = strlen(name) + 1;
	uintptr_t align = (uintptr_t)buf % sizeof(char *);
	size_t skip = align ? sizeof(char *) - align : 0;
	if (buflen < skip + 3 * sizeof(char *) + 16 + namelen)
		return ERANGE;
	char **ptrs = (char **)(buf + skip);
	char *bytes = (char *)(ptrs + 3);
	memcpy(bytes, addr, addrlen);
	memcpy(bytes + 16, name, namelen);
	ptrs[0] = NULL;	 /* aliases */
	ptrs[1] = bytes; /* addresses */
	ptrs[2] = NULL;
	he->h_name = bytes + 16;
	he->h_aliases = ptrs;
	he->h_addrtype = family;
	he->h_length = (int)addrlen;
	he->h_addr_list = ptrs + 1;
	return 0;
}

static void synth_bytes(unsigned index, int family, unsigned char out[16])
{
	struct sockaddr_storage ss;
	synth_address(index, family, &ss);
	if (family == AF_INET6)
		memcpy(out, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	else
		memcpy(out, &((struct sockaddr_in *)&ss)->sin_addr, 4);
}

/* 0 and a slot index; -1: not a mapped name; else an h_errno value. */
static int host_lookup(const char *node, int family, char *name,
		       unsigned *index)
{
	struct match m;
	if (!shim_ready() || (family != AF_INET && family != AF_INET6) ||
	    !mapped(node, name, &m))
		return -1;
	if (!(*index = slot_for_name(name)))
		return TRY_AGAIN;
	int rc = routes_refresh(*index, &m, 0);
	if (rc)
		return h_errno_for(rc);
	log_msg(LOG_DEBUG, "gethostbyname(%s): slot %u", name, *index);
	return 0;
}

static int hostent_answer(const char *name, int family, unsigned index,
			  int herr, struct hostent *he, char *buf,
			  size_t buflen, struct hostent **result, int *h_errnop)
{
	unsigned char addr[16];
	*result = NULL;
	if (herr) {
		*h_errnop = herr;
		return herr == TRY_AGAIN ? EAGAIN : 0;
	}
	synth_bytes(index, family, addr);
	if (fill_hostent(he, buf, buflen, name, family, addr)) {
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
	char name[NAME_MAX_LEN + 1];
	unsigned index = 0;
	int herr = host_lookup(node, family, name, &index);
	if (herr < 0)
		return real.gethostbyname2_r(node, family, he, buf, buflen,
					     result, h_errnop);
	return hostent_answer(name, family, index, herr, he, buf, buflen,
			      result, h_errnop);
}

SHIM_EXPORT int gethostbyname_r(const char *node, struct hostent *he,
				char *buf, size_t buflen,
				struct hostent **result, int *h_errnop)
{
	char name[NAME_MAX_LEN + 1];
	unsigned index = 0;
	int herr = host_lookup(node, AF_INET, name, &index);
	if (herr < 0)
		return real.gethostbyname_r(node, he, buf, buflen, result,
					    h_errnop);
	return hostent_answer(name, AF_INET, index, herr, he, buf, buflen,
			      result, h_errnop);
}

/* Like libc's, the non-reentrant forms answer from storage of their own. */
static __thread struct {
	struct hostent he;
	char buf[3 * sizeof(char *) + 16 + NAME_MAX_LEN + 1 + sizeof(char *)];
} static_answer __attribute__((tls_model("initial-exec")));

SHIM_EXPORT struct hostent *gethostbyname2(const char *node, int family)
{
	char name[NAME_MAX_LEN + 1];
	unsigned index = 0;
	int herr = host_lookup(node, family, name, &index);
	if (herr < 0)
		return real.gethostbyname2(node, family);
	struct hostent *result;
	hostent_answer(name, family, index, herr, &static_answer.he,
		       static_answer.buf, sizeof static_answer.buf, &result,
		       &herr);
	if (!result)
		h_errno = herr;
	return result;
}

SHIM_EXPORT struct hostent *gethostbyname(const char *node)
{
	char name[NAME_MAX_LEN + 1];
	unsigned index = 0;
	int herr = host_lookup(node, AF_INET, name, &index);
	if (herr < 0)
		return real.gethostbyname(node);
	struct hostent *result;
	hostent_answer(name, AF_INET, index, herr, &static_answer.he,
		       static_answer.buf, sizeof static_answer.buf, &result,
		       &herr);
	if (!result)
		h_errno = herr;
	return result;
}

/* ---- back from an address to the name ------------------------------ */

/* The slot a raw address of `family` belongs to, or NULL. */
static const struct slot *slot_of_raw(const void *addr, socklen_t len,
				      int family)
{
	struct sockaddr_storage ss = {0};
	if (!shim_ready())
		return NULL;
	if (family == AF_INET && len == 4) {
		ss.ss_family = AF_INET;
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
	} else if (family == AF_INET6 && len == 16) {
		ss.ss_family = AF_INET6;
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
	} else {
		return NULL;
	}
	return slot_at(synth_index((struct sockaddr *)&ss, sizeof ss));
}

SHIM_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int family,
				struct hostent *he, char *buf, size_t buflen,
				struct hostent **result, int *h_errnop)
{
	const struct slot *s = slot_of_raw(addr, len, family);
	if (!s)
		return real.gethostbyaddr_r(addr, len, family, he, buf, buflen,
					    result, h_errnop);
	*result = NULL;
	if (fill_hostent(he, buf, buflen, s->name, family, addr)) {
		*h_errnop = NETDB_INTERNAL;
		return ERANGE;
	}
	*result = he;
	return 0;
}

SHIM_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len,
					  int family)
{
	const struct slot *s = slot_of_raw(addr, len, family);
	if (!s)
		return real.gethostbyaddr(addr, len, family);
	fill_hostent(&static_answer.he, static_answer.buf,
		     sizeof static_answer.buf, s->name, family, addr);
	return &static_answer.he;
}

SHIM_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen,
			    char *host, socklen_t hostlen, char *serv,
			    socklen_t servlen, int flags)
{
	const struct slot *s = NULL;
	if (shim_ready() && sa && host && hostlen && !(flags & NI_NUMERICHOST))
		s = slot_at(synth_index(sa, salen));
	if (!s)
		return real.getnameinfo(sa, salen, host, hostlen, serv, servlen,
					flags);
	if (serv && servlen) {
		int rc = real.getnameinfo(sa, salen, NULL, 0, serv, servlen,
					  flags);
		if (rc)
			return rc;
	}
	if (strlen(s->name) >= hostlen)
		return EAI_OVERFLOW;
	strcpy(host, s->name);
	return 0;
}
