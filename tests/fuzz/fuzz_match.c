/* libFuzzer target: the matcher (rules_build, rules_match_name,
 * rules_routes, rules_match_addr) and name_canonical.
 *
 * Input: HOSTSHIM_MAP text, then optionally a NUL byte and query names, one
 * per line. The rules are built into the tables, every query (and names
 * made from the rules themselves) is matched, and the answer is compared
 * with a brute-force reading of the precedence rules in SPEC.md.
 *
 * rules.c keeps its tables in file-scope statics and has no way to empty
 * them, so this file includes rules.c and empties them itself between
 * inputs (reset_tables below). A rules_reset() in rules.c would let this
 * target link rules.c like the others. */
#define _GNU_SOURCE
#include <stdint.h>

#include "../../shim/rules.c"

#include "fuzz_common.h"
#include "real.h"

static struct ruleset *cur_rs;
static const struct config *cur;

/* Brute force: the patterns that apply to canonical `name`, most specific
 * first, as the names of the rules that form them ("" for exact). */
struct expect {
	const char *suffix[MATCH_MAX];
	bool exact[MATCH_MAX];
	size_t n;
};

static bool has_rule(enum public_kind kind, const char *name)
{
	for (size_t i = 0; i < cur->nrules; i++)
		if (cur->rules[i]->kind == kind && !strcmp(cur->rules[i]->name, name))
			return true;
	return false;
}

static void expected_patterns(const char *name, struct expect *e)
{
	e->n = 0;
	if (has_rule(PUBLIC_NAME, name)) {
		e->exact[e->n] = true;
		e->suffix[e->n++] = name;
	}
	for (const char *dot = strchr(name, '.'); dot && e->n < MATCH_MAX;
	     dot = strchr(dot + 1, '.'))
		if (has_rule(PUBLIC_WILDCARD, dot + 1)) {
			e->exact[e->n] = false;
			e->suffix[e->n++] = dot + 1;
		}
}

/* The rule `pattern` has for a port, by brute force. */
static const struct rule *expected_rule(const struct pattern *p,
					enum public_kind kind, uint16_t port)
{
	const struct rule *any = NULL;
	for (size_t i = 0; i < cur->nrules; i++) {
		const struct rule *r = cur->rules[i];
		if (r->kind != kind || strcmp(r->name, p->name))
			continue;
		if (r->port == port && port)
			return r;
		if (!r->port)
			any = r;
	}
	return any;
}

static void check_name(const char *query)
{
	char name[NAME_MAX_LEN + 1];
	struct match m;
	struct expect e;
	check_canonical(query);
	if (!name_canonical(query, name))
		return;
	bool hit = rules_match_name(cur_rs, name, &m);
	expected_patterns(name, &e);
	FUZZ_ASSERT(hit == (e.n > 0));
	/* The filter never turns away a name some rule matches. */
	FUZZ_ASSERT(!hit || rules_may_match(cur_rs, query));
	/* An exact name with an any-port rule hides every wildcard, and the
	 * matcher may stop there; otherwise it lists every pattern. */
	bool exact_any = e.n && e.exact[0] && m.n && m.by_precedence[0]->any;
	FUZZ_ASSERT(exact_any ? m.n == 1 : m.n == e.n);
	for (size_t i = 0; i < m.n; i++) {
		FUZZ_ASSERT(!strcmp(m.by_precedence[i]->name, e.suffix[i]));
		enum public_kind kind = e.exact[i] ? PUBLIC_NAME : PUBLIC_WILDCARD;
		FUZZ_ASSERT(pattern_rule_for(m.by_precedence[i], 0) ==
			    expected_rule(m.by_precedence[i], kind, 0));
		for (size_t j = 0; j < m.by_precedence[i]->nports; j++) {
			uint16_t port = m.by_precedence[i]->ports[j]->port;
			FUZZ_ASSERT(pattern_rule_for(m.by_precedence[i], port) ==
				    expected_rule(m.by_precedence[i], kind, port));
		}
	}
	/* Routes: port rules of each pattern in order, up to the first
	 * pattern with an any-port rule, which ends the list. */
	const struct rule *routes[4 * MATCH_MAX + 8];
	size_t n = rules_routes(&m, NULL, 0);
	size_t n2 = rules_routes(&m, routes, sizeof routes / sizeof *routes);
	FUZZ_ASSERT(n == n2);
	size_t k = 0;
	for (size_t i = 0; i < m.n && k < n; i++) {
		const struct pattern *p = m.by_precedence[i];
		for (size_t j = 0; j < p->nports; j++, k++)
			if (k < sizeof routes / sizeof *routes)
				FUZZ_ASSERT(routes[k] == p->ports[j] && routes[k]->port);
		if (p->any) {
			if (k < sizeof routes / sizeof *routes)
				FUZZ_ASSERT(routes[k] == p->any);
			k++;
			break;
		}
	}
	FUZZ_ASSERT(k == n);
}

/* An address as connect compares it: IPv4, or a v4-mapped IPv6 address as
 * the IPv4 address it stands for; else the 16 IPv6 bytes. */
static size_t norm_addr(const struct sockaddr_storage *ss, unsigned char out[16])
{
	if (ss->ss_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 4;
	}
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(a6->s6_addr, prefix, 12)) {
		memcpy(out, a6->s6_addr + 12, 4);
		return 4;
	}
	memcpy(out, a6->s6_addr, 16);
	return 16;
}

/* rules_match_addr for the address of address rule `r` and a port, against
 * brute force: the first rule naming that port, else the (last) any-port
 * rule, among rules for the same address. */
static void check_addr_rule(const struct rule *r, uint16_t port)
{
	unsigned char key[16], other[16];
	size_t klen = norm_addr(&r->addr, key);
	const struct rule *want = NULL, *any = NULL;
	for (size_t i = 0; i < cur->nrules; i++) {
		const struct rule *o = cur->rules[i];
		if (o->kind != PUBLIC_ADDR || norm_addr(&o->addr, other) != klen ||
		    memcmp(key, other, klen))
			continue;
		if (o->port && o->port == port && !want)
			want = o;
		if (!o->port)
			any = o;
	}
	struct sockaddr_storage ss = r->addr;
	const struct rule *got = rules_match_addr(cur_rs, (struct sockaddr *)&ss, port);
	FUZZ_ASSERT(got == (want ? want : any));
	if (klen == 4) {
		/* The same address as an AF_INET and an AF_INET6 socket see it. */
		struct sockaddr_in in4 = {.sin_family = AF_INET};
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
		memcpy(&in4.sin_addr, key, 4);
		in6.sin6_addr.s6_addr[10] = in6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(in6.sin6_addr.s6_addr + 12, key, 4);
		FUZZ_ASSERT(rules_match_addr(cur_rs, (struct sockaddr *)&in4, port) == got);
		FUZZ_ASSERT(rules_match_addr(cur_rs, (struct sockaddr *)&in6, port) == got);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	FUZZ_ASSERT(text);
	memcpy(text, data, size);
	text[size] = '\0';
	const char *queries = memchr(data, 0, size) ? text + strlen(text) + 1 : NULL;

	struct config cfg = {.file_log = -1};
	config_parse_map(&cfg, text);
	config_merge(&cfg);
	if (!real.getaddrinfo)
		real_resolve();
	FUZZ_ASSERT((cur_rs = rules_build(&cfg)));
	cur = rules_config(cur_rs);
	/* The filters never turn away an exact name some rule has. */
	for (size_t i = 0; i < cur->nrules; i++)
		if (cur->rules[i]->kind == PUBLIC_NAME)
			FUZZ_ASSERT(rules_may_match(cur_rs, cur->rules[i]->name));

	/* Names made from the rules: each exact name, upper-cased and with a
	 * trailing dot; one and two labels in front of each wildcard. */
	char q[2 * NAME_MAX_LEN + 16];
	for (size_t i = 0; i < cur->nrules; i++) {
		const struct rule *r = cur->rules[i];
		if (r->kind == PUBLIC_ADDR) {
			check_addr_rule(r, r->port);
			check_addr_rule(r, (uint16_t)(r->port + 1));
			check_addr_rule(r, 0);
			continue;
		}
		check_name(r->name);
		snprintf(q, sizeof q, "%s.", r->name);
		for (char *c = q; *c; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 'a' + 'A');
		check_name(q);
		snprintf(q, sizeof q, "x.%s", r->name);
		check_name(q);
		snprintf(q, sizeof q, "a.b-c.%s", r->name);
		check_name(q);
	}
	/* The queries given after the NUL, one per line. */
	for (const char *p = queries; p && p < text + size;) {
		size_t len = strcspn(p, "\n");
		char *one = strndup(p, len); /* any length: over-long names too */
		FUZZ_ASSERT(one);
		check_name(one);
		free(one);
		p += len + 1;
	}
	rules_free(cur_rs);
	free(text);
	return 0;
}
