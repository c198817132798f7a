/* The library's rule tables, seen through one small interface.
 *
 * The library's matching API went from global tables
 * (rules_build(rules, n), rules_match_name(name, m)) to a struct ruleset
 * that takes the configuration over (main, from 754dfba on: current.h
 * appeared with it). Both are supported here, so that the supervisor
 * builds on either side of that change; nothing else in shim/supervise/
 * calls rules_build or rules_match_*. */
#define _GNU_SOURCE
#include <netdb.h>

#include "supervise.h"
#if __has_include("real.h")
#include "real.h"
#endif

/* The library resolves literal targets through `real`, the functions its
 * hooks stand in front of, found with dlsym(RTLD_NEXT) in a preloaded
 * library. Here nothing stands in front of libc (and a static build has
 * no dlsym): libc's own functions are the real ones. */
void lib_init(void)
{
	real.getaddrinfo = getaddrinfo;
	real.freeaddrinfo = freeaddrinfo;
}

#if __has_include("current.h")

static struct ruleset *set;

bool lib_rules_build(struct config *cfg, struct rule ***rules, size_t *n)
{
	set = rules_build(cfg);
	const struct config *c = set ? rules_config(set) : cfg;
	*rules = c->rules;
	*n = c->nrules;
	return set != NULL;
}

bool lib_match_name(const char *name, struct match *m)
{
	return set && rules_match_name(set, name, m);
}

const struct rule *lib_match_addr(const struct sockaddr *sa, uint16_t port)
{
	return set ? rules_match_addr(set, sa, port) : NULL;
}

#else

bool lib_rules_build(struct config *cfg, struct rule ***rules, size_t *n)
{
	*rules = cfg->rules;
	*n = cfg->nrules;
	return rules_build(cfg->rules, cfg->nrules);
}

bool lib_match_name(const char *name, struct match *m)
{
	return rules_match_name(name, m);
}

const struct rule *lib_match_addr(const struct sockaddr *sa, uint16_t port)
{
	return rules_match_addr(sa, port);
}

#endif
