/* Connect hooks: where a destination address is rewritten.
 *
 * These run in every connect and send of the program, possibly in a signal
 * handler, so they only read tables through atomic loads: no heap, no
 * lock, no stdio, and errno is what the real call left (or the libc-like
 * error we report). An IPv4 address that is not synthetic, in a process
 * without address rules, costs a few compares.
 *
 * The program's socket is never replaced: the lookup answered in the
 * families the target has, so the program made a socket that can reach
 * it, and its options, flags, epoll registrations and connection state
 * are the kernel's business alone. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "current.h"
#include "explain.h"
#include "init.h"
#include "log.h"
#include "resolver.h"
#include "rules.h"
#include "slots.h"
#include "targets.h"

/* What to do instead of the program's destination. */
struct redirect {
	struct sockaddr_storage to;
	socklen_t len;
	int err; /* nonzero: fail with this errno */
};

/* Who is asking, for messages: a mapped name's slot or an address rule. */
struct asker {
	unsigned index;	 /* the slot, or 0 */
	const char *addr; /* an address rule's public address */
	uint16_t port;
};

static void ll_public(struct logline *l, const struct asker *a)
{
	char name[NAME_MAX_LEN + 1];
	if (a->index && !slot_name(a->index, name))
		strcpy(name, "?");
	ll_host_port(l, a->index ? name : a->addr, a->port);
}

static void log_redirect(const struct asker *a, const struct rule *r,
			 const struct redirect *out)
{
	struct logline l = {.len = 0};
	ll_public(&l, a);
	ll_str(&l, " -> ");
	if (r)
		ll_host_port(&l, r->target_host,
			     r->target_port ? r->target_port : a->port);
	else
		ll_str(&l, "its own address");
	ll_str(&l, " (");
	ll_addr(&l, (const struct sockaddr *)&out->to);
	ll_str(&l, ")");
	ll_emit(&l);
}

static void log_failure(const struct asker *a, const struct rule *r)
{
	struct logline l = {.len = 0};
	ll_public(&l, a);
	if (r) {
		ll_str(&l, ": rule ");
		ll_str(&l, r->public_text);
		ll_str(&l, " -> ");
		ll_str(&l, r->target_text);
		ll_str(&l, " (");
		ll_str(&l, r->origin);
		ll_str(&l, ")");
	}
	ll_str(&l, ": the target has no address this socket can reach (an "
		   "IPv4 socket needs an IPv4 target, an IPV6_V6ONLY socket "
		   "an IPv6 one), or it never resolved");
	ll_emit(&l);
}

/* A target with no answer yet: connect never resolves and never waits
 * for anyone's lookup. It fails at once, and the background resolver
 * (resolver.c) is told; one warning a minute per target. */
static void unresolved(struct target *t, const struct asker *a,
		       const struct rule *r)
{
	if (target_unreachable(t))
		resolver_wake();
	if (log_level < LOG_WARN || !target_warn_due(t))
		return;
	struct logline l = {.len = 0};
	ll_public(&l, a);
	ll_str(&l, ": ");
	ll_str(&l, r ? r->target_host : "its own address");
	ll_str(&l, " has not resolved (yet): failing with EHOSTUNREACH "
		   "while it is retried in the background");
	ll_emit(&l);
}

/* Said at info once per public name, port, target and target address. */
static bool redirect_is_new(const struct asker *a, const struct rule *r,
			    const struct redirect *out)
{
	char name[NAME_MAX_LEN + 1];
	if (a->index && !slot_name(a->index, name))
		return false;
	return explain_redirect_is_new(a->index ? name : a->addr, a->port,
				       r ? r->target_text : "",
				       (const struct sockaddr *)&out->to);
}

static void to_target(int fd, const struct target *t, const struct rule *r,
		      const struct synth *s, const struct asker *a,
		      struct redirect *out)
{
	struct pick p = {.form = s->form,
			 .pos = s->pos,
			 .port = r && r->target_port ? r->target_port : a->port,
			 .fd = fd};
	bool picked = target_pick(t, &p, &out->to, &out->len);
	/* The one exception to "connect never waits" (RESOLVER_SETTLE_MS):
	 * a process whose first hooked call is a connect through an address
	 * rule (curl and Bun to *.localhost, a new process each time) would
	 * otherwise fail its first and only connect. */
	if (!picked && !atomic_load_explicit(&t->resolved, memory_order_acquire) &&
	    shim_settle_once() && resolver_settle(RESOLVER_SETTLE_MS))
		picked = target_pick(t, &p, &out->to, &out->len);
	if (!picked) {
		out->err = EHOSTUNREACH;
		if (!atomic_load_explicit(&t->resolved, memory_order_acquire))
			unresolved((struct target *)t, a, r);
		else if (log_level >= LOG_WARN &&
			 explain_unresolved_due(r ? r->target_host : "?"))
			log_failure(a, r);
		return;
	}
	out->err = 0;
	if (log_level >= LOG_DEBUG ||
	    (log_level >= LOG_INFO && redirect_is_new(a, r, out)))
		log_redirect(a, r, out);
}

/* With the rules held: true when `sa` (synthetic when `synthetic`, then
 * decoded in `s`) is to be replaced by `out`. */
static bool rewrite_held(const struct ruleset *rs, int fd,
			 const struct sockaddr *sa, bool synthetic,
			 struct synth s, struct asker a, struct redirect *out)
{
	struct route route;
	if (synthetic) {
		if (!slot_route(rs, s.index, a.port, &route))
			return false; /* not handed out by this process */
		if (route.wake)
			resolver_wake();
		a.index = s.index;
		to_target(fd, route.target, route.rule, &s, &a, out);
		/* The name's own answer was the slot's: still the same name? */
		if (!route.rule && !out->err && !slot_still(s.index, route.gen))
			out->err = EHOSTUNREACH;
		return true;
	}
	const struct rule *r = rules_match_addr(rs, sa, a.port);
	if (!r)
		return false;
	s.form = form_of(sa);
	s.pos = 0;
	a.addr = r->name;
	to_target(fd, r->target, r, &s, &a, out);
	return true;
}

/* True when `sa` is to be replaced by what `out` says. */
static bool rewrite(int fd, const struct sockaddr *sa, socklen_t len,
		    struct redirect *out)
{
	struct asker a = {0};
	unsigned ticket;
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		a.port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		a.port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		return false; /* AF_UNIX and the rest: no rule is about them */
	if (!shim_ready_for(true))
		return false;
	struct synth s = {0};
	bool synthetic = synth_decode(sa, len, &s);
	if (!synthetic && !rules_port_may_match(a.port))
		return false;
	const struct ruleset *rs = current_enter(&ticket);
	bool rewritten = rs && rewrite_held(rs, fd, sa, synthetic, s, a, out);
	current_leave(ticket);
	if (rewritten)
		resolver_poke(); /* an edit reaches a program that only connects */
	return rewritten;
}

/* The common case, decided with a few loads: an IPv4 destination outside
 * the synthetic range, in a process without address rules. */
static inline bool plainly_unmapped(const struct sockaddr *sa)
{
	return atomic_load_explicit(&shim_connect_filter,
				    memory_order_acquire) == CONNECT_SYNTH_ONLY &&
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
	int saved = errno;
	real_ready();
	if (!rewrite(fd, sa, len, &r)) {
		explain_forget(fd);
		errno = saved;
		return real.connect(fd, sa, len);
	}
	if (r.err) {
		errno = r.err;
		return -1;
	}
	errno = saved;
	int rc = real.connect(fd, (struct sockaddr *)&r.to, r.len), err = errno;
	explain_connected(fd, sa, (struct sockaddr *)&r.to, rc, err);
	errno = err;
	return rc;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (plainly_unmapped(sa)) {
		explain_forget(fd);
		return real.connect(fd, sa, len);
	}
	return connect_slow(fd, sa, len);
}

/* sendto with a destination, TCP Fast Open included (MSG_FASTOPEN on an
 * unconnected TCP socket connects it to that destination). */
static __attribute__((noinline)) ssize_t
sendto_slow(int fd, const void *buf, size_t n, int flags,
	    const struct sockaddr *sa, socklen_t len)
{
	struct redirect r;
	int saved = errno;
	real_ready();
	if (!rewrite(fd, sa, len, &r)) {
		errno = saved;
		return real.sendto(fd, buf, n, flags, sa, len);
	}
	if (r.err) {
		errno = r.err;
		return -1;
	}
	errno = saved;
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
	int saved = errno;
	real_ready();
	if (!msg || !msg->msg_name || plainly_unmapped(msg->msg_name) ||
	    !rewrite(fd, msg->msg_name, msg->msg_namelen, &r)) {
		errno = saved;
		return real.sendmsg(fd, msg, flags);
	}
	if (r.err) {
		errno = r.err;
		return -1;
	}
	struct msghdr copy = *msg;
	copy.msg_name = &r.to;
	copy.msg_namelen = r.len;
	errno = saved;
	return real.sendmsg(fd, &copy, flags);
}

/* ---- sendmmsg: libuv drains queued UDP with it --------------------- */

#define MMSG_CHUNK 16 /* messages rewritten per call, on the stack */

static bool any_may_be_mapped(const struct mmsghdr *vec, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (vec[i].msg_hdr.msg_name &&
		    !plainly_unmapped(vec[i].msg_hdr.msg_name))
			return true;
	return false;
}

/* Sends up to MMSG_CHUNK messages from `vec` with their destinations
 * rewritten; stops before a message whose destination fails. Returns what
 * the real sendmmsg returned, or -1 with errno for a first message that
 * fails. */
static int send_chunk(int fd, struct mmsghdr *vec, unsigned n,
		      mmsg_flags_t flags)
{
	struct mmsghdr copy[MMSG_CHUNK];
	struct redirect to[MMSG_CHUNK];
	unsigned k = 0;
	for (; k < n && k < MMSG_CHUNK; k++) {
		struct msghdr *m = &vec[k].msg_hdr;
		copy[k] = vec[k];
		if (!rewrite(fd, m->msg_name, m->msg_namelen, &to[k]))
			continue;
		if (to[k].err) {
			if (k == 0) {
				errno = to[k].err;
				return -1;
			}
			break;
		}
		copy[k].msg_hdr.msg_name = &to[k].to;
		copy[k].msg_hdr.msg_namelen = to[k].len;
	}
	int sent = real.sendmmsg(fd, copy, k, flags);
	for (int i = 0; i < sent; i++)
		vec[i].msg_len = copy[i].msg_len;
	return sent;
}

SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n,
			 mmsg_flags_t flags)
{
	real_ready();
	if (!vec || !any_may_be_mapped(vec, n))
		return real.sendmmsg(fd, vec, n, flags);
	int saved = errno;
	unsigned done = 0;
	while (done < n) {
		unsigned want = n - done < MMSG_CHUNK ? n - done : MMSG_CHUNK;
		int sent = send_chunk(fd, vec + done, want, flags);
		if (sent < 0)
			return done ? (int)done : -1;
		done += (unsigned)sent;
		if ((unsigned)sent < want)
			break;
	}
	errno = saved;
	return (int)done;
}
