/* Synthetic addresses: what a mapped name resolves to, and the way back.
 *
 * A mapped name gets a slot; its answer holds one synthetic address per
 * address of the target (up to SYNTH_POS per family, in the resolver's
 * order). The address carries the slot and the position:
 *   IPv4       127.88.0.0/16              slot << 2 | position
 *   IPv6       fd68:7368:696d::7f58:0/112 the same 16 bits
 *   v4-mapped  ::ffff:127.88.x.y          (AI_V4MAPPED answers)
 * so connect finds the name's routes by indexing, and the position picks
 * the same address of the target that the resolver put there. */
#ifndef HOSTSHIM_SLOTS_H
#define HOSTSHIM_SLOTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "targets.h"

#ifndef SLOT_BITS /* tests/unit/slots_stress.c builds with fewer, to reuse sooner */
#define SLOT_BITS 14
#endif
#define SLOT_COUNT (1u << SLOT_BITS) /* names at once; then the least recently used is reused */
#define SYNTH_POS_BITS 2
#define SYNTH_POS (1u << SYNTH_POS_BITS)
#define ROUTES_MAX 8 /* rules that can apply to one name */

#define SYNTH_NET 0x7f580000u
#define SYNTH_MASK 0xffff0000u
extern const unsigned char synth6_prefix[12];

struct synth {
	unsigned index, pos;
	enum form form;
};

/* The slot and position of a synthetic destination; false for any other. */
static inline bool synth_decode(const struct sockaddr *sa, socklen_t len,
				struct synth *out)
{
	uint32_t ip;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		ip = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		out->form = FORM_V4;
	} else if (sa->sa_family == AF_INET6 &&
		   len >= sizeof(struct sockaddr_in6)) {
		const unsigned char *a =
			((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a))
			out->form = FORM_MAPPED;
		else if (!memcmp(a, synth6_prefix, sizeof synth6_prefix))
			out->form = FORM_V6;
		else
			return false;
		memcpy(&ip, a + 12, 4);
		ip = ntohl(ip);
	} else {
		return false;
	}
	if ((ip & SYNTH_MASK) != SYNTH_NET)
		return false;
	out->index = (ip & ~SYNTH_MASK) >> SYNTH_POS_BITS;
	out->pos = ip & (SYNTH_POS - 1);
	return out->index != 0;
}
void synth_encode(const struct synth *s, struct sockaddr_storage *out,
		  socklen_t *len);
char *synth_text(const struct synth *s, char *out);

/* Lookups (a lock; may allocate). `rs` is held by the caller; the slot
 * keeps the ids of `routes` in it, never a pointer. Returns the slot, 0
 * when out of memory. */
struct ruleset;
unsigned slot_assign(const struct ruleset *rs, const char *name,
		     const struct rule *const *routes, size_t n);
/* Resolves `name`, which slot `index` was assigned, with the real
 * resolver: where ports without a rule go. Stored only while the slot
 * still holds that name. Returns 0 or the resolver's EAI_* code. */
int slot_resolve_own(unsigned index, const char *name);
/* The same with an answer the caller got itself (libc's list): stored, and
 * true, only while the slot still holds `name`, under the slots' lock. */
bool slot_store_own(unsigned index, const char *name,
		    const struct addrinfo *list);
/* The record of the name's own answer, for its flags (a background
 * resolver's marks): an answer stored into it directly, not through
 * slot_store_own, is never used. */
struct target *slot_own(unsigned index);
const char *slot_key(unsigned index); /* musl's ai_canonname */
void slots_rematch(const struct ruleset *rs);
unsigned slots_want_unmapped(const struct ruleset *rs);
unsigned slot_next_wanted(unsigned from, long now, char name[NAME_MAX_LEN + 1]);

/* connect, sendto, reverse lookups: no lock, no heap. `rs` is held. */
struct route {
	const struct rule *rule; /* NULL: no rule for the port, the name's own */
	const struct target *target;
	unsigned gen; /* the slot's assignment the route was read from */
	bool wake; /* the name's own address is now wanted: resolver_wake() */
};
bool slot_route(const struct ruleset *rs, unsigned index, uint16_t port,
		struct route *out);
/* Whether the slot still holds the assignment `gen` (after reading its own
 * target: the name's answer is the slot's, not the rules'). */
bool slot_still(unsigned index, unsigned gen);
bool slot_name(unsigned index, char out[NAME_MAX_LEN + 1]);

#endif
