/* The library's rule tables, seen through one small interface: nothing
 * else in shim/supervise/ calls rules_build or rules_match_*. The
 * supervisor reads its rules once, at start. */
#define _GNU_SOURCE
#include <netdb.h>

#include "real.h"
#include "supervise.h"

/* The library resolves literal targets through `real`, the functions its
 * hooks stand in front of, found with dlsym(RTLD_NEXT) in a preloaded
 * library. Here nothing stands in front of libc (and a static build has
 * no dlsym): libc's own functions are the real ones. */
void lib_init(void)
{
	real.getaddrinfo = getaddrinfo;
	real.freeaddrinfo = freeaddrinfo;
}

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
