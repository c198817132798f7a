/* Messages that explain what the redirects do and why one failed.
 *
 * The hooks call these with one line each; the memory of what was already
 * said lives here, in fixed tables (no heap, no lock), so that connect may
 * use them. */
#ifndef HOSTSHIM_EXPLAIN_H
#define HOSTSHIM_EXPLAIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/* At load, at info: how many rules came from where, or that there is no
 * configuration at all. `path` is "" when no file was read. */
void explain_sources(const struct config *cfg, const char *path,
		     const char *map);

/* True when the redirect of `public` (a name, or an address rule's
 * address) and `port` to `target` at `to` was not said yet: a moved
 * target or an edited rule is said again. */
bool explain_redirect_is_new(const char *public, unsigned port,
			     const char *target, const struct sockaddr *to);

/* True at most once a minute per target host: its lookup failed. */
bool explain_unresolved_due(const char *host);

/* After the real connect of a redirected destination `sa` to `to`
 * returned `rc` with `err`: explains a refusal or a timeout, and
 * remembers a connect in progress so that getsockopt(SO_ERROR) can. */
void explain_connected(int fd, const struct sockaddr *sa,
		       const struct sockaddr *to, int rc, int err);

/* Connects in progress to a redirected destination, a place per fd
 * modulo EXPLAIN_FDS: the tag says which fd (and which remembering), the
 * socket's inode which socket, so that only that very socket's answer is
 * explained. Two connects in progress whose fds share a place: the later
 * is kept; the earlier one's failure goes unsaid, never misattributed. */
#define EXPLAIN_FDS 64
struct fd_watch {
	_Atomic uint64_t tag; /* 0: nothing; else generation << 32 | fd + 1 */
	_Atomic uint64_t ino; /* the socket's st_ino when it connected */
	_Atomic uint64_t w[5];
};
extern struct fd_watch explain_fds[EXPLAIN_FDS];

static inline struct fd_watch *explain_place(int fd)
{
	return &explain_fds[(unsigned)fd % EXPLAIN_FDS];
}

/* Whether `tag` is about `fd`. */
static inline bool explain_tag_is(uint64_t tag, int fd)
{
	return tag && (uint32_t)tag == (uint32_t)fd + 1;
}

/* Any connect of `fd` to an unmapped destination: whatever was remembered
 * is about an earlier connection. One load when nothing was. */
static inline void explain_forget(int fd)
{
	struct fd_watch *fw = explain_place(fd);
	uint64_t tag = atomic_load_explicit(&fw->tag, memory_order_relaxed);
	if (__builtin_expect(tag != 0, 0) && explain_tag_is(tag, fd))
		atomic_compare_exchange_strong_explicit(&fw->tag, &tag, 0,
							memory_order_relaxed,
							memory_order_relaxed);
}

#endif
