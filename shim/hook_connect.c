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
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim.h"

static void log_redirect(const char *public_name, uint16_t public_port,
			 const struct rule *r, uint16_t target_port,
			 const struct sockaddr_storage *to)
{
	struct logline l = {.len = 0};
	ll_str(&l, public_name);
	ll_str(&l, ":");
	ll_uint(&l, public_port);
	bool v6 = strchr(r->target_host, ':') != NULL;
	ll_str(&l, v6 ? " -> [" : " -> ");
	ll_str(&l, r->target_host);
	ll_str(&l, v6 ? "]:" : ":");
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

/* What to do instead of the program's destination. */
struct redirect {
	struct sockaddr_storage to;
	socklen_t len;
	int err;	 /* nonzero: fail with this errno */
	bool to_ipv6; /* an IPv4 socket, an IPv6-only target: connect swaps */
};

/* Where the rule sends it, or why it can't. */
static void to_target(const struct endpoint *e, int status,
		      const struct rule *r, const char *public_name,
		      uint16_t port, _Atomic uint32_t logged[4], int family,
		      struct redirect *out)
{
	uint16_t target_port = r->target_port ? r->target_port : port;
	out->to_ipv6 = family == AF_INET && !e->has4 && e->has6;
	if (out->to_ipv6)
		family = AF_INET6;
	if (status ||
	    !endpoint_sockaddr(e, family, target_port, &out->to, &out->len)) {
		if (log_level >= LOG_WARN)
			log_unreachable(public_name, port, r);
		out->err = EHOSTUNREACH;
		return;
	}
	if (log_level >= LOG_DEBUG ||
	    (log_level >= LOG_INFO && log_first_time(logged, port)))
		log_redirect(public_name, port, r, target_port, &out->to);
}

static bool via_slot(unsigned index, int family, uint16_t port,
		     struct redirect *out)
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
			  ((struct route *)route)->logged, family, out);
		return true;
	}
	/* A port no rule names: where the name itself resolves. */
	if (!v->has_direct ||
	    !endpoint_sockaddr(&v->direct, family, port, &out->to, &out->len)) {
		if (log_level >= LOG_WARN)
			log_unreachable(s->name, port, NULL);
		out->err = EHOSTUNREACH;
	}
	return true;
}

/* True when `sa` is to be replaced by what `out` says. */
static bool rewrite(const struct sockaddr *sa, socklen_t len,
		    struct redirect *out)
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
	out->err = 0;
	out->to_ipv6 = false;

	unsigned index = synth_index(sa, len);
	if (index)
		return via_slot(index, sa->sa_family, port, out);

	const struct rule *r = rules_match_addr(sa, port);
	if (!r)
		return false;
	to_target(&r->fixed, r->fixed_status, r, r->name, port,
		  ((struct rule *)r)->logged, sa->sa_family, out);
	return true;
}

/* Puts an IPv6 socket of the same type in place of the IPv4 socket `fd`,
 * for a target that has only IPv6. Only syscalls: async-signal-safe. The
 * options that matter before a connect are carried over. */
static int swap_to_ipv6(int fd)
{
	int type, protocol, value, flags = fcntl(fd, F_GETFL);
	int fdflags = fcntl(fd, F_GETFD);
	socklen_t len = sizeof type;
	if (flags < 0 || fdflags < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len))
		return -1;
	len = sizeof protocol;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len))
		return -1;
	int s6 = socket(AF_INET6, type | (flags & O_NONBLOCK ? SOCK_NONBLOCK : 0),
			protocol);
	if (s6 < 0)
		return -1;
	static const struct {
		int level, name;
	} carried[] = {{SOL_SOCKET, SO_KEEPALIVE}, {SOL_SOCKET, SO_REUSEADDR},
		       {IPPROTO_TCP, TCP_NODELAY}};
	for (size_t i = 0; i < sizeof carried / sizeof *carried; i++) {
		len = sizeof value;
		if (!getsockopt(fd, carried[i].level, carried[i].name, &value, &len))
			setsockopt(s6, carried[i].level, carried[i].name, &value, len);
	}
	int rc = dup3(s6, fd, fdflags & FD_CLOEXEC ? O_CLOEXEC : 0);
	close(s6);
	return rc < 0 ? -1 : 0;
}

/* The common case, decided with a few loads: an IPv4 destination outside
 * the synthetic range, in a process without address rules. */
static inline bool plainly_unmapped(const struct sockaddr *sa)
{
	return atomic_load_explicit(&shim_connect_fast, memory_order_relaxed) &&
	       sa && sa->sa_family == AF_INET &&
	       (((const struct sockaddr_in *)sa)->sin_addr.s_addr &
		htonl(SYNTH_MASK)) != htonl(SYNTH_NET);
}

/* Out of line, so the common case in connect() costs no stack frame. */
static __attribute__((noinline)) int connect_slow(int fd,
						  const struct sockaddr *sa,
						  socklen_t len)
{
	struct redirect r;
	if (!rewrite(sa, len, &r))
		return real.connect(fd, sa, len);
	if (!r.err && r.to_ipv6 && swap_to_ipv6(fd))
		return -1;
	if (r.err) {
		errno = r.err;
		return -1;
	}
	return real.connect(fd, (struct sockaddr *)&r.to, r.len);
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (plainly_unmapped(sa))
		return real.connect(fd, sa, len);
	return connect_slow(fd, sa, len);
}

/* Sends can't swap the socket: an IPv4 socket may already carry traffic. */
static bool send_rewrite(const struct sockaddr *sa, socklen_t len,
			 struct redirect *r)
{
	if (!rewrite(sa, len, r))
		return false;
	if (r->to_ipv6)
		r->err = EHOSTUNREACH;
	return true;
}

static __attribute__((noinline)) ssize_t
sendto_slow(int fd, const void *buf, size_t n, int flags,
	    const struct sockaddr *sa, socklen_t len)
{
	struct redirect r;
	if (!send_rewrite(sa, len, &r))
		return real.sendto(fd, buf, n, flags, sa, len);
	if (r.err) {
		errno = r.err;
		return -1;
	}
	return real.sendto(fd, buf, n, flags, (struct sockaddr *)&r.to, r.len);
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			   const struct sockaddr *sa, socklen_t len)
{
	if (!sa || plainly_unmapped(sa))
		return real.sendto(fd, buf, n, flags, sa, len);
	return sendto_slow(fd, buf, n, flags, sa, len);
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct redirect r;
	if (!msg || !send_rewrite(msg->msg_name, msg->msg_namelen, &r))
		return real.sendmsg(fd, msg, flags);
	if (r.err) {
		errno = r.err;
		return -1;
	}
	struct msghdr copy = *msg;
	copy.msg_name = &r.to;
	copy.msg_namelen = r.len;
	return real.sendmsg(fd, &copy, flags);
}
