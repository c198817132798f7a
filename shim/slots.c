/* Slots: the mapped names a process has looked up, each with the rules
 * that apply to it, indexed by the synthetic address handed out for it.
 *
 * The table holds SLOT_COUNT names. When every slot is taken, the least
 * recently used one (a clock sweep: a lookup or a connect marks a slot
 * used) goes to the new name, so a process may look up any number of
 * names with bounded memory; an address handed out more than SLOT_COUNT
 * names ago may then lead to the newer name, never to the older name's
 * service: the name's own answer (where ports without a rule go) belongs
 * to one assignment of the slot and is dropped with it.
 *
 * Lookups assign slots under a lock; connect reads a slot without one,
 * through a generation count that is odd while the slot is being written
 * (a seqlock), with atomic loads only. A slot holds no pointer: the rules
 * that apply are kept as ids into the ruleset they were matched in, with
 * that ruleset's serial. A reader copies the slot, checks the generation,
 * and only then turns the ids into rules of the ruleset it holds, when the
 * serial is that ruleset's (else it matches the name in it): a torn or
 * stale copy can never lead into freed memory, whatever the ordering of
 * loads the machine allows.
 *
 * Memory is taken on need, CHUNK_SLOTS slots at a time, by lookups: a
 * process that looks up one mapped name commits one chunk, not the table
 * (a container runs the library in every process, and strict overcommit
 * or `ulimit -v` count what is committed). Chunks are never freed, so
 * connect only reads what exists. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "real.h"
#include "rules.h"
#include "slots.h"

const unsigned char synth6_prefix[12] = {0xfd, 0x68, 0x73, 0x68, 0x69, 0x6d};

#define NAME_WORDS ((NAME_MAX_LEN + 1 + 7) / 8)

struct slot {
	_Atomic unsigned gen;
	_Atomic unsigned serial;  /* the ruleset `ids` are of */
	_Atomic unsigned nroutes; /* | HAS_OWN: ports without a rule go to the name */
	_Atomic uint32_t ids[ROUTES_MAX]; /* rule ids, in precedence order */
	_Atomic unsigned own_gen; /* `own` is this assignment's while == gen */
	_Atomic bool recent;
	_Atomic uint64_t name[NAME_WORDS]; /* also the hash key, under the lock */
	struct target own; /* where the name itself resolves */
	UT_hash_handle hh; /* the rest: under table_lock only */
	bool listed;	   /* in by_name */
	unsigned index;	   /* its own */
};
#define HAS_OWN 0x100u

#define CHUNK_BITS 6
#define CHUNK_SLOTS (1u << CHUNK_BITS)
static _Atomic(struct slot *) chunks[SLOT_COUNT / CHUNK_SLOTS];
static struct slot *by_name;
static unsigned next_unused = 1, hand = 1; /* slot 0 is never handed out */
static atomic_flag table_lock = ATOMIC_FLAG_INIT;
/* The target of a name that has not resolved (yet) in its assignment:
 * never resolved, and literal, so that nothing asks for it; connect marks
 * the slot's own target wanted instead (slot_route). */
static struct target nowhere = {.literal = true};

/* The slot of an index, or NULL: not a slot, or never handed out. */
static struct slot *slot_at(unsigned index)
{
	if (index == 0 || index >= SLOT_COUNT)
		return NULL;
	struct slot *c = atomic_load_explicit(&chunks[index >> CHUNK_BITS],
					      memory_order_acquire);
	return c ? &c[index & (CHUNK_SLOTS - 1)] : NULL;
}

static const char *key_of(const struct slot *s)
{
	return (const char *)s->name;
}

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

/* The chunk of slot `index` exists, or is made now; false: no memory. */
static bool chunk_ready(unsigned index)
{
	_Atomic(struct slot *) *c = &chunks[index >> CHUNK_BITS];
	if (atomic_load_explicit(c, memory_order_relaxed))
		return true;
	struct slot *mem = calloc(CHUNK_SLOTS, sizeof *mem);
	if (!mem)
		return false;
	atomic_store_explicit(c, mem, memory_order_release);
	return true;
}

/* A free or the least recently used slot; 0 when out of memory. When no
 * new chunk can be had (a capped address space), the slots that exist are
 * reused as if the table were full: new names still get addresses. */
static unsigned take_slot(void)
{
	static bool said;
	unsigned limit = SLOT_COUNT;
	if (next_unused < SLOT_COUNT) {
		if (chunk_ready(next_unused))
			return next_unused++;
		if (!said)
			log_msg(LOG_WARN, "out of memory for more names: reusing "
					  "the %u addresses handed out so far",
				next_unused - 1);
		said = true;
		limit = next_unused;
		if (limit == 1)
			return 0;
	}
	for (;;) {
		unsigned i = hand < limit ? hand : 1;
		struct slot *s = slot_at(i);
		hand = i % (limit - 1) + 1;
		if (!atomic_exchange_explicit(&s->recent, false,
					      memory_order_relaxed)) {
			if (s->listed)
				HASH_DEL(by_name, s);
			s->listed = false;
			return i;
		}
	}
}

/* Writes the slot's rules (and its name, when it is a new one). The name's
 * own answer stays only when the name does. */
static void fill(struct slot *s, unsigned serial, const char *name,
		 const struct rule *const *routes, size_t n)
{
	uint64_t words[NAME_WORDS] = {0};
	bool any_port = false, same = !strcmp(key_of(s), name);
	unsigned g = atomic_load_explicit(&s->gen, memory_order_relaxed);
	bool keep_own = same && atomic_load_explicit(&s->own_gen,
						     memory_order_relaxed) == g;
	memcpy(words, name, strlen(name));
	atomic_store_explicit(&s->gen, g + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < NAME_WORDS && !same; i++)
		atomic_store_explicit(&s->name[i], words[i], memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		atomic_store_explicit(&s->ids[i], routes[i]->id,
				      memory_order_relaxed);
		any_port |= !routes[i]->port;
	}
	atomic_store_explicit(&s->nroutes, (unsigned)n | (any_port ? 0 : HAS_OWN),
			      memory_order_relaxed);
	atomic_store_explicit(&s->serial, serial, memory_order_relaxed);
	atomic_store_explicit(&s->own_gen, keep_own ? g + 2 : 0,
			      memory_order_relaxed);
	atomic_store_explicit(&s->gen, g + 2, memory_order_release);
}

/* Serials only grow: a lookup that matched in an older ruleset than the
 * slot's last match does not take it back. */
static bool newer(unsigned serial, unsigned than)
{
	return (int)(serial - than) > 0;
}

/* The slot of `name`, with the rules that apply to it in precedence order
 * (at most ROUTES_MAX) in the ruleset `rs`; 0 when out of memory. */
unsigned slot_assign(const struct ruleset *rs, const char *name,
		     const struct rule *const *routes, size_t n)
{
	struct slot *s;
	unsigned index = 0, serial = rules_serial(rs);
	bool added = true;
	register_atfork();
	table_lock_take();
	HASH_FIND(hh, by_name, name, strlen(name), s);
	if (!s && (index = take_slot())) {
		s = slot_at(index);
		s->index = index;
		fill(s, serial, name, routes, n);
#undef uthash_nonfatal_oom
#define uthash_nonfatal_oom(obj) (added = false)
		HASH_ADD_KEYPTR(hh, by_name, key_of(s), strlen(key_of(s)), s);
		s->listed = added;
	} else if (s) {
		if (newer(serial, atomic_load_explicit(&s->serial,
						       memory_order_relaxed)))
			fill(s, serial, name, routes, n);
		/* Used again: a name looked up once is reused first. */
		atomic_store_explicit(&s->recent, true, memory_order_relaxed);
		index = s->index;
	}
	table_lock_drop();
	return added ? index : 0;
}

bool slot_store_own(unsigned index, const char *name,
		    const struct addrinfo *list)
{
	struct slot *s = slot_at(index);
	bool stored = false;
	if (!s)
		return false;
	table_lock_take();
	/* Reassigned while it was asked: the answer is not the slot's. */
	if (s->listed && !strcmp(key_of(s), name)) {
		target_store(&s->own, list, AF_UNSPEC);
		atomic_store_explicit(&s->own_gen,
				      atomic_load_explicit(&s->gen,
							   memory_order_relaxed),
				      memory_order_release);
		stored = true;
	}
	table_lock_drop();
	return stored;
}

int slot_resolve_own(unsigned index, const char *name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int rc = real.getaddrinfo(name, NULL, &hints, &res);
	if (rc)
		return rc; /* an earlier answer of this assignment stays */
	slot_store_own(index, name, res);
	real.freeaddrinfo(res);
	return 0;
}

struct target *slot_own(unsigned index)
{
	struct slot *s = slot_at(index);
	return s ? &s->own : &nowhere;
}

const char *slot_key(unsigned index)
{
	struct slot *s = slot_at(index);
	return s ? key_of(s) : "";
}

/* ---- reading (connect, reverse lookups) ---------------------------- */

/* A consistent copy of a slot: everything in it is checked against the
 * generation before anything is made of it. */
struct copy {
	unsigned gen, serial, n, own_gen;
	uint32_t ids[ROUTES_MAX];
	uint64_t name[NAME_WORDS];
};

static bool read_slot(const struct slot *s, struct copy *c, bool name)
{
	for (int tries = 0; tries < 1000; tries++) {
		unsigned g = atomic_load_explicit(&s->gen, memory_order_acquire);
		if (g == 0)
			return false; /* never handed out in this process */
		if (g & 1)
			continue;
		c->serial = atomic_load_explicit(&s->serial, memory_order_relaxed);
		c->n = atomic_load_explicit(&s->nroutes, memory_order_relaxed);
		for (unsigned i = 0; i < ROUTES_MAX; i++)
			c->ids[i] = atomic_load_explicit(&s->ids[i],
							 memory_order_relaxed);
		c->own_gen = atomic_load_explicit(&s->own_gen,
						  memory_order_acquire);
		for (size_t i = 0; name && i < NAME_WORDS; i++)
			c->name[i] = atomic_load_explicit(&s->name[i],
							  memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->gen, memory_order_relaxed) == g) {
			c->gen = g;
			return true;
		}
	}
	return false;
}

/* The rules of the copy in `rs`: from the ids when they are of `rs`,
 * else by matching the name there (a reload not yet re-matched, or a
 * lookup that matched in a ruleset since replaced). */
static size_t copy_routes(const struct ruleset *rs, const struct slot *s,
			  struct copy *c, const struct rule **out, bool *own)
{
	const struct config *cfg = rules_config(rs);
	size_t n = c->n & 0xff;
	bool by_ids = c->serial == rules_serial(rs) && n <= ROUTES_MAX;
	for (size_t i = 0; by_ids && i < n; i++)
		by_ids = c->ids[i] < cfg->nrules;
	if (by_ids) {
		for (size_t i = 0; i < n; i++)
			out[i] = cfg->rules[c->ids[i]];
		*own = c->n & HAS_OWN;
		return n;
	}
	struct match m;
	char name[NAME_MAX_LEN + 1];
	unsigned gen = c->gen;
	if (!read_slot(s, c, true) || c->gen != gen)
		return SIZE_MAX; /* reassigned meanwhile: read again */
	memcpy(name, c->name, NAME_MAX_LEN);
	name[NAME_MAX_LEN] = '\0';
	n = rules_match_name(rs, name, &m) ? rules_routes(&m, out, ROUTES_MAX)
					   : 0;
	if (n > ROUTES_MAX)
		n = ROUTES_MAX;
	*own = true;
	for (size_t i = 0; i < n; i++)
		*own &= out[i]->port != 0;
	return n;
}

bool slot_route(const struct ruleset *rs, unsigned index, uint16_t port,
		struct route *out)
{
	const struct slot *s = slot_at(index);
	const struct rule *routes[ROUTES_MAX];
	struct copy c;
	bool own = false;
	size_t n = SIZE_MAX;
	for (int tries = 0; n == SIZE_MAX && tries < 100; tries++) {
		if (!s || !read_slot(s, &c, false))
			return false;
		n = copy_routes(rs, s, &c, routes, &own);
	}
	if (n == SIZE_MAX)
		return false;
	atomic_store_explicit(&((struct slot *)s)->recent, true,
			      memory_order_relaxed);
	out->gen = c.gen;
	out->wake = false;
	for (size_t i = 0; i < n; i++)
		if (routes[i]->port == port || !routes[i]->port) {
			out->rule = routes[i];
			out->target = routes[i]->target;
			return true;
		}
	out->rule = NULL;
	if (c.own_gen == c.gen) {
		out->target = &s->own;
	} else {
		/* Not resolved in this assignment: fail, and have it resolved
		 * in the background (a connect never resolves). */
		out->target = &nowhere;
		out->wake = own && !atomic_exchange_explicit(
					   &((struct slot *)s)->own.wanted, true,
					   memory_order_relaxed);
	}
	return own;
}

bool slot_still(unsigned index, unsigned gen)
{
	const struct slot *s = slot_at(index);
	atomic_thread_fence(memory_order_acquire);
	return s && atomic_load_explicit(&s->gen, memory_order_relaxed) == gen;
}

bool slot_name(unsigned index, char out[NAME_MAX_LEN + 1])
{
	const struct slot *s = slot_at(index);
	struct copy c;
	if (!s || !read_slot(s, &c, true))
		return false;
	memcpy(out, c.name, NAME_MAX_LEN);
	out[NAME_MAX_LEN] = '\0';
	return true;
}

/* After a reload: every name keeps its slot, so addresses already handed
 * out keep working, and gets the new ruleset's rules. A name no rule maps
 * any more goes where it really resolves: the background resolver
 * (resolver.c) resolves the first UNMAPPED_RESOLVED of them (a removed
 * wildcard may leave thousands; the rest when a connect needs them), never
 * the lookup that noticed the edit. */
#define UNMAPPED_RESOLVED 64

/* Whether the slot's own answer is of its present assignment. */
static bool own_valid(const struct slot *s)
{
	return atomic_load_explicit(&s->own_gen, memory_order_relaxed) ==
	       atomic_load_explicit(&s->gen, memory_order_relaxed);
}

/* Before re-matching: marks the own address of the names `rs` will not
 * map as wanted, so that the background resolver can have them before the
 * slots lead there; how many. */
unsigned slots_want_unmapped(const struct ruleset *rs)
{
	unsigned nunmapped = 0;
	table_lock_take();
	for (unsigned i = 1; i < next_unused && nunmapped < UNMAPPED_RESOLVED; i++) {
		struct slot *s = slot_at(i);
		struct match m;
		if (!s || !s->listed || rules_match_name(rs, key_of(s), &m) ||
		    own_valid(s))
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
	unsigned serial = rules_serial(rs);
	table_lock_take();
	for (unsigned i = 1; i < next_unused; i++) {
		struct slot *s = slot_at(i);
		const struct rule *routes[ROUTES_MAX];
		struct match m;
		size_t n = 0;
		if (!s->listed)
			continue;
		if (rules_match_name(rs, key_of(s), &m))
			n = rules_routes(&m, routes, ROUTES_MAX);
		if (n > ROUTES_MAX)
			n = ROUTES_MAX;
		fill(s, serial, key_of(s), routes, n);
		if (!n && nunmapped < UNMAPPED_RESOLVED && !own_valid(s)) {
			atomic_store_explicit(&s->own.wanted, true,
					      memory_order_relaxed);
			nunmapped++;
		}
	}
	table_lock_drop();
}

/* For the background resolver: the first slot from `from` on whose own
 * address a connect or a reload wants, due at `now`, its name copied out;
 * 0 when there is none. Chunks are made in order: none after a missing one. */
unsigned slot_next_wanted(unsigned from, long now, char name[NAME_MAX_LEN + 1])
{
	for (unsigned i = from ? from : 1; i < SLOT_COUNT; i++) {
		struct slot *s = slot_at(i);
		if (!s)
			return 0;
		if (target_due(&s->own, now) && slot_name(i, name))
			return i;
	}
	return 0;
}
