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

/* Fds whose connect is in progress to a redirected destination: a word
 * per fd, nonzero while remembered. */
#define EXPLAIN_FDS 4096
struct fd_watch {
	_Atomic uint64_t tag; /* 0: nothing remembered */
	_Atomic uint64_t w[5];
};
extern struct fd_watch explain_fds[EXPLAIN_FDS];

/* Any connect of `fd` to an unmapped destination: whatever was remembered
 * is about an earlier connection. One load when nothing was. */
static inline void explain_forget(int fd)
{
	if ((unsigned)fd < EXPLAIN_FDS &&
	    __builtin_expect(atomic_load_explicit(&explain_fds[fd].tag,
						  memory_order_relaxed) != 0,
			     0))
		atomic_store_explicit(&explain_fds[fd].tag, 0,
				      memory_order_relaxed);
}

#endif
