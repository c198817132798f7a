/* The background resolver: a thread that resolves what no lookup of the
 * program's will, so that connect never has to: the named targets of
 * address rules, the new targets of a reload (for addresses a program
 * kept), and the real address of a name a reload unmapped. It exists
 * while something is wanted (resolver.c says when else). */
#ifndef HOSTSHIM_RESOLVER_H
#define HOSTSHIM_RESOLVER_H

#include <stdatomic.h>
#include <stdbool.h>

/* How long the call that wants a target first may wait for its answer
 * from the thread: a lookup whose answer leads to an address rule, a
 * reload, and the load by a connect through an address rule (curl and
 * Bun connect to *.localhost with no lookup, once per process: without
 * it each such connect would fail). Time for /etc/hosts or a nameserver
 * that works; a target that takes longer stays unresolved meanwhile. */
#define RESOLVER_SETTLE_MS 200

/* Registers the fork handlers; at the first load. */
void resolver_init(void);
/* Some target is wanted: the thread started now, or (start_now false: in
 * the constructor) by the next resolver_ensure. Never called from
 * connect's paths, except by the one-time load. */
void resolver_needed(bool start_now);
/* A lookup ran: lookups notice edits, the thread need not stay for it. */
void resolver_note_lookup(void);
/* A file is followed: in a process that only connects, the thread stays
 * and connects poke it. */
extern _Atomic bool resolver_watch;
void resolver_ensure_slow(void);
extern _Atomic bool resolver_missing; /* needed, and not running here */
static inline void resolver_ensure(void)
{
	if (__builtin_expect(atomic_load_explicit(&resolver_missing,
						  memory_order_relaxed), 0))
		resolver_ensure_slow();
}

/* connect: a target it needs has no answer. Async-signal-safe: an atomic
 * increment and a futex wake. */
void resolver_wake(void);
/* connect through a rule: at most once a second, the thread (if there is
 * one) looks at the file. Async-signal-safe. */
void resolver_poke(void);
/* Wakes the thread and waits up to `ms` for a whole pass of it: what was
 * wanted before the call has been tried. False on timeout. */
bool resolver_settle(long ms);
/* Without a thread (one could not be started): one pass on the calling
 * thread, which is a lookup's, never connect's. */
void resolver_inline(void);

#endif
