/* hostshim: what every file of the library shares.
 *
 * Where things happen (each .c has a header of the same name):
 *   config.c        INI file and HOSTSHIM_MAP -> a list of rules, with messages
 *   rules.c         rule tables; which rules match a name or an address
 *   targets.c       where each rule's target is now: the resolver's answer
 *   slots.c         names <-> synthetic addresses, and a name's routes
 *   hook_names.c    getaddrinfo, gethostbyname*, getnameinfo, gethostbyaddr*
 *   hook_connect.c  connect, sendto, sendmsg, sendmmsg: where an address is
 *                   rewritten
 *   hook_dlopen.c   dlopen: RTLD_DEEPBIND libraries see the hooks too
 *   current.c       the rules in force, replaced on reload
 *   real.c          the libc functions we stand in front of
 *   log.c           messages on stderr, and formatting without stdio
 *   init.c          loading once, on the first call that needs the rules
 *
 * Their tests: tests/integration/test_<concern>.py (rules, lookups,
 * failures, targets, reload, destinations, deepbind, ...), run by
 * tests/integration.py; the matcher and parser alone in tests/unit/.
 */
#ifndef HOSTSHIM_H
#define HOSTSHIM_H

#include <netinet/in.h>
#include <string.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

#define NAME_MAX_LEN 253  /* longest DNS name, without the trailing dot */
#define LINE_MAX_LEN 1024 /* longest configuration line */

/* ::ffff:a.b.c.d, the form an IPv6 socket uses to reach an IPv4 address. */
static inline void v4mapped(struct in6_addr *out, const struct in_addr *a4)
{
	memset(out, 0, sizeof *out);
	out->s6_addr[10] = 0xff;
	out->s6_addr[11] = 0xff;
	memcpy(out->s6_addr + 12, a4, 4);
}

#endif
