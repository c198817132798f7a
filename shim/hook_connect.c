/* Connect hooks: where a destination address is rewritten.
 *
 * These run in every connect and send of the program, possibly in a signal
 * handler, so they only read tables that are never changed in place: no
 * heap, no lock, no stdio, and errno is what the real call left (or the
 * libc-like error we report). An address that is neither synthetic nor
 * named by an address rule costs a few compares. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "shim.h"

static void log_redirect(const char *public_name, uint16_t public_port,
			 const struct rule *r, uint16_t target_port,
			 const struct sockaddr_storage *to)
{
	struct logline l = {.len = 0};
	ll_str(&l, public_name);
	ll_str(&l, ":");
	ll_uint(&l, public_port);
	ll_str(&l, " -> ");
	ll_str(&l, r->target_host);
	ll_str(&l, ":");
	ll_uint(&l, target_port);
	ll_str(&l, " (");
	ll_addr(&l, (const struct sockaddr *)to);
	ll_str(&l, ")");
	ll_emit(&l);
}

static void log_unreachable(const char *public_name, uint16_t public_port,
			    const struct rule *r)
{
	struct logline l = {.len = 0};
	ll_str(&l, public_name);
	ll_str(&l, ":");
	ll_uint(&l, public_port);
	if (r) {
		ll_str(&l, ": rule ");
		ll_str(&l, r->public_text);
		ll_str(&l, " -> ");
		ll_str(&l, r->target_text);
		ll_str(&l, " (");
		ll_str(&l, r->origin);
		ll_str(&l, "): the target has no address for this socket");
	} else {
		ll_str(&l, ": no rule for this port and the name has no address");
	}
	ll_emit(&l);
}

/* Where the rule sends it; false with *err set when it can't. */
static bool to_target(const struct endpoint *e, int status,
		      const struct rule *r, const char *public_name,
		      uint16_t port, _Atomic uint32_t logged[4], int family,
		      struct sockaddr_storage *to, socklen_t *tolen, int *err)
{
	uint16_t target_port = r->target_port ? r->target_port : port;
	if (status || !endpoint_sockaddr(e, family, target_port, to, tolen)) {
		if (log_level >= LOG_WARN)
			log_unreachable(public_name, port, r);
		*err = EHOSTUNREACH;
		return false;
	}
	if (log_level >= LOG_DEBUG ||
	    (log_level >= LOG_INFO && log_first_time(logged, port)))
		log_redirect(public_name, port, r, target_port, to);
	return true;
}

static bool via_slot(unsigned index, int family, uint16_t port,
		     struct sockaddr_storage *to, socklen_t *tolen, int *err)
{
	const struct slot *s = slot_at(index);
	const struct view *v =
		s ? atomic_load_explicit(&((struct slot *)s)->view,
					 memory_order_acquire)
		  : NULL;
	if (!v)
		return false; /* not handed out by this process: leave it */
	const struct route *route = routes_pick(v, port);
	if (route) {
		to_target(&route->to, route->status, route->rule, s->name, port,
			  ((struct route *)route)->logged, family, to, tolen,
			  err);
		return true;
	}
	/* A port no rule names: where the name itself resolves. */
	if (!v->has_direct ||
	    !endpoint_sockaddr(&v->direct, family, port, to, tolen)) {
		if (log_level >= LOG_WARN)
			log_unreachable(s->name, port, NULL);
		*err = EHOSTUNREACH;
	}
	return true;
}

/* True when `sa` is to be replaced: then either *err is set (fail with it)
 * or `to` holds the destination to use instead. */
static bool rewrite(const struct sockaddr *sa, socklen_t len,
		    struct sockaddr_storage *to, socklen_t *tolen, int *err)
{
	uint16_t port;
	if (!shim_ready() || !sa)
		return false;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		return false;

	unsigned index = synth_index(sa, len);
	if (index)
		return via_slot(index, sa->sa_family, port, to, tolen, err);

	const struct rule *r = rules_match_addr(sa, port);
	if (!r)
		return false;
	to_target(&r->fixed, r->fixed_status, r, r->name, port,
		  ((struct rule *)r)->logged, sa->sa_family, to, tolen, err);
	return true;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage to;
	socklen_t tolen;
	int err = 0;
	if (!rewrite(sa, len, &to, &tolen, &err))
		return real.connect(fd, sa, len);
	if (err) {
		errno = err;
		return -1;
	}
	return real.connect(fd, (struct sockaddr *)&to, tolen);
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			   const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage to;
	socklen_t tolen;
	int err = 0;
	if (!rewrite(sa, len, &to, &tolen, &err))
		return real.sendto(fd, buf, n, flags, sa, len);
	if (err) {
		errno = err;
		return -1;
	}
	return real.sendto(fd, buf, n, flags, (struct sockaddr *)&to, tolen);
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sockaddr_storage to;
	int err = 0;
	struct msghdr copy;
	if (!msg || !rewrite(msg->msg_name, msg->msg_namelen, &to,
			     &copy.msg_namelen, &err))
		return real.sendmsg(fd, msg, flags);
	if (err) {
		errno = err;
		return -1;
	}
	socklen_t namelen = copy.msg_namelen;
	copy = *msg;
	copy.msg_name = &to;
	copy.msg_namelen = namelen;
	return real.sendmsg(fd, &copy, flags);
}
