/* The rules in force: a pointer, replaced on reload, and two reader counts
 * that say when the replaced ruleset may be freed.
 *
 * A reader adds itself to the count of the current epoch's parity. The
 * writer publishes the new ruleset, then moves the epoch on and waits for
 * the old parity's count to drain: after that no reader can hold the old
 * ruleset. Readers never wait; the writer (a lookup that noticed an edit)
 * waits for readers that started before, which are short, except a lookup
 * that waits for DNS. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "current.h"

static _Atomic(struct ruleset *) live;
static _Atomic unsigned epoch;
static _Atomic long readers[2];

const struct ruleset *current_enter(unsigned *ticket)
{
	for (;;) {
		unsigned e = atomic_load(&epoch);
		atomic_fetch_add(&readers[e & 1], 1);
		if (atomic_load(&epoch) == e) {
			*ticket = e;
			return atomic_load(&live);
		}
		atomic_fetch_sub(&readers[e & 1], 1);
	}
}

void current_leave(unsigned ticket)
{
	atomic_fetch_sub_explicit(&readers[ticket & 1], 1, memory_order_release);
}

const struct ruleset *current_peek(void)
{
	return atomic_load_explicit(&live, memory_order_acquire);
}

static void drain(void)
{
	unsigned e = atomic_fetch_add(&epoch, 1);
	while (atomic_load(&readers[e & 1]))
		sched_yield();
}

/* Threads that were inside a reader section when another one forked do
 * not exist in the child: their counts must not be waited for there. */
static void forget_readers(void)
{
	atomic_store(&readers[0], 0);
	atomic_store(&readers[1], 0);
}

struct ruleset *current_replace(struct ruleset *next,
				void (*between)(struct ruleset *next,
						const struct ruleset *old))
{
	static atomic_bool registered;
	if (!atomic_exchange(&registered, true))
		pthread_atfork(NULL, NULL, forget_readers);
	struct ruleset *old = atomic_exchange(&live, next);
	if (!old)
		return NULL;
	drain(); /* readers of `old` are gone, but may have left its rules in slots */
	if (between)
		between(next, old);
	drain(); /* and readers that saw those are gone too */
	return old;
}
