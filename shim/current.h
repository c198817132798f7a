/* The rules in force, and when a replaced set may be freed. */
#ifndef HOSTSHIM_CURRENT_H
#define HOSTSHIM_CURRENT_H

#include "rules.h"

/* Readers (lookups, and connects to a synthetic address or through an
 * address rule) hold the ruleset between enter and leave; that is also
 * what lets them use rule pointers kept in the slots. Lock-free, and
 * async-signal-safe: two atomic additions. */
const struct ruleset *current_enter(unsigned *ticket);
void current_leave(unsigned ticket);
/* The ruleset without holding it: for a quick look at what cannot go away
 * during the call (a flag), or NULL before the first load. */
const struct ruleset *current_peek(void);

/* The one writer at a time (loading, reloading): puts `next` in force and
 * returns the previous ruleset once no reader can be using it any more,
 * or NULL. `between` runs once the readers of the old ruleset are gone,
 * before any reader that saw what they left can go on (slots re-match
 * their names, targets take what the old lookups found). */
struct ruleset *current_replace(struct ruleset *next,
				void (*between)(struct ruleset *next,
						const struct ruleset *old));

#endif
