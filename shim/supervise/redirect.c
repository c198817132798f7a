/* Where one destination goes: a synthetic address the stub handed out,
 * or an address a rule names, becomes the target in the destination's
 * own family and length. Reads what routes.c stored; never waits on DNS. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

#include "supervise.h"

/* The synthetic index of 127.88.x.y (or its v4-mapped form), or 0. */
static unsigned synthetic(const struct sockaddr *sa, socklen_t len)
{
	uint32_t ip;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		ip = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	} else if (sa->sa_family == AF_INET6 &&
		   len >= sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (!IN6_IS_ADDR_V4MAPPED(a6))
			return 0;
		memcpy(&ip, a6->s6_addr + 12, 4);
	} else {
		return 0;
	}
	ip = ntohl(ip);
	return (ip & SV_SYNTH_MASK) == SV_SYNTH_NET ? ip & ~SV_SYNTH_MASK : 0;
}

static uint16_t port_of(const struct sockaddr *sa)
{
	return ntohs(sa->sa_family == AF_INET
			     ? ((const struct sockaddr_in *)sa)->sin_port
			     : ((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* The target in the destination's own family and length. An IPv6
 * socket that asked for a v4-mapped address prefers IPv4. */
static bool build(const struct sockaddr *sa, socklen_t len, const struct ep *e,
		  uint16_t port, struct sockaddr_storage *out)
{
	memcpy(out, sa, len);
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		if (!e->has4)
			return false;
		in->sin_addr = e->a4;
		in->sin_port = htons(port);
		return true;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	bool mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
	if (e->has4 && (mapped || !e->has6)) {
		v4mapped(&in6->sin6_addr, &e->a4);
		in6->sin6_scope_id = 0;
	} else if (e->has6) {
		in6->sin6_addr = e->a6;
		in6->sin6_scope_id = e->scope6;
	} else {
		return false;
	}
	in6->sin6_port = htons(port);
	return true;
}

static void report(const char *what, const char *public, uint16_t port,
		   const struct rule *r, const struct sockaddr_storage *to,
		   bool first)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr *sa = (const struct sockaddr *)to;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  addr, sizeof addr);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
			  addr, sizeof addr);
	const char *l = sa->sa_family == AF_INET6 ? "[" : "";
	const char *rb = sa->sa_family == AF_INET6 ? "]" : "";
	bool v6 = strchr(public, ':') != NULL; /* an IPv6 address rule */
	if (first)
		log_msg(LOG_INFO, "%s%s%s:%u -> %s (%s%s%s:%u)", v6 ? "[" : "",
			public, v6 ? "]" : "", port,
			r ? r->target_text : public, l, addr, rb, port_of(sa));
	else
		log_msg(LOG_DEBUG, "%s %s%s%s:%u -> %s%s%s:%u", what,
			v6 ? "[" : "", public, v6 ? "]" : "", port,
			l, addr, rb, port_of(sa));
}

static bool route_synthetic(unsigned index, const struct sockaddr *sa,
			    socklen_t len, struct sockaddr_storage *out,
			    const char *what)
{
	uint16_t port = port_of(sa);
	struct target_view v;
	if (!targets_for_synthetic(index, port, &v))
		return false; /* not one of ours: left as the program wrote it */
	const struct rule *r = v.rule;
	uint16_t to_port = r && r->target_port ? r->target_port : port;
	if (!build(sa, len, &v.to, to_port, out)) {
		log_msg(v.first ? LOG_WARN : LOG_DEBUG,
			"%s:%u: %s has no address for this socket's family%s%s",
			v.name, port, r ? r->target_host : v.name,
			v.to.status ? ": " : "",
			v.to.status ? gai_strerror(v.to.status) : "");
		return false;
	}
	report(what, v.name, port, r, out, v.first);
	return true;
}

static bool route_address(const struct sockaddr *sa, socklen_t len,
			  struct sockaddr_storage *out, const char *what)
{
	uint16_t port = port_of(sa);
	const struct rule *r = lib_match_addr(sa, port);
	struct target_view v;
	if (!r || !targets_for_rule(r, port, &v))
		return false;
	if (!build(sa, len, &v.to, r->target_port ? r->target_port : port, out))
		return false;
	report(what, v.name, port, r, out, v.first);
	return true;
}

bool redirect_route(const struct sockaddr *sa, socklen_t len,
		    struct sockaddr_storage *out, const char *what)
{
	if (sa->sa_family == AF_INET ? len < sizeof(struct sockaddr_in)
	    : sa->sa_family == AF_INET6 ? len < sizeof(struct sockaddr_in6)
					: true)
		return false;
	unsigned index = synthetic(sa, len);
	if (index)
		return route_synthetic(index, sa, len, out, what);
	return route_address(sa, len, out, what);
}
