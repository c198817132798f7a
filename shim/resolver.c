/* The background resolver: a thread, for targets no lookup of the
 * program's resolves, so that connect never does and never waits.
 *
 * It resolves what is wanted: the named targets of address rules (when a
 * connect or a lookup's answer leads to the rule, or a connect loaded the
 * rules, or the process forks), a reload's new targets (so that an
 * address a program kept goes to the new target), a name's real address
 * once a reload unmapped it, and any target a connect found without an
 * answer. A failure is retried after 1 s, then twice as long each time,
 * up to 8 s (targets.c); an address rule's target RETRIES_MAX times, then
 * it is given up until a connect or a lookup wants it again; the others
 * once per want.
 *
 * The thread exists only while something is wanted: a pass that finds
 * nothing left ends it, and the next want starts one (a lookup, a load, a
 * fork; a connect cannot start a thread, so a connect that finds none
 * leaves a flag for the next lookup). A single-threaded program is
 * single-threaded again once the targets resolved or were given up: it
 * can unshare(CLONE_NEWUSER), close every fd, or install a TSYNC seccomp
 * filter. While a target is being resolved the process has one more
 * thread, with a DNS socket of its own. One exception: in a process that
 * never looked a name up (it only connects: curl, Bun or Node to an
 * address) only the thread can notice an edit of the file, so there it
 * stays once started, asleep, and a connect through a rule wakes it at
 * most once a second to look at the file (resolver_poke).
 *
 * Like a lookup it never holds the rules across the resolver: it copies a
 * wanted target's host, lets go, resolves, then stores the answer into
 * whatever target of that host the rules in force have by then.
 *
 * The thread sleeps on a futex word; connect wakes it with an atomic
 * increment and FUTEX_WAKE, which are async-signal-safe. It is started on
 * paths that are not connect's (loading, a reload, a lookup, a fork),
 * with every signal blocked, so no handler of the program runs on it and
 * nothing can cut it off. After a fork the child has no such thread: the
 * fork handler starts one there when something is wanted, for a
 * pre-forking server's workers, which may only connect. Without
 * pthread_create (glibc before 2.34 in a program without libpthread)
 * lookups do its passes themselves. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "current.h"
#include "init.h"
#include "log.h"
#include "real.h"
#include "resolver.h"
#include "rules.h"
#include "slots.h"
#include "targets.h"

/* As in real.c: the oldest dlsym, so that the library loads on old glibc;
 * and pthread_create found at run time, not bound to glibc 2.34's. */
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.17");
#endif

/* From linux/futex.h, which musl's toolchain does not ship. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

#define PASS_MAX 256 /* targets resolved in one pass, at most */

_Atomic bool resolver_missing;
_Atomic bool resolver_watch; /* a file to follow: pokes make it look */
static _Atomic bool needed;	/* the thread is wanted in this process */
static _Atomic bool looked_up;	/* a lookup ran in this process */
static _Atomic bool look_file;	/* poked: look at the file */
static _Atomic long poked_at;	/* CLOCK_MONOTONIC_COARSE second */
static __thread bool on_thread __attribute__((tls_model("initial-exec")));
static _Atomic bool running; /* in this process (cleared in a fork's child) */
static _Atomic bool unavailable; /* no pthread_create: lookups do passes */
static _Atomic unsigned wake_word; /* bumped to wake the thread */
static _Atomic unsigned passed;	   /* wake_word as a finished pass began */

static long futex(_Atomic unsigned *word, int op, unsigned val,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

/* ---- one pass ------------------------------------------------------ */

/* Resolves one wanted target of the rules in force; false when none is
 * due. */
static bool resolve_one_target(void)
{
	char host[NAME_MAX_LEN + 1];
	bool literal = false, found;
	unsigned ticket;
	struct addrinfo *res = NULL;
	const struct ruleset *rs = current_enter(&ticket);
	found = rs && targets_next_due(rules_targets(rs), now_seconds(), host,
				       &literal);
	current_leave(ticket);
	if (!found)
		return false;
	int rc = target_lookup(host, literal, AF_UNSPEC, 0, &res);
	rs = current_enter(&ticket);
	struct target *t = rs ? targets_find(rules_targets(rs), host) : NULL;
	bool given_up = false;
	if (t && rc) {
		/* Only an address rule's target is retried on its own, and
		 * only so many times: a name that never resolves must not
		 * keep a thread and DNS queries going in every process. */
		given_up = target_failed(t) >= RETRIES_MAX || !t->for_addr_rule;
		if (given_up)
			atomic_store_explicit(&t->wanted, false,
					      memory_order_relaxed);
	} else if (t) {
		target_store(t, res, AF_UNSPEC);
	}
	current_leave(ticket);
	if (!rc)
		real.freeaddrinfo(res);
	if (rc)
		log_msg(LOG_INFO, "%s does not resolve (%s); connects through it "
				  "fail with EHOSTUNREACH until it does%s",
			host, gai_strerror(rc),
			given_up ? "; tried again when a connect or a lookup "
				   "wants it"
				 : "");
	return true;
}

/* The real address of a name that no rule maps (any more), for addresses
 * of it a program kept. */
static unsigned resolve_one_own(unsigned from)
{
	char name[NAME_MAX_LEN + 1];
	unsigned index = slot_next_wanted(from, now_seconds(), name);
	struct addrinfo *res;
	if (!index)
		return 0;
	struct target *own = slot_own(index);
	int rc = target_lookup(name, false, AF_UNSPEC, 0, &res);
	/* Kept only while the slot still holds the name. */
	if (rc)
		target_failed(own);
	else
		slot_store_own(index, name, res);
	atomic_store_explicit(&own->wanted, false, memory_order_relaxed);
	if (!rc)
		real.freeaddrinfo(res);
	return index + 1;
}

/* Returns the CLOCK_MONOTONIC second the next retry is due, or 0. */
static long pass(void)
{
	int n = 0;
	while (n < PASS_MAX && resolve_one_target())
		n++;
	for (unsigned from = 1; n < PASS_MAX && (from = resolve_one_own(from));)
		n++;
	unsigned ticket;
	const struct ruleset *rs = current_enter(&ticket);
	long next = rs ? targets_next_retry(rules_targets(rs)) : 0;
	current_leave(ticket);
	if (n == PASS_MAX)
		next = now_seconds();
	return next;
}

/* ---- the thread ---------------------------------------------------- */

/* Ends when nothing is wanted, unless it follows the file for a
 * program that only connects. */
static bool stays(void)
{
	return atomic_load(&resolver_watch) && !atomic_load(&looked_up);
}

static void *run(void *arg)
{
	(void)arg;
	on_thread = true;
	for (;;) {
		unsigned w = atomic_load(&wake_word);
		if (atomic_exchange(&look_file, false))
			reload_if_changed();
		long next = pass();
		atomic_store(&passed, w);
		futex(&passed, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
		if (!next && !stays()) {
			/* A waker that bumps wake_word after this sees
			 * running false and leaves the want for the next
			 * start; one that bumped it before gets a pass. */
			atomic_store(&needed, false);
			atomic_store(&running, false);
			if (atomic_load(&wake_word) == w ||
			    atomic_exchange(&running, true)) {
				futex(&passed, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
				return NULL;
			}
			atomic_store(&needed, true);
			continue;
		}
		struct timespec wait = {1, 0}, *timeout = NULL;
		if (next) {
			long s = next - now_seconds();
			wait.tv_sec = s < 1 ? 1 : s;
			timeout = &wait;
		}
		futex(&wake_word, FUTEX_WAIT_PRIVATE, w, timeout);
	}
	return NULL;
}

typedef int create_fn(pthread_t *, const pthread_attr_t *,
		      void *(*)(void *), void *);
typedef int stacksize_fn(pthread_attr_t *, size_t);

static void start(void)
{
	if (atomic_load(&unavailable) || atomic_exchange(&running, true))
		return;
	create_fn *create = (create_fn *)dlsym(RTLD_DEFAULT, "pthread_create");
	stacksize_fn *stacksize =
		(stacksize_fn *)dlsym(RTLD_DEFAULT, "pthread_attr_setstacksize");
	pthread_attr_t attr;
	pthread_t id;
	sigset_t all, old;
	int rc = -1;
	if (create && !pthread_attr_init(&attr)) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (stacksize)
			stacksize(&attr, 256 * 1024);
		/* The thread inherits the mask. sigprocmask is per thread in
		 * glibc and musl, and binds to a version old glibc has. */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		rc = create(&id, &attr, run, NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	if (rc) {
		atomic_store(&running, false);
		atomic_store(&unavailable, true);
	} else {
		atomic_store(&resolver_missing, false);
	}
}

/* Address rules' targets never tried: wanted by a process about to fork
 * and by its child, which (a pre-forking server's worker) may only
 * connect, and a connect cannot start the thread. */
static bool want_untried(void)
{
	unsigned ticket;
	const struct ruleset *rs = current_enter(&ticket);
	bool any = rs && targets_want_untried(rules_targets(rs));
	current_leave(ticket);
	return any;
}

/* Not started here: a thread started just before the fork would be in
 * the middle of the resolver's locks as the child is made. The parent's
 * next lookup starts it; the child starts its own. */
static void before_fork(void)
{
	if (want_untried()) {
		atomic_store(&needed, true);
		if (!atomic_load(&running))
			atomic_store(&resolver_missing, true);
	}
}

/* pthread_create in a fork's child handler: glibc and musl have reset
 * their locks (malloc's, the loader's, the thread list's) by then. */
static void after_fork_child(void)
{
	atomic_store(&running, false);
	atomic_store(&resolver_missing, false);
	if (atomic_load(&needed) || want_untried()) {
		atomic_store(&needed, true);
		start(); /* without pthread_create: the child's next lookup */
	}
}

void resolver_init(void)
{
	static atomic_bool registered;
	if (!atomic_exchange(&registered, true))
		pthread_atfork(before_fork, NULL, after_fork_child);
}

void resolver_needed(bool start_now)
{
	atomic_store(&needed, true);
	if (start_now && !atomic_load(&running))
		start();
	resolver_wake();
}

void resolver_note_lookup(void)
{
	if (!atomic_load_explicit(&looked_up, memory_order_relaxed))
		atomic_store(&looked_up, true);
}

void resolver_ensure_slow(void)
{
	int saved = errno;
	if (atomic_load(&needed) && !atomic_load(&running)) {
		if (!atomic_load(&unavailable))
			start();
		resolver_inline();
	}
	errno = saved;
}

void resolver_wake(void)
{
	int saved = errno;
	atomic_fetch_add(&wake_word, 1);
	if (atomic_load(&running)) {
		futex(&wake_word, FUTEX_WAKE_PRIVATE, 1, NULL);
	} else {
		atomic_store(&needed, true);
		atomic_store(&resolver_missing, true);
	}
	errno = saved;
}

void resolver_poke(void)
{
	struct timespec ts;
	if (!atomic_load_explicit(&resolver_watch, memory_order_relaxed) ||
	    !atomic_load_explicit(&running, memory_order_relaxed))
		return;
	int saved = errno;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	long last = atomic_load_explicit(&poked_at, memory_order_relaxed);
	if (ts.tv_sec != last &&
	    atomic_compare_exchange_strong(&poked_at, &last, ts.tv_sec)) {
		atomic_store(&look_file, true);
		atomic_fetch_add(&wake_word, 1);
		futex(&wake_word, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
	errno = saved;
}

bool resolver_settle(long ms)
{
	if (on_thread) { /* a reload the thread itself noticed */
		pass();
		return true;
	}
	if (!atomic_load(&running))
		resolver_ensure_slow();
	if (!atomic_load(&running))
		return true; /* done inline, or nothing to do */
	unsigned want = atomic_fetch_add(&wake_word, 1) + 1;
	futex(&wake_word, FUTEX_WAKE_PRIVATE, 1, NULL);
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += ms % 1000 * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		unsigned seen = atomic_load(&passed);
		if ((int)(seen - want) >= 0 || !atomic_load(&running))
			return true; /* passed, or found nothing and ended */
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (end.tv_sec - now.tv_sec) * 1000000000L +
			    (end.tv_nsec - now.tv_nsec);
		if (left <= 0)
			return false;
		struct timespec wait = {left / 1000000000L, left % 1000000000L};
		futex(&passed, FUTEX_WAIT_PRIVATE, seen, &wait);
	}
}

/* Only without pthread_create, that is in a program of one thread. */
void resolver_inline(void)
{
	if (!atomic_load(&needed) || atomic_load(&running) ||
	    !atomic_load(&unavailable))
		return;
	int saved = errno;
	pass();
	errno = saved;
}
