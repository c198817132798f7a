/* The background resolver: one thread per process that resolves what no
 * lookup of the program's will, so that connect never has to: the named
 * targets of address rules, the new targets of a reload (for addresses a
 * program kept), and the real address of a name a reload unmapped. */
#ifndef HOSTSHIM_RESOLVER_H
#define HOSTSHIM_RESOLVER_H

#include <stdatomic.h>
#include <stdbool.h>

/* Some target may want the thread: said when rules go in force with a
 * named target to resolve, and the thread started now, or (start_now
 * false: in the constructor) by the next resolver_ensure. After a fork
 * resolver_ensure starts it again. Neither is ever called from connect's
 * paths, except by the one-time load. */
void resolver_needed(bool start_now);
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
/* Wakes the thread and waits up to `ms` for a whole pass of it: what was
 * wanted before the call has been tried. False on timeout. */
bool resolver_settle(long ms);
/* Without a thread (one could not be started): one pass on the calling
 * thread, which is a lookup's, never connect's. */
void resolver_inline(void);

#endif
