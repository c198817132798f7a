/* The rules in force, and when a replaced set may be freed. */
#ifndef HOSTSHIM_CURRENT_H
#define HOSTSHIM_CURRENT_H

#include <signal.h>

#include "rules.h"

/* Readers (lookups, and connects to a synthetic address or through an
 * address rule) hold the ruleset between enter and leave; that is also
 * what lets them use rule pointers kept in the slots. Lock-free, and
 * async-signal-safe: two atomic additions. A reader section is short and
 * never spans a call into the resolver: a lookup copies what it needs,
 * leaves, resolves, and enters again to store. */
const struct ruleset *current_enter(unsigned *ticket);
void current_leave(unsigned ticket);
/* The ruleset without holding it: for a quick look at what cannot go away
 * during the call (a flag), or NULL before the first load. */
const struct ruleset *current_peek(void);

/* The one writer at a time (loading, reloading): puts `next` in force and
 * returns the previous ruleset once no reader can be using it any more,
 * or NULL (also when a reader that never left, cut off by a siglongjmp,
 * keeps it: it is then never freed). The wait is bounded and sleeps.
 * `between` runs once the readers of the old ruleset are gone (or the
 * wait for them ran out), before any reader that saw what they left can
 * go on (slots re-match their names, targets take what the old lookups
 * found). */
struct ruleset *current_replace(struct ruleset *next,
				void (*between)(struct ruleset *next,
						const struct ruleset *old));

/* A stretch of the calling thread that nothing can cut off: signals
 * blocked (no handler can siglongjmp out) and cancellation disabled. For
 * what holds a mark others would wait for (a reload, storing an answer,
 * a slot's lock): never around a call into the resolver. One system
 * call each way. */
struct uncut {
	sigset_t mask;
	int cancel;
};
void uncut_begin(struct uncut *u);
void uncut_end(struct uncut *u);

#endif
