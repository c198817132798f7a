/* Slots: the mapped names a process has looked up, each with the rules
 * that apply to it, indexed by the synthetic address handed out for it.
 *
 * The table has a fixed size. When every slot is taken, the least recently
 * used one (a clock sweep: a lookup or a connect marks a slot used) goes to
 * the new name, so a process may look up any number of names with bounded
 * memory; an address handed out more than SLOT_COUNT names ago may then
 * lead to the newer name. Lookups assign slots under a lock; connect reads
 * a slot without one, through a generation count that is odd while the
 * slot is being reassigned (a seqlock), with atomic loads only. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "rules.h"
#include "slots.h"

const unsigned char synth6_prefix[12] = {0xfd, 0x68, 0x73, 0x68, 0x69, 0x6d};

#define NAME_WORDS ((NAME_MAX_LEN + 1 + 7) / 8)

struct slot {
	_Atomic unsigned gen;
	_Atomic unsigned nroutes; /* | HAS_OWN: ports without a rule go to the name */
	_Atomic(const struct rule *) routes[ROUTES_MAX];
	_Atomic uint64_t name[NAME_WORDS];
	_Atomic bool recent;
	struct target own; /* where the name itself resolves */
	UT_hash_handle hh; /* the rest: under table_lock only */
	bool listed;	   /* in by_name */
	char key[NAME_MAX_LEN + 1];
};
#define HAS_OWN 0x100u

static struct slot slots[SLOT_COUNT];
static struct slot *by_name;
static unsigned next_unused = 1, hand = 1; /* slot 0 is never handed out */
static atomic_flag table_lock = ATOMIC_FLAG_INIT;

/* ---- addresses ----------------------------------------------------- */

void synth_encode(const struct synth *s, struct sockaddr_storage *out,
		  socklen_t *len)
{
	uint32_t ip = htonl(SYNTH_NET | s->index << SYNTH_POS_BITS | s->pos);
	memset(out, 0, sizeof(struct sockaddr_in6));
	if (s->form == FORM_V4) {
		struct sockaddr_in *in4 = (void *)out;
		in4->sin_family = AF_INET;
		in4->sin_addr.s_addr = ip;
		*len = sizeof *in4;
		return;
	}
	struct sockaddr_in6 *in6 = (void *)out;
	in6->sin6_family = AF_INET6;
	if (s->form == FORM_MAPPED)
		v4mapped(&in6->sin6_addr, (struct in_addr *)&ip);
	else
		memcpy(in6->sin6_addr.s6_addr, synth6_prefix, 12);
	memcpy(in6->sin6_addr.s6_addr + 12, &ip, 4);
	*len = sizeof *in6;
}

char *synth_text(const struct synth *s, char *out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	synth_encode(s, &ss, &len);
	if (s->form == FORM_V4)
		return fmt_addr(out, AF_INET, &((struct sockaddr_in *)&ss)->sin_addr);
	return fmt_addr(out, AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr);
}

/* ---- assigning (lookups) ------------------------------------------- */

static void table_lock_take(void)
{
	while (atomic_flag_test_and_set_explicit(&table_lock,
						 memory_order_acquire))
		sched_yield();
}

static void table_lock_drop(void)
{
	atomic_flag_clear_explicit(&table_lock, memory_order_release);
}

/* A fork while another thread holds the lock would leave it held forever
 * in the child. */
static void register_atfork(void)
{
	static atomic_bool done;
	if (!atomic_exchange(&done, true))
		pthread_atfork(table_lock_take, table_lock_drop, table_lock_drop);
}

static unsigned take_slot(void)
{
	if (next_unused < SLOT_COUNT) {
		unsigned i = next_unused;
		/* Read without the lock by slot_next_wanted. */
		__atomic_store_n(&next_unused, i + 1, __ATOMIC_RELEASE);
		return i;
	}
	for (;;) {
		unsigned i = hand;
		hand = hand % (SLOT_COUNT - 1) + 1;
		if (!atomic_exchange_explicit(&slots[i].recent, false,
					      memory_order_relaxed)) {
			if (slots[i].listed)
				HASH_DEL(by_name, &slots[i]);
			slots[i].listed = false;
			return i;
		}
	}
}

static void fill(struct slot *s, const char *name,
		 const struct rule *const *routes, size_t n)
{
	uint64_t words[NAME_WORDS] = {0};
	bool any_port = false;
	if (s->key != name)
		strcpy(s->key, name);
	memcpy(words, name, strlen(name));
	unsigned g = atomic_load_explicit(&s->gen, memory_order_relaxed);
	atomic_store_explicit(&s->gen, g + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < NAME_WORDS; i++)
		atomic_store_explicit(&s->name[i], words[i], memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		atomic_store_explicit(&s->routes[i], routes[i], memory_order_relaxed);
		any_port |= !routes[i]->port;
	}
	atomic_store_explicit(&s->nroutes, (unsigned)n | (any_port ? 0 : HAS_OWN),
			      memory_order_relaxed);
	atomic_store_explicit(&s->gen, g + 2, memory_order_release);
}

/* The slot of `name`, with the rules that apply to it in precedence order
 * (at most ROUTES_MAX); 0 when out of memory. */
unsigned slot_assign(const char *name, const struct rule *const *routes,
		     size_t n)
{
	struct slot *s;
	bool added = true;
	register_atfork();
	table_lock_take();
	HASH_FIND_STR(by_name, name, s);
	if (!s) {
		s = &slots[take_slot()];
		fill(s, name, routes, n);
#undef uthash_nonfatal_oom
#define uthash_nonfatal_oom(obj) (added = false)
		HASH_ADD_STR(by_name, key, s);
		s->listed = added;
	} else {
		/* Used again: a name looked up once is reused first. */
		atomic_store_explicit(&s->recent, true, memory_order_relaxed);
	}
	table_lock_drop();
	return added ? (unsigned)(s - slots) : 0;
}

struct target *slot_own(unsigned index)
{
	return &slots[index].own;
}

const char *slot_key(unsigned index)
{
	return slots[index].key;
}

/* ---- reading (connect, reverse lookups) ---------------------------- */

bool slot_route(unsigned index, uint16_t port, struct route *out)
{
	struct slot *s = &slots[index];
	if (index == 0 || index >= SLOT_COUNT)
		return false;
	for (int tries = 0; tries < 1000; tries++) {
		unsigned g = atomic_load_explicit(&s->gen, memory_order_acquire);
		if (g == 0)
			return false; /* never handed out in this process */
		if (g & 1)
			continue;
		unsigned n = atomic_load_explicit(&s->nroutes, memory_order_relaxed);
		out->rule = NULL;
		out->target = &s->own;
		for (unsigned i = 0; i < (n & 0xff); i++) {
			const struct rule *r = atomic_load_explicit(
				&s->routes[i], memory_order_relaxed);
			if (r->port == port || !r->port) {
				out->rule = r;
				out->target = r->target;
				break;
			}
		}
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->gen, memory_order_relaxed) == g) {
			atomic_store_explicit(&s->recent, true, memory_order_relaxed);
			return out->rule || (n & HAS_OWN);
		}
	}
	return false;
}

bool slot_name(unsigned index, char out[NAME_MAX_LEN + 1])
{
	struct slot *s = &slots[index];
	uint64_t words[NAME_WORDS];
	if (index == 0 || index >= SLOT_COUNT)
		return false;
	for (int tries = 0; tries < 1000; tries++) {
		unsigned g = atomic_load_explicit(&s->gen, memory_order_acquire);
		if (g == 0)
			return false;
		if (g & 1)
			continue;
		for (size_t i = 0; i < NAME_WORDS; i++)
			words[i] = atomic_load_explicit(&s->name[i],
							memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->gen, memory_order_relaxed) == g) {
			memcpy(out, words, NAME_MAX_LEN);
			out[NAME_MAX_LEN] = '\0';
			return true;
		}
	}
	return false;
}

/* After a reload: every name keeps its slot, so addresses already handed
 * out keep working, and gets the new ruleset's rules. A name no rule maps
 * any more goes where it really resolves: the background resolver
 * (resolver.c) resolves the first UNMAPPED_RESOLVED of them (a removed
 * wildcard may leave thousands; the rest when a connect needs them), never
 * the lookup that noticed the edit. */
#define UNMAPPED_RESOLVED 64

/* Before re-matching: marks the own address of the names `rs` will not
 * map as wanted, so that the background resolver can have them before the
 * slots lead there; how many. */
unsigned slots_want_unmapped(const struct ruleset *rs)
{
	unsigned nunmapped = 0;
	table_lock_take();
	for (unsigned i = 1; i < next_unused && nunmapped < UNMAPPED_RESOLVED; i++) {
		struct slot *s = &slots[i];
		struct match m;
		if (!s->listed || rules_match_name(rs, s->key, &m) ||
		    atomic_load_explicit(&s->own.resolved, memory_order_relaxed))
			continue;
		atomic_store_explicit(&s->own.wanted, true, memory_order_relaxed);
		nunmapped++;
	}
	table_lock_drop();
	return nunmapped;
}

void slots_rematch(const struct ruleset *rs)
{
	unsigned nunmapped = 0;
	table_lock_take();
	for (unsigned i = 1; i < next_unused; i++) {
		struct slot *s = &slots[i];
		const struct rule *routes[ROUTES_MAX];
		struct match m;
		size_t n = 0;
		if (!s->listed)
			continue;
		if (rules_match_name(rs, s->key, &m))
			n = rules_routes(&m, routes, ROUTES_MAX);
		if (n > ROUTES_MAX)
			n = ROUTES_MAX;
		fill(s, s->key, routes, n);
		if (!n && nunmapped < UNMAPPED_RESOLVED &&
		    !atomic_load_explicit(&s->own.resolved, memory_order_relaxed)) {
			atomic_store_explicit(&s->own.wanted, true,
					      memory_order_relaxed);
			nunmapped++;
		}
	}
	table_lock_drop();
}

/* For the background resolver: the first slot from `from` on whose own
 * address a connect or a reload wants, due at `now`, its name copied out;
 * 0 when there is none. */
unsigned slot_next_wanted(unsigned from, long now, char name[NAME_MAX_LEN + 1])
{
	/* Only the slots ever handed out: a pass must not touch all
	 * SLOT_COUNT of them (18 MB; 200 ms at curl's first connect). */
	unsigned end = __atomic_load_n(&next_unused, __ATOMIC_ACQUIRE);
	for (unsigned i = from ? from : 1; i < end; i++)
		if (target_due(&slots[i].own, now) && slot_name(i, name))
			return i;
	return 0;
}
