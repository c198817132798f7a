/* The rules in force: a pointer, replaced on reload, and reader counts
 * that say when the replaced ruleset may be freed.
 *
 * A reader adds itself to the count the current state names, then checks
 * the state did not move. The writer publishes the new ruleset, moves the
 * state on to another count and waits for the old one to drain: after
 * that no reader can hold the old ruleset. Readers never wait.
 *
 * Readers hold a ruleset for a few hundred instructions only: never across
 * the real resolver (hook_names.c copies what it needs and lets go). But a
 * reader can still be cut off inside, by a siglongjmp out of a signal
 * handler, and its count then never drops. So the writer waits a bounded
 * time, sleeping rather than spinning; on timeout it keeps the old ruleset
 * alive for good (a small leak beats a hang) and never uses that count
 * again, so one abandoned reader cannot stall every later reload. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "current.h"

#define COUNTS 64		/* a power of two */
#define DRAIN_NS 250000000L	/* longest wait for readers of an old ruleset */
#define KEPT_MAX 64		/* rulesets kept alive after a timeout, remembered */

static _Atomic(struct ruleset *) live;
/* generation << 6 | which count readers add themselves to */
static _Atomic unsigned state;
static _Atomic long readers[COUNTS];
static _Atomic uint64_t stuck; /* bit i: count i has a reader that never left */
static struct ruleset *kept[KEPT_MAX]; /* so leak checkers see them held */
static unsigned nkept;

const struct ruleset *current_enter(unsigned *ticket)
{
	for (;;) {
		unsigned s = atomic_load(&state);
		atomic_fetch_add(&readers[s % COUNTS], 1);
		if (atomic_load(&state) == s) {
			*ticket = s;
			return atomic_load(&live);
		}
		atomic_fetch_sub(&readers[s % COUNTS], 1);
	}
}

void current_leave(unsigned ticket)
{
	atomic_fetch_sub_explicit(&readers[ticket % COUNTS], 1,
				  memory_order_release);
}

const struct ruleset *current_peek(void)
{
	return atomic_load_explicit(&live, memory_order_acquire);
}

/* A count for the next state: not the one in use, none a reader is stuck
 * in. Counts found stuck that have since drained (a reader that was only
 * slow) are usable again. */
static unsigned next_count(unsigned in_use)
{
	uint64_t bad = atomic_load(&stuck);
	for (unsigned i = 0; i < COUNTS; i++)
		if ((bad >> i & 1) && !atomic_load(&readers[i]))
			bad &= ~((uint64_t)1 << i);
	atomic_store(&stuck, bad);
	for (unsigned k = 1; k < COUNTS; k++) {
		unsigned i = (in_use + k) % COUNTS;
		if (!(bad >> i & 1))
			return i;
	}
	return (in_use + 1) % COUNTS; /* all stuck: drains time out, nothing hangs */
}

/* Moves readers to another count and waits for the old one to empty:
 * false when it did not within DRAIN_NS. Sleeps from 20 us up, doubling. */
static bool drain(void)
{
	unsigned s = atomic_load(&state), old = s % COUNTS;
	atomic_store(&state, ((s / COUNTS + 1) * COUNTS) | next_count(old));
	long waited = 0, step = 20000;
	while (atomic_load(&readers[old])) {
		if (waited >= DRAIN_NS) {
			atomic_fetch_or(&stuck, (uint64_t)1 << old);
			return false;
		}
		nanosleep(&(struct timespec){0, step}, NULL);
		waited += step;
		step = step * 2 > 10000000L ? 10000000L : step * 2;
	}
	return true;
}

/* Threads that were inside a reader section when another one forked do
 * not exist in the child: their counts must not be waited for there. */
static void forget_readers(void)
{
	for (unsigned i = 0; i < COUNTS; i++)
		atomic_store(&readers[i], 0);
	atomic_store(&stuck, 0);
}

static void keep_forever(struct ruleset *rs)
{
	if (nkept < KEPT_MAX)
		kept[nkept++] = rs;
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
	/* Readers of `old` are gone, but may have left its rules in slots. */
	bool drained = drain();
	if (between)
		between(next, old);
	/* And readers that saw those are gone too. */
	drained &= drain();
	if (drained)
		return old;
	keep_forever(old);
	return NULL;
}

void uncut_begin(struct uncut *u)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &u->mask); /* per thread, as resolver.c says */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &u->cancel);
}

void uncut_end(struct uncut *u)
{
	pthread_setcancelstate(u->cancel, NULL);
	sigprocmask(SIG_SETMASK, &u->mask, NULL);
}
