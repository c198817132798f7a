/* Targets: where each rule's target host is now.
 *
 * One record per distinct target host, made when the rules load. A lookup
 * of a mapped name resolves the host with the real resolver and stores the
 * whole answer (up to ANSWER_MAX addresses per family, in the resolver's
 * order); connect reads it without a lock or a system call. */
#ifndef HOSTSHIM_TARGETS_H
#define HOSTSHIM_TARGETS_H

#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

#define ANSWER_MAX 8
/* n4 | n6 << 8, then the IPv4 addresses, then per IPv6 address 4 words of
 * address and its scope id. Words, so that connect can copy them with
 * atomic loads while a lookup stores a new answer. */
#define ANSWER_WORDS (1 + ANSWER_MAX + 5 * ANSWER_MAX)

struct target {
	const char *host;
	bool literal;
	bool for_addr_rule; /* resolved before the first connect needs it */
	/* Two copies; connect reads `active`, a lookup writes the other one.
	 * gen[i] is odd while copy i is being written (a seqlock). */
	_Atomic unsigned active;
	_Atomic unsigned gen[2];
	_Atomic uint32_t words[2][ANSWER_WORDS];
	_Atomic int writer;   /* pid of the process a thread of which stores */
	_Atomic int resolving; /* likewise, for target_ensure's one question */
	_Atomic bool resolved; /* it has held an answer */
	_Atomic long retry_at; /* CLOCK_MONOTONIC second: no retry before */
};

/* What the program's socket can take, from the destination it gave. */
enum form {
	FORM_V4,     /* an IPv4 socket */
	FORM_V6,     /* an IPv6 socket, an IPv6 destination */
	FORM_MAPPED, /* an IPv6 socket, a v4-mapped destination */
};
/* The form of an IPv4 or IPv6 address: of a destination, or an answer. */
static inline enum form form_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return FORM_V4;
	return IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)
		       ? FORM_MAPPED
		       : FORM_V6;
}

struct pick {
	enum form form;
	unsigned pos;	/* which address of the family, in the answer's order */
	uint16_t port;	/* network order is made here */
	int fd;		/* asked whether it is IPV6_V6ONLY, when that decides */
};

struct targets;
struct targets *targets_build(struct rule **rules, size_t n);
void targets_inherit(struct targets *ts, const struct targets *old);
void targets_free(struct targets *ts);
void targets_prepare(struct targets *ts);
int target_resolve(struct target *t, const char *host, int family, int flags,
		   struct addrinfo **list);
void target_ensure(struct target *t);
/* Stores an answer the caller got from the resolver itself. */
void target_store(struct target *t, const struct addrinfo *list, int family);
bool target_pick(const struct target *t, const struct pick *p,
		 struct sockaddr_storage *out, socklen_t *len);
void target_describe(const struct target *t, char *buf, size_t len);

#endif
