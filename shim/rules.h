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
/* The tables of one configuration. */
struct ruleset;
struct ruleset *rules_build(struct config *cfg);
void rules_free(struct ruleset *rs);
const struct config *rules_config(const struct ruleset *rs);
struct targets *rules_targets(const struct ruleset *rs);
/* Different for every ruleset built in this process (never 0). */
unsigned rules_serial(const struct ruleset *rs);

bool rules_may_match(const struct ruleset *rs, const char *node);
bool rules_have_addrs(const struct ruleset *rs);
/* Connect's first test: whether an address rule of some ruleset put in
 * force has this port (rules_note_ports when it goes in force). */
void rules_note_ports(const struct ruleset *rs);
bool rules_port_may_match(uint16_t port);
bool rules_match_name(const struct ruleset *rs, const char *name,
		      struct match *m);
/* Every address rule for `sa`, for any of its ports when `port` is 0. */
size_t rules_match_addr_all(const struct ruleset *rs, const struct sockaddr *sa,
			    uint16_t port, const struct rule **out, size_t max);
const struct rule *rules_match_addr(const struct ruleset *rs,
				    const struct sockaddr *sa, uint16_t port);
size_t rules_routes(const struct match *m, const struct rule **out,
		    size_t max);
bool name_canonical(const char *in, char out[NAME_MAX_LEN + 1]);

#endif
