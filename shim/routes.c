/* Routes: for a mapped name, the rules that apply and where their targets
 * are right now.
 *
 * A lookup of the name resolves every target with the real resolver (so
 * Docker DNS and /etc/hosts answer, and a target that moved is seen) and
 * publishes the result as the slot's view. connect only reads the view: it
 * never resolves, allocates or locks. A view is immutable once published; a
 * lookup that finds the targets where they were keeps the old view, and a
 * replaced view is kept (never freed), since a connect in another thread or
 * a signal handler may still be reading it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

static _Atomic(struct view *) retired_views;

int endpoint_resolve(const char *host, struct endpoint *e)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM},
			*res, *ai;
	memset(e, 0, sizeof *e);
	int rc = real.getaddrinfo(host, NULL, &hints, &res);
	if (rc)
		return rc;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && !e->has4) {
			e->a4 = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
			e->has4 = true;
		} else if (ai->ai_family == AF_INET6 && !e->has6) {
			struct sockaddr_in6 *in6 = (void *)ai->ai_addr;
			e->a6 = in6->sin6_addr;
			e->scope6 = in6->sin6_scope_id;
			e->has6 = true;
		}
	}
	real.freeaddrinfo(res);
	return e->has4 || e->has6 ? 0 : EAI_NONAME;
}

/* An IPv4 socket can only reach an IPv4 target. An IPv6 socket takes the
 * target's IPv6 address, or its IPv4 one in v4-mapped form; `prefer4`
 * (the program chose an IPv4 answer) puts IPv4 first. */
bool endpoint_sockaddr(const struct endpoint *e, int family, uint16_t port,
		       bool prefer4, struct sockaddr_storage *out,
		       socklen_t *len)
{
	memset(out, 0, sizeof(struct sockaddr_in6)); /* not all 128 bytes */
	if (family == AF_INET) {
		struct sockaddr_in *in4 = (void *)out;
		if (!e->has4)
			return false;
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		in4->sin_addr = e->a4;
		*len = sizeof *in4;
		return true;
	}
	struct sockaddr_in6 *in6 = (void *)out;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	if (e->has4 && (prefer4 || !e->has6)) {
		in6->sin6_addr.s6_addr[10] = 0xff;
		in6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(in6->sin6_addr.s6_addr + 12, &e->a4, 4);
	} else if (e->has6) {
		in6->sin6_addr = e->a6;
		in6->sin6_scope_id = e->scope6;
	} else {
		return false;
	}
	*len = sizeof *in6;
	return true;
}

void endpoint_describe(const struct endpoint *e, char *buf, size_t len)
{
	char a4[INET_ADDRSTRLEN] = "", a6[INET6_ADDRSTRLEN] = "";
	if (e->has4)
		inet_ntop(AF_INET, &e->a4, a4, sizeof a4);
	if (e->has6)
		inet_ntop(AF_INET6, &e->a6, a6, sizeof a6);
	snprintf(buf, len, "%s%s%s", a4, *a4 && *a6 ? ", " : "", a6);
}

static void resolve_routes(struct view *v)
{
	for (size_t i = 0; i < v->nroutes; i++) {
		struct route *r = &v->routes[i];
		size_t same = 0;
		while (same < i && strcmp(v->routes[same].rule->target_host,
					  r->rule->target_host))
			same++;
		if (r->rule->target_literal) {
			r->to = r->rule->fixed;
			r->status = r->rule->fixed_status;
		} else if (same < i) {
			r->to = v->routes[same].to;
			r->status = v->routes[same].status;
		} else {
			r->status = endpoint_resolve(r->rule->target_host, &r->to);
		}
		/* A fixed target port and an IPv4 address: connect copies it. */
		r->ready4 = !r->status && r->to.has4 && r->rule->target_port;
		if (r->ready4) {
			r->to4.sin_family = AF_INET;
			r->to4.sin_port = htons(r->rule->target_port);
			r->to4.sin_addr = r->to.a4;
		}
	}
}

static bool same_targets(const struct view *a, const struct view *b)
{
	if (a->nroutes != b->nroutes || a->has_direct != b->has_direct ||
	    memcmp(&a->direct, &b->direct, sizeof a->direct))
		return false;
	for (size_t i = 0; i < a->nroutes; i++)
		if (a->routes[i].rule != b->routes[i].rule ||
		    a->routes[i].status != b->routes[i].status ||
		    memcmp(&a->routes[i].to, &b->routes[i].to, sizeof a->routes[i].to))
			return false;
	return true;
}

/* Publishes `fresh` (on the stack or the heap) unless the slot already has
 * a view with the same targets. Returns false when out of memory. */
static bool publish(struct slot *s, struct view *fresh, size_t size,
		    bool on_heap)
{
	struct view *old = atomic_load_explicit(&s->view, memory_order_acquire);
	if (old && same_targets(old, fresh)) {
		if (on_heap) /* keep the old one, and what it has logged */
			free(fresh);
		return true;
	}
	if (!on_heap) {
		struct view *copy = malloc(size);
		if (!copy)
			return false;
		fresh = memcpy(copy, fresh, size);
	}
	old = atomic_exchange_explicit(&s->view, fresh, memory_order_acq_rel);
	if (!old)
		return true;
	old->retired = atomic_load_explicit(&retired_views, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&retired_views,
						      &old->retired, old,
						      memory_order_release,
						      memory_order_relaxed))
		;
	return true;
}

static void warn_failures(const struct slot *s, const struct view *v)
{
	for (size_t i = 0; i < v->nroutes; i++)
		if (v->routes[i].status)
			log_msg(LOG_WARN, "%s: rule %s -> %s (%s): %s does not "
					  "resolve: %s",
				s->name, v->routes[i].rule->public_text,
				v->routes[i].rule->target_text,
				v->routes[i].rule->origin,
				v->routes[i].rule->target_host,
				gai_strerror(v->routes[i].status));
}

/* What a lookup answers: 0, ROUTE_NONE when a known port has no rule, or
 * the EAI_* code of the target the port (port unknown: the name) needs. */
static int lookup_status(const struct view *v, int port)
{
	const struct route *primary = port ? routes_pick(v, (uint16_t)port)
					   : &v->routes[v->nroutes - 1];
	return primary ? primary->status : ROUTE_NONE;
}

#define ROUTES_ON_STACK 8

/* Resolves the targets of the slot's name and publishes them; returns what
 * the lookup answers (lookup_status). A view of literal targets only is
 * built once: nothing in it can move. Small views are built on the stack
 * and copied to the heap only when the targets moved. */
int routes_refresh(unsigned index, const struct match *m, int port)
{
	struct slot *s = (struct slot *)slot_at(index);
	struct view *old = atomic_load_explicit(&s->view, memory_order_acquire);
	if (old && old->fixed)
		return lookup_status(old, port);

	size_t n = rules_routes(m, NULL, 0);
	size_t size = sizeof(struct view) + n * sizeof(struct route);
	union {
		struct view v;
		unsigned char bytes[sizeof(struct view) +
				    ROUTES_ON_STACK * sizeof(struct route)];
	} local;
	const struct rule *rules_local[ROUTES_ON_STACK], **rules = rules_local;
	bool on_heap = n > ROUTES_ON_STACK;
	struct view *v = on_heap ? malloc(size) : &local.v;
	if (on_heap && !(rules = malloc(n * sizeof *rules))) {
		free(v);
		return EAI_MEMORY;
	}
	if (!v)
		return EAI_MEMORY;
	memset(v, 0, size);
	rules_routes(m, rules, n);
	v->nroutes = n;
	v->fixed = true;
	for (size_t i = 0; i < n; i++) {
		v->routes[i].rule = rules[i];
		v->fixed &= rules[i]->target_literal;
	}
	if (on_heap)
		free(rules);
	resolve_routes(v);
	/* Only port-specific rules: other ports go where the name really is. */
	if (v->routes[n - 1].rule->port) {
		v->has_direct = endpoint_resolve(s->name, &v->direct) == 0;
		v->fixed = false;
	}
	int status = lookup_status(v, port);
	warn_failures(s, v);
	if (!publish(s, v, size, on_heap))
		return EAI_MEMORY;
	return status;
}

/* True the first time a port is seen: "one line per distinct redirect".
 * Lock-free; after four ports it stays quiet. */
bool log_first_time(_Atomic uint32_t logged[4], uint16_t port)
{
	uint32_t key = (uint32_t)port + 1;
	for (int i = 0; i < 4; i++) {
		uint32_t seen = atomic_load_explicit(&logged[i], memory_order_relaxed);
		if (seen == 0 &&
		    atomic_compare_exchange_strong_explicit(
			    &logged[i], &seen, key, memory_order_relaxed,
			    memory_order_relaxed))
			return true;
		if (seen == key)
			return false;
	}
	return false;
}
