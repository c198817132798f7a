/* Synthetic addresses: each mapped name a program looks up gets one address
 * in 127.88.0.0/16, and connect maps that address back to the name.
 *
 * The table is open addressing over the 16 bits of the address, so connect
 * finds a name's slot by indexing, without hashing or locking. Lookups add
 * slots with a compare-and-swap; a slot, once set, is never moved or freed,
 * so a pointer read in connect stays valid, in threads and after fork.
 * Why synthetic addresses and not the target's: an address shared with the
 * target would send the target's own name, and its other ports, through the
 * rules too. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

_Atomic(struct slot *) slot_table[SLOT_COUNT];

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

/* Index 0 (127.88.0.0) is never handed out, so 0 can mean "none". */
unsigned slot_for_name(const char *name)
{
	unsigned start = name_hash(name) % (SLOT_COUNT - 1) + 1;
	struct slot *mine = NULL;
	for (unsigned i = 0; i < SLOT_COUNT - 1; i++) {
		unsigned index = (start - 1 + i) % (SLOT_COUNT - 1) + 1;
		struct slot *s = atomic_load_explicit(&slot_table[index],
						      memory_order_acquire);
		if (!s) {
			if (!mine) {
				size_t len = strlen(name) + 1;
				if (!(mine = calloc(1, sizeof *mine + len)))
					return 0;
				memcpy(mine->name, name, len);
			}
			if (atomic_compare_exchange_strong_explicit(
				    &slot_table[index], &s, mine,
				    memory_order_acq_rel, memory_order_acquire))
				return index;
			/* Another thread took it; s is now theirs. */
		}
		if (!strcmp(s->name, name)) {
			free(mine);
			return index;
		}
	}
	free(mine);
	return 0;
}

/* AF_INET: 127.88.x.y; AF_INET6: ::ffff:127.88.x.y, which an IPv6 socket
 * connects to over IPv4 and connect recognises like the IPv4 form. */
void synth_address(unsigned index, int family, struct sockaddr_storage *out)
{
	uint32_t ip = htonl(SYNTH_NET | index);
	memset(out, 0, sizeof *out);
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)out;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr.s6_addr[10] = 0xff;
		in6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(in6->sin6_addr.s6_addr + 12, &ip, 4);
	} else {
		struct sockaddr_in *in4 = (void *)out;
		in4->sin_family = AF_INET;
		in4->sin_addr.s_addr = ip;
	}
}

/* "127.88.x.y" or "::ffff:127.88.x.y", by hand: inet_ntop formats with
 * sprintf, a tenth of a lookup's cost. */
void synth_text(unsigned index, int family, char out[INET6_ADDRSTRLEN])
{
	char *p = out;
	if (family == AF_INET6) {
		memcpy(p, "::ffff:", 7);
		p += 7;
	}
	memcpy(p, "127.88.", 7);
	p += 7;
	unsigned parts[2] = {index >> 8, index & 0xff};
	for (int i = 0; i < 2; i++) {
		unsigned v = parts[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i ? '\0' : '.';
	}
}
