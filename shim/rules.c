/* Rule matching: which rules apply to a name, or to an address and port.
 *
 * Rules sharing a public name (or wildcard, or address) form a pattern.
 * A ruleset's tables are built once and only read afterwards, so lookups
 * and connects read them from any thread without a lock; a reload builds
 * a new ruleset (current.c says when the old one may go).
 *
 * Precedence, most specific first: the exact name, then wildcards from the
 * longest suffix to the shortest; within one pattern a port-specific rule
 * before the any-port rule. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "targets.h"

struct pattern {
	const char *name;	  /* names and wildcards: the key */
	unsigned char addr[17]; /* addresses: family byte + 16 address bytes */
	const struct rule *any;
	const struct rule **ports;
	size_t nports;
	UT_hash_handle hh;
};

/* Filters for lookups, so that a name no rule can match costs a few dozen
 * instructions whatever its length: a set of keys of the rules' exact
 * names, and of their wildcards' suffixes with the lengths those have.
 * The key sets have 32 bits a rule (at least 4096), so that few names get
 * past them by chance. */
struct ruleset {
	struct config cfg; /* the rules themselves */
	struct pattern *names, *wildcards, *addrs;
	bool addr_any_port;
	uint8_t addr_ports[65536 / 8]; /* ports that some address rule names */
	unsigned key_mask;	       /* key bits - 1, a power of two less one */
	uint8_t *exact_keys, *wildcard_keys;
	uint64_t wildcard_lengths[4]; /* bit L: some wildcard suffix is L long */
	struct targets *targets;
	unsigned serial; /* which ruleset: slots keep rule ids with it */
};

static void key_set(uint8_t *bits, unsigned mask, unsigned h)
{
	h &= mask;
	bits[h / 8] |= (uint8_t)(1u << (h % 8));
}

static bool key_has(const uint8_t *bits, unsigned mask, unsigned h)
{
	h &= mask;
	return bits[h / 8] & (1u << (h % 8));
}

/* A key of name[0..len): its length and its first and last eight bytes,
 * read a word at a time. `| 0x20` folds letters to lower case in each
 * byte at once; that it also merges a few bytes names can't have costs
 * nothing in a filter. */
static unsigned name_key(const char *name, size_t len)
{
	uint64_t head = 0, tail;
	const uint64_t lower = 0x2020202020202020u;
	if (len >= 8) {
		memcpy(&head, name, 8);
		memcpy(&tail, name + len - 8, 8);
	} else {
		memcpy(&head, name, len);
		tail = head;
	}
	uint64_t h = ((head | lower) * 0x9e3779b97f4a7c15u) ^
		     ((tail | lower) * 0xc2b2ae3d27d4eb4fu) ^ len;
	return (unsigned)(h >> 32);
}

static bool keys_alloc(struct ruleset *rs, size_t nrules)
{
	size_t bits = 4096;
	while (bits < 32 * nrules && bits < (1u << 30))
		bits *= 2;
	rs->key_mask = (unsigned)bits - 1;
	rs->exact_keys = calloc(bits / 8, 1);
	rs->wildcard_keys = calloc(bits / 8, 1);
	return rs->exact_keys && rs->wildcard_keys;
}

static void filter_add(struct ruleset *rs, const struct rule *r)
{
	size_t len = strlen(r->name);
	if (r->kind == PUBLIC_WILDCARD) {
		key_set(rs->wildcard_keys, rs->key_mask, name_key(r->name, len));
		rs->wildcard_lengths[len / 64] |= 1ull << (len % 64);
	} else {
		key_set(rs->exact_keys, rs->key_mask, name_key(r->name, len));
	}
}

/* False when no rule can match `node`: the cheap test before any other. */
bool rules_may_match(const struct ruleset *rs, const char *node)
{
	size_t len = strlen(node);
	if (len && node[len - 1] == '.')
		len--;
	if (key_has(rs->exact_keys, rs->key_mask, name_key(node, len)))
		return true;
	/* A wildcard takes a proper suffix, one that follows a dot: only the
	 * lengths some wildcard has are worth a look. */
	for (unsigned w = 0; w < 4; w++) {
		for (uint64_t bits = rs->wildcard_lengths[w]; bits; bits &= bits - 1) {
			size_t suffix = 64 * w + (size_t)__builtin_ctzll(bits);
			if (suffix >= len)
				return false;
			if (node[len - suffix - 1] == '.' &&
			    key_has(rs->wildcard_keys, rs->key_mask,
				    name_key(node + len - suffix, suffix)))
				return true;
		}
	}
	return false;
}

bool name_canonical(const char *in, char out[NAME_MAX_LEN + 1])
{
	size_t len = 0, label = 0;
	for (; in[len]; len++) {
		unsigned char c = (unsigned char)in[len];
		if (len == NAME_MAX_LEN + 1)
			return false;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   c == '-' || c == '_') {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c += 'a' - 'A';
			label++;
		} else {
			return false;
		}
		if (label > 63)
			return false;
		out[len] = (char)c;
	}
	if (len && out[len - 1] == '.')
		len--; /* one trailing dot: the root */
	else if (label == 0)
		return false;
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	out[len] = '\0';
	return true;
}

/* Family byte + address; an IPv4-mapped IPv6 address counts as IPv4. */
static bool addr_key(const struct sockaddr *sa, unsigned char key[17])
{
	memset(key, 0, 17);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a6)) {
		key[0] = 4;
		memcpy(key + 1, a6->s6_addr + 12, 4);
	} else {
		key[0] = 6;
		memcpy(key + 1, a6->s6_addr, 16);
	}
	return true;
}

static struct pattern *pattern_get(struct ruleset *rs, const struct rule *r)
{
	struct pattern *p, **table = r->kind == PUBLIC_NAME	? &rs->names
				     : r->kind == PUBLIC_WILDCARD ? &rs->wildcards
								  : &rs->addrs;
	unsigned char key[17];
	if (r->kind == PUBLIC_ADDR) {
		addr_key((const struct sockaddr *)&r->addr, key);
		HASH_FIND(hh, *table, key, sizeof key, p);
	} else {
		HASH_FIND_STR(*table, r->name, p);
	}
	if (p)
		return p;
	if (!(p = calloc(1, sizeof *p)))
		return NULL;
	bool added = true;
#undef uthash_nonfatal_oom
#define uthash_nonfatal_oom(obj) (added = false)
	if (r->kind == PUBLIC_ADDR) {
		memcpy(p->addr, key, sizeof key);
		HASH_ADD(hh, *table, addr, sizeof p->addr, p);
	} else {
		p->name = r->name;
		HASH_ADD_KEYPTR(hh, *table, p->name, strlen(p->name), p);
	}
	if (!added) {
		free(p);
		return NULL;
	}
	return p;
}

static bool pattern_add(struct pattern *p, const struct rule *r)
{
	if (!r->port) {
		p->any = r;
		return true;
	}
	const struct rule **grown =
		realloc(p->ports, (p->nports + 1) * sizeof *grown);
	if (!grown)
		return false;
	p->ports = grown;
	p->ports[p->nports++] = r;
	return true;
}

static void patterns_free(struct pattern **table)
{
	struct pattern *p, *next;
	HASH_ITER(hh, *table, p, next) {
		HASH_DEL(*table, p);
		free(p->ports);
		free(p);
	}
}

/* The tables for the rules of `cfg`, which the ruleset takes over; NULL
 * when out of memory (then `cfg` is still the caller's). */
struct ruleset *rules_build(struct config *cfg)
{
	struct ruleset *rs = calloc(1, sizeof *rs);
	if (!rs)
		return NULL;
	if (!keys_alloc(rs, cfg->nrules)) {
		rules_free(rs);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nrules; i++) {
		struct rule *r = cfg->rules[i];
		struct pattern *p = pattern_get(rs, r);
		r->id = (unsigned)i;
		if (!p || !pattern_add(p, r)) {
			rules_free(rs);
			return NULL;
		}
		if (r->kind == PUBLIC_ADDR && r->port)
			rs->addr_ports[r->port / 8] |= (uint8_t)(1u << (r->port % 8));
		else if (r->kind == PUBLIC_ADDR)
			rs->addr_any_port = true;
		else
			filter_add(rs, r);
	}
	if (!(rs->targets = targets_build(cfg->rules, cfg->nrules))) {
		rules_free(rs);
		return NULL;
	}
	static _Atomic unsigned serials;
	rs->serial = atomic_fetch_add(&serials, 1) + 1;
	rs->cfg = *cfg;
	memset(cfg, 0, sizeof *cfg);
	return rs;
}

void rules_free(struct ruleset *rs)
{
	if (!rs)
		return;
	patterns_free(&rs->names);
	patterns_free(&rs->wildcards);
	patterns_free(&rs->addrs);
	targets_free(rs->targets);
	config_free(&rs->cfg);
	free(rs->exact_keys);
	free(rs->wildcard_keys);
	free(rs);
}

const struct config *rules_config(const struct ruleset *rs)
{
	return &rs->cfg;
}

struct targets *rules_targets(const struct ruleset *rs)
{
	return rs->targets;
}

unsigned rules_serial(const struct ruleset *rs)
{
	return rs->serial;
}

/* The ports of the address rules of every ruleset put in force so far:
 * connect turns most destinations away on this, before it holds the rules
 * in force. It only grows, which costs a port whose rule went away the
 * longer path, nothing more. */
static _Atomic uint64_t ports_ever[65536 / 64];
static _Atomic bool any_port_ever;

void rules_note_ports(const struct ruleset *rs)
{
	if (rs->addr_any_port)
		atomic_store(&any_port_ever, true);
	for (size_t i = 0; i < 65536 / 64; i++) {
		uint64_t bits = 0;
		for (unsigned k = 0; k < 8; k++)
			bits |= (uint64_t)rs->addr_ports[8 * i + k] << (8 * k);
		if (bits)
			atomic_fetch_or(&ports_ever[i], bits);
	}
}

bool rules_port_may_match(uint16_t port)
{
	return atomic_load_explicit(&any_port_ever, memory_order_relaxed) ||
	       (atomic_load_explicit(&ports_ever[port / 64], memory_order_relaxed) >>
		(port % 64) & 1);
}

bool rules_have_addrs(const struct ruleset *rs)
{
	return rs->addrs != NULL;
}

/* Whether some address rule may apply to this port. */
static bool addr_port(const struct ruleset *rs, uint16_t port)
{
	return rs->addr_any_port ||
	       (rs->addr_ports[port / 8] & (1u << (port % 8)));
}

static const struct rule *pattern_rule_for(const struct pattern *p,
					   uint16_t port)
{
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports[i]->port == port)
			return p->ports[i];
	return p->any;
}

bool rules_match_name(const struct ruleset *rs, const char *name,
		      struct match *m)
{
	struct pattern *p;
	m->n = 0;
	HASH_FIND_STR(rs->names, name, p);
	if (p)
		m->by_precedence[m->n++] = p;
	if (!rs->wildcards || (p && p->any))
		return m->n > 0; /* an exact any-port rule hides every wildcard */
	for (const char *dot = strchr(name, '.'); dot && m->n < MATCH_MAX;
	     dot = strchr(dot + 1, '.')) {
		HASH_FIND_STR(rs->wildcards, dot + 1, p);
		if (p)
			m->by_precedence[m->n++] = p;
	}
	return m->n > 0;
}

/* Every rule that can apply to a matched name, most specific first. A
 * pattern with an any-port rule hides the less specific ones behind it. */
size_t rules_routes(const struct match *m, const struct rule **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct pattern *p = m->by_precedence[i];
		for (size_t j = 0; j < p->nports; j++, n++)
			if (out && n < max)
				out[n] = p->ports[j];
		if (p->any) {
			if (out && n < max)
				out[n] = p->any;
			return n + 1;
		}
	}
	return n;
}

/* Called from connect: no allocation, no lock. */
const struct rule *rules_match_addr(const struct ruleset *rs,
				    const struct sockaddr *sa, uint16_t port)
{
	unsigned char key[17];
	struct pattern *p;
	if (!rs->addrs || !addr_port(rs, port))
		return NULL;
	if (!addr_key(sa, key))
		return NULL;
	HASH_FIND(hh, rs->addrs, key, sizeof key, p);
	return p ? pattern_rule_for(p, port) : NULL;
}

size_t rules_match_addr_all(const struct ruleset *rs, const struct sockaddr *sa,
			    uint16_t port, const struct rule **out, size_t max)
{
	unsigned char key[17];
	struct pattern *p;
	size_t n = 0;
	if (port) {
		const struct rule *r = rules_match_addr(rs, sa, port);
		if (r && max)
			out[n++] = r;
		return n;
	}
	if (!rs->addrs || !addr_key(sa, key))
		return 0;
	HASH_FIND(hh, rs->addrs, key, sizeof key, p);
	for (size_t i = 0; p && i < p->nports && n < max; i++)
		out[n++] = p->ports[i];
	if (p && p->any && n < max)
		out[n++] = p->any;
	return n;
}
