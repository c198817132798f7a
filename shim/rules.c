/* Rule matching: which rules apply to a name, or to an address and port.
 *
 * Rules sharing a public name (or wildcard, or address) form a pattern.
 * The tables are built once at load and only read afterwards, so lookups
 * and connects read them from any thread without a lock.
 *
 * Precedence, most specific first: the exact name, then wildcards from the
 * longest suffix to the shortest; within one pattern a port-specific rule
 * before the any-port rule. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

struct pattern {
	const char *name;	  /* names and wildcards: the key */
	unsigned char addr[17]; /* addresses: family byte + 16 address bytes */
	const struct rule *any;
	const struct rule **ports;
	size_t nports;
	UT_hash_handle hh;
};

static struct pattern *names, *wildcards, *addrs;
static bool addr_any_port;
static uint8_t addr_ports[65536 / 8]; /* ports that some address rule names */
static uint8_t last_labels[256 / 8];  /* hashes of the rules' last labels */

/* A hash of a name's last label ("localhost" of "auth.localhost."), case
 * folded: most names a program looks up share none with any rule, and are
 * let through on this alone. */
static unsigned last_label_hash(const char *name, size_t len)
{
	if (len && name[len - 1] == '.')
		len--;
	unsigned h = 0;
	while (len && name[len - 1] != '.') {
		unsigned char c = (unsigned char)name[--len];
		h = h * 31 + (c >= 'A' && c <= 'Z' ? c + 32u : c);
	}
	return h & 255;
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

static struct pattern *pattern_get(const struct rule *r)
{
	struct pattern *p, **table = r->kind == PUBLIC_NAME	? &names
				     : r->kind == PUBLIC_WILDCARD ? &wildcards
								  : &addrs;
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

/* Called once, before any lookup can see the tables. */
bool rules_build(struct rule **rules, size_t n)
{
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = rules[i];
		struct pattern *p = pattern_get(r);
		if (!p || !pattern_add(p, r)) {
			ok = false;
			continue;
		}
		if (r->kind == PUBLIC_ADDR && r->port)
			addr_ports[r->port / 8] |= (uint8_t)(1u << (r->port % 8));
		else if (r->kind == PUBLIC_ADDR)
			addr_any_port = true;
		else {
			unsigned h = last_label_hash(r->name, strlen(r->name));
			last_labels[h / 8] |= (uint8_t)(1u << (h % 8));
		}
	}
	return ok;
}

/* False when no rule can match `node`: the cheap test before any other. */
bool rules_may_match(const char *node)
{
	unsigned h = last_label_hash(node, strlen(node));
	return last_labels[h / 8] & (1u << (h % 8));
}

bool rules_have_addrs(void)
{
	return addrs != NULL;
}

/* Whether some address rule may apply to this port. */
bool rules_addr_port(uint16_t port)
{
	return addr_any_port || (addr_ports[port / 8] & (1u << (port % 8)));
}

static const struct rule *pattern_rule_for(const struct pattern *p,
					   uint16_t port)
{
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports[i]->port == port)
			return p->ports[i];
	return p->any;
}

bool rules_match_name(const char *name, struct match *m)
{
	struct pattern *p;
	m->n = 0;
	HASH_FIND_STR(names, name, p);
	if (p)
		m->by_precedence[m->n++] = p;
	if (!wildcards || (p && p->any))
		return m->n > 0; /* an exact any-port rule hides every wildcard */
	for (const char *dot = strchr(name, '.'); dot && m->n < MATCH_MAX;
	     dot = strchr(dot + 1, '.')) {
		HASH_FIND_STR(wildcards, dot + 1, p);
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
const struct rule *rules_match_addr(const struct sockaddr *sa, uint16_t port)
{
	unsigned char key[17];
	struct pattern *p;
	if (!addrs || !rules_addr_port(port))
		return NULL;
	if (!addr_key(sa, key))
		return NULL;
	HASH_FIND(hh, addrs, key, sizeof key, p);
	return p ? pattern_rule_for(p, port) : NULL;
}
