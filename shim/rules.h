/* Rule matching: which rules apply to a name, or to an address and port. */
#ifndef HOSTSHIM_RULES_H
#define HOSTSHIM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/* Every rule for one public name, wildcard or address. */
struct pattern;

#define MATCH_MAX 64
struct match {
	const struct pattern *by_precedence[MATCH_MAX];
	size_t n;
};
bool rules_build(struct rule **rules, size_t n);
bool rules_may_match(const char *node);
bool rules_have_addrs(void);
bool rules_match_name(const char *name, struct match *m);
const struct rule *rules_match_addr(const struct sockaddr *sa, uint16_t port);
size_t rules_routes(const struct match *m, const struct rule **out,
		    size_t max);
bool name_canonical(const char *in, char out[NAME_MAX_LEN + 1]);

#endif
