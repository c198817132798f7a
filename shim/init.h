/* Loading: the configuration is read once, on the first hooked call that
 * carries a name or an internet address; nothing happens at load time. */
#ifndef HOSTSHIM_INIT_H
#define HOSTSHIM_INIT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "real.h"

/* Nonzero while this thread loads the configuration: hooks it reaches
 * meanwhile go straight to libc. */
extern __thread int shim_busy __attribute__((tls_model("initial-exec")));

enum { SHIM_NEW = 0, SHIM_READY = -1 }; /* else: the loading process's pid */
extern _Atomic int shim_state;
/* What connect must look at, known once loaded (0 before: everything). */
enum { CONNECT_SYNTH_ONLY = 1, /* no address rules: only synthetic ones */
       CONNECT_ALL };
extern _Atomic int shim_connect_filter;
bool shim_load(bool for_connect);
/* True once, for the first connect after a load by a connect that finds
 * its rule's target unresolved: it may wait RESOLVER_SETTLE_MS. */
bool shim_settle_once(void);
/* On the lookup path: puts an edited configuration file in force; looks
 * at the file at most once a second. */
void reload_if_changed(void);

/* True when rules may apply: loads the configuration on first use. False
 * while this thread is loading it. Once loaded, always true: a signal
 * handler that interrupts our own lookup still gets its connect rewritten. */
static inline bool shim_ready_for(bool connect)
{
	if (__builtin_expect(atomic_load_explicit(&shim_state,
						  memory_order_acquire) ==
				     SHIM_READY,
			     1))
		return true;
	return shim_load(connect);
}
static inline bool shim_ready(void)
{
	return shim_ready_for(false);
}

/* For calls that go straight to libc, possibly before anything loaded. */
static inline void real_ready(void)
{
	if (__builtin_expect(!__atomic_load_n(&real.connect, __ATOMIC_ACQUIRE), 0))
		real_resolve();
}

#endif
