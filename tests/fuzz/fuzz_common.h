/* Shared by the hostshim fuzz targets: checks that hold for any parse. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rules.h"

#define FUZZ_ASSERT(cond)                                                    \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz check failed: %s (%s:%d)\n",   \
				#cond, __FILE__, __LINE__);                  \
			abort();                                             \
		}                                                            \
	} while (0)

/* An independent statement of what name_canonical accepts: one trailing
 * dot dropped, then 1-253 bytes of labels of 1-63 bytes from [A-Za-z0-9-_],
 * lower-cased. Returns the length, or -1. */
static inline int reference_canonical(const char *in, char *out)
{
	size_t len = strlen(in);
	if (len && in[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		return -1;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   c == '-' || c == '_') {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			label++;
		} else {
			return -1;
		}
		if (label > 63)
			return -1;
		out[i] = c;
	}
	if (label == 0)
		return -1;
	out[len] = '\0';
	return (int)len;
}

/* name_canonical against the reference, and idempotent on its own output. */
static inline void check_canonical(const char *in)
{
	char got[NAME_MAX_LEN + 1], want[NAME_MAX_LEN + 1], again[NAME_MAX_LEN + 1];
	bool ok = name_canonical(in, got);
	int ref = reference_canonical(in, want);
	FUZZ_ASSERT(ok == (ref >= 0));
	if (!ok)
		return;
	FUZZ_ASSERT(strlen(got) <= NAME_MAX_LEN);
	FUZZ_ASSERT(!strcmp(got, want));
	FUZZ_ASSERT(name_canonical(got, again) && !strcmp(got, again));
}

/* Whatever the input, every rule kept is complete and every message names
 * where it comes from. */
static inline void check_config(const struct config *cfg, const char *origin_prefix)
{
	size_t plen = strlen(origin_prefix);
	for (size_t i = 0; i < cfg->nmessages; i++) {
		const struct message *m = &cfg->messages[i];
		FUZZ_ASSERT(m->text);
		FUZZ_ASSERT(m->level == LOG_ERROR || m->level == LOG_WARN);
		FUZZ_ASSERT(!strncmp(m->text, origin_prefix, plen));
		FUZZ_ASSERT(strchr(m->text, '\n') == NULL);
		FUZZ_ASSERT(strlen(m->text) < plen + 700);
	}
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct rule *r = cfg->rules[i];
		char canon[NAME_MAX_LEN + 1];
		FUZZ_ASSERT(r && r->name && r->public_text && r->target_text &&
			    r->target_host && r->origin);
		FUZZ_ASSERT(!strncmp(r->origin, origin_prefix, plen));
		FUZZ_ASSERT(r->kind == PUBLIC_NAME || r->kind == PUBLIC_WILDCARD ||
			    r->kind == PUBLIC_ADDR);
		if (r->kind != PUBLIC_ADDR) {
			FUZZ_ASSERT(name_canonical(r->name, canon));
			FUZZ_ASSERT(!strcmp(canon, r->name));
		} else {
			FUZZ_ASSERT(r->addr.ss_family == AF_INET ||
				    r->addr.ss_family == AF_INET6);
		}
		FUZZ_ASSERT(strlen(r->target_host) <= LINE_MAX_LEN);
		FUZZ_ASSERT(strchr(r->public_text, '\n') == NULL);
		FUZZ_ASSERT(strchr(r->target_text, '\n') == NULL);
		for (size_t j = 0; j < i; j++)
			if (cfg->rules[j]->source == r->source)
				FUZZ_ASSERT(strcmp(cfg->rules[j]->public_text,
						   r->public_text));
	}
}

#endif
