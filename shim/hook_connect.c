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
#include <fcntl.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim.h"

/* What to do instead of the program's destination. */
struct redirect {
	struct sockaddr_storage to;
	socklen_t len;
	int err;	 /* nonzero: fail with this errno */
	bool to_ipv6; /* an IPv4 socket, an IPv6-only target: connect swaps */
	bool can_swap; /* connect may swap the socket; sends may not */
	const struct rule *rule; /* for messages */
	const char *public_name;
	uint16_t port;
};

/* Where a public name or address and port were sent, or why not. */
static void log_line(const char *public_name, uint16_t port,
		     const struct rule *r, const char *what,
		     const struct redirect *out)
{
	struct logline l = {.len = 0};
	ll_host_port(&l, public_name, port);
	if (!r) {
		ll_str(&l, what);
		ll_emit(&l);
		return;
	}
	if (out && !out->err) {
		ll_str(&l, " -> ");
		ll_host_port(&l, r->target_host,
			     r->target_port ? r->target_port : port);
		ll_str(&l, " (");
		ll_addr(&l, (const struct sockaddr *)&out->to);
		ll_str(&l, ")");
	} else {
		ll_str(&l, ": rule ");
		ll_str(&l, r->public_text);
		ll_str(&l, " -> ");
		ll_str(&l, r->target_text);
		ll_str(&l, " (");
		ll_str(&l, r->origin);
		ll_str(&l, "): ");
		ll_str(&l, what);
	}
	ll_emit(&l);
}

/* Where the rule sends it, or why it can't. `prefer4`: the program picked
 * an IPv4 answer (a v4-mapped destination on an IPv6 socket). */
static void to_target(const struct endpoint *e, int status,
		      const struct rule *r, const char *public_name,
		      uint16_t port, _Atomic uint32_t logged[4], int family,
		      bool prefer4, struct redirect *out)
{
	uint16_t target_port = r->target_port ? r->target_port : port;
	out->rule = r;
	out->public_name = public_name;
	out->port = port;
	out->to_ipv6 = family == AF_INET && !e->has4 && e->has6;
	if (out->to_ipv6 && !out->can_swap) {
		out->err = EHOSTUNREACH;
		if (log_level >= LOG_WARN)
			log_line(public_name, port, r,
				 "an IPv4 socket can't send to an IPv6-only "
				 "target; connect it, or use an IPv6 socket",
				 NULL);
		return;
	}
	if (out->to_ipv6)
		family = AF_INET6;
	if (status || !endpoint_sockaddr(e, family, target_port, prefer4,
					 &out->to, &out->len)) {
		out->err = EHOSTUNREACH;
		if (log_level >= LOG_WARN)
			log_line(public_name, port, r,
				 "the target has no address", NULL);
		return;
	}
	if (log_level >= LOG_DEBUG ||
	    (log_level >= LOG_INFO && log_first_time(logged, port)))
		log_line(public_name, port, r, NULL, out);
}

static bool via_slot(unsigned index, int family, uint16_t port, bool prefer4,
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
			  ((struct route *)route)->logged, family, prefer4, out);
		return true;
	}
	/* A port no rule names: where the name itself resolves. */
	if (!v->has_direct || !endpoint_sockaddr(&v->direct, family, port,
						 prefer4, &out->to, &out->len)) {
		out->err = EHOSTUNREACH;
		if (log_level >= LOG_WARN)
			log_line(s->name, port, NULL,
				 ": no rule for this port, and the name has "
				 "no address of its own",
				 NULL);
	}
	return true;
}

/* True when `sa` is to be replaced by what `out` says. */
static bool rewrite(const struct sockaddr *sa, socklen_t len, bool can_swap,
		    struct redirect *out)
{
	uint16_t port;
	bool prefer4 = false;
	if (!sa || !shim_ready())
		return false;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6 &&
		   len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		port = ntohs(in6->sin6_port);
		prefer4 = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
	} else {
		return false;
	}
	out->err = 0;
	out->to_ipv6 = false;
	out->can_swap = can_swap;

	unsigned index = synth_index(sa, len);
	if (index)
		return via_slot(index, sa->sa_family, port, prefer4, out);

	const struct rule *r = rules_match_addr(sa, port);
	if (!r)
		return false;
	to_target(&r->fixed, r->fixed_status, r, r->name, port,
		  ((struct rule *)r)->logged, sa->sa_family, prefer4, out);
	return true;
}

/* Options a program sets before connect, carried to a swapped socket. */
static const struct {
	int level, name;
} carried[] = {
	{SOL_SOCKET, SO_KEEPALIVE},	{SOL_SOCKET, SO_REUSEADDR},
	{SOL_SOCKET, SO_RCVTIMEO},	{SOL_SOCKET, SO_SNDTIMEO},
	{SOL_SOCKET, SO_LINGER},	{SOL_SOCKET, SO_PRIORITY},
	{IPPROTO_TCP, TCP_NODELAY},	{IPPROTO_TCP, TCP_KEEPIDLE},
	{IPPROTO_TCP, TCP_KEEPINTVL},	{IPPROTO_TCP, TCP_KEEPCNT},
	{IPPROTO_TCP, TCP_USER_TIMEOUT},
};

/* The kernel reports twice the size a program set. A size equal to a new
 * socket's default was most likely never set, and setting it would pin it
 * (no more autotuning), so only a size the program changed is carried. */
static void carry_buffer_size(int from, int to, int name)
{
	int size, fresh;
	socklen_t len = sizeof size;
	if (getsockopt(from, SOL_SOCKET, name, &size, &len))
		return;
	len = sizeof fresh;
	if (getsockopt(to, SOL_SOCKET, name, &fresh, &len) || size == fresh)
		return;
	size /= 2;
	setsockopt(to, SOL_SOCKET, name, &size, sizeof size);
}

/* The port an IPv4 socket was bound to, as an IPv6 address to bind the
 * replacement to; false when it was not bound. */
static bool bound_as_ipv6(int fd, struct sockaddr_in6 *out)
{
	struct sockaddr_in in4;
	socklen_t len = sizeof in4;
	if (getsockname(fd, (struct sockaddr *)&in4, &len) ||
	    in4.sin_family != AF_INET ||
	    (in4.sin_port == 0 && in4.sin_addr.s_addr == INADDR_ANY))
		return false;
	memset(out, 0, sizeof *out);
	out->sin6_family = AF_INET6;
	out->sin6_port = in4.sin_port;
	if (in4.sin_addr.s_addr != INADDR_ANY) {
		out->sin6_addr.s6_addr[10] = 0xff;
		out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(out->sin6_addr.s6_addr + 12, &in4.sin_addr, 4);
	}
	return true;
}

/* Puts an IPv6 socket of the same type in place of the IPv4 socket `fd`,
 * for a target that has only IPv6. Only syscalls: async-signal-safe. */
static int swap_to_ipv6(int fd)
{
	int type, protocol, flags = fcntl(fd, F_GETFL);
	int fdflags = fcntl(fd, F_GETFD);
	unsigned char value[32];
	struct sockaddr_in6 bound;
	socklen_t len = sizeof type;
	if (flags < 0 || fdflags < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len))
		return -1;
	len = sizeof protocol;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len))
		return -1;
	bool was_bound = bound_as_ipv6(fd, &bound);
	int s6 = socket(AF_INET6, type | (flags & O_NONBLOCK ? SOCK_NONBLOCK : 0),
			protocol);
	if (s6 < 0)
		return -1;
	for (size_t i = 0; i < sizeof carried / sizeof *carried; i++) {
		len = sizeof value;
		if (!getsockopt(fd, carried[i].level, carried[i].name, value, &len))
			setsockopt(s6, carried[i].level, carried[i].name, value, len);
	}
	carry_buffer_size(fd, s6, SO_SNDBUF);
	carry_buffer_size(fd, s6, SO_RCVBUF);
	/* dup3 closes the old socket, which frees its port for the bind. */
	int rc = dup3(s6, fd, fdflags & FD_CLOEXEC ? O_CLOEXEC : 0);
	close(s6);
	if (rc >= 0 && was_bound)
		rc = bind(fd, (struct sockaddr *)&bound, sizeof bound);
	return rc < 0 ? -1 : 0;
}

/* Out of line, so the common case in connect() costs no stack frame. */
/* Decides the two common IPv4 cases before any other work: *to4 set, the
 * usual redirect (a mapped name whose target has an IPv4 address and a
 * port: its sockaddr was made in the lookup); true with *to4 NULL, an
 * address no rule can take. False: rewrite() decides. */
static bool ipv4_shortcut(const struct sockaddr *sa, socklen_t len,
			  const struct sockaddr_in **to4)
{
	*to4 = NULL;
	if (!sa || sa->sa_family != AF_INET || len < sizeof(struct sockaddr_in) ||
	    !atomic_load_explicit(&shim_connect_filter, memory_order_relaxed))
		return false;
	uint16_t port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	unsigned index = synth_index(sa, len);
	if (!index)
		return !rules_addr_port(port);
	const struct slot *s = slot_at(index);
	const struct view *v =
		s ? atomic_load_explicit(&((struct slot *)s)->view,
					 memory_order_acquire)
		  : NULL;
	const struct route *r = v ? routes_pick(v, port) : NULL;
	if (!r || !r->ready4 || log_level >= LOG_INFO)
		return false;
	*to4 = &r->to4;
	return true;
}

static __attribute__((noinline)) int connect_rewritten(int fd,
						       const struct sockaddr *sa,
						       socklen_t len)
{
	struct redirect r;
	if (!rewrite(sa, len, true, &r))
		return real.connect(fd, sa, len);
	if (!r.err && r.to_ipv6 && swap_to_ipv6(fd)) {
		int err = errno;
		if (log_level >= LOG_WARN)
			log_line(r.public_name, r.port, r.rule,
				 "could not put an IPv6 socket in place of the "
				 "IPv4 one for this IPv6-only target",
				 NULL);
		errno = err;
		return -1;
	}
	if (r.err) {
		errno = r.err;
		return -1;
	}
	return real.connect(fd, (struct sockaddr *)&r.to, r.len);
}

/* The common case, decided with a few loads: an IPv4 destination outside
 * the synthetic range, in a process without address rules. (With them,
 * rules_match_addr turns most destinations away with one bit test.) */
static inline bool plainly_unmapped(const struct sockaddr *sa)
{
	return atomic_load_explicit(&shim_connect_filter,
				    memory_order_relaxed) == CONNECT_SYNTH_ONLY &&
	       sa && sa->sa_family == AF_INET &&
	       (((const struct sockaddr_in *)sa)->sin_addr.s_addr &
		htonl(SYNTH_MASK)) != htonl(SYNTH_NET);
}

/* Out of line, so the common case in connect() costs no stack frame. */
static __attribute__((noinline)) int connect_slow(int fd,
						  const struct sockaddr *sa,
						  socklen_t len)
{
	const struct sockaddr_in *to4;
	if (!ipv4_shortcut(sa, len, &to4))
		return connect_rewritten(fd, sa, len);
	if (to4)
		return real.connect(fd, (const struct sockaddr *)to4, sizeof *to4);
	return real.connect(fd, sa, len);
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (plainly_unmapped(sa))
		return real.connect(fd, sa, len);
	return connect_slow(fd, sa, len);
}

static __attribute__((noinline)) ssize_t
sendto_slow(int fd, const void *buf, size_t n, int flags,
	    const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in *to4;
	if (ipv4_shortcut(sa, len, &to4))
		return to4 ? real.sendto(fd, buf, n, flags,
					 (const struct sockaddr *)to4, sizeof *to4)
			   : real.sendto(fd, buf, n, flags, sa, len);
	struct redirect r;
	if (!rewrite(sa, len, false, &r))
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
	/* Sends can't swap the socket: an IPv4 socket may already carry
	 * traffic. */
	if (!msg || !rewrite(msg->msg_name, msg->msg_namelen, false, &r))
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
