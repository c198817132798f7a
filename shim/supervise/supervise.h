/* hostshim-supervise: the rules for programs a preload can't reach.
 *
 * The supervisor forks COMMAND under a seccomp filter whose user
 * notifications cover connect, sendto, sendmsg and sendmmsg, and answers
 * every notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, after
 * rewriting the destination in the child's memory when a rule applies.
 *
 *   main.c     options from the environment, start-up, exit status
 *   library.c  the library's rule tables
 *   spawn.c    the child: filter, listener hand-over, exec; exit 125 paths
 *   filter.c   the BPF program
 *   notify.c   one notification: read, decide, rewrite, continue
 *   mem.c      reading and writing the caller's memory
 *   routes.c   synthetic addresses, target lookups, address rules
 *   redirect.c one destination: which target, in which form
 *   dns.c      DNS messages: parse a query, build an answer
 *   stub.c     the DNS stub: sockets, threads, forwarding, replies
 *   signals.c  signal forwarding and the child's exit status
 *
 * It is a redirect convenience, not a security boundary: CONTINUE lets
 * the kernel read the destination again from the child's memory, which
 * another thread of the child may change after we looked. */
#ifndef HOSTSHIM_SUPERVISE_H
#define HOSTSHIM_SUPERVISE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config.h"
#include "log.h"
#include "rules.h"

#define STATUS_NO_SECCOMP 125 /* supervised mode can't work here */
/* In COMMAND's environment: the supervisor's PID. A launcher run inside
 * a supervised tree can tell (the kernel allows one listener per tree). */
#define SUPERVISED_ENV "HOSTSHIM_SUPERVISED"
#define MAX_NS 3	      /* nameservers taken from resolv.conf, like libc */

/* ---- library.c: the library's rule tables --------------------------- */
void lib_init(void); /* before anything of the library's runs */
/* Builds the tables from `cfg`; *rules, *n: the rules from then on. */
bool lib_rules_build(struct config *cfg, struct rule ***rules, size_t *n);
bool lib_match_name(const char *name, struct match *m);
const struct rule *lib_match_addr(const struct sockaddr *sa, uint16_t port);

/* ---- filter.c ------------------------------------------------------- */
struct sock_fprog;
/* watch_exec: execve and execveat notify too (exec.c). */
const struct sock_fprog *filter_program(bool watch_exec);

/* ---- spawn.c -------------------------------------------------------- */
/* Starts argv[0] under the filter; returns its pid and the listener fd,
 * or exits 125 (seccomp refused) / 127 / 126 without running it. */
pid_t spawn_supervised(char **argv, int *listener);
/* The file to run when it is not argv[0]: $HOSTSHIM_SUPERVISE_FILE, set
 * by the library's exec hook, which passes COMMAND's argv unchanged. */
#define SPAWN_FILE_ENV "HOSTSHIM_SUPERVISE_FILE"
extern const char *spawn_file;
void spawn_check_kernel(void);

/* ---- routes.c ------------------------------------------------------- */
/* Synthetic addresses, 127.88.0.0/16 as in the library: one per name. */
#define SV_SYNTH_NET 0x7f580000u
#define SV_SYNTH_MASK 0xffff0000u
#define SV_SLOTS 65536u
#define SYNTH_FIRST 1u

/* What a query for a name gets from the stub. */
struct synth_answer {
	bool mapped;   /* false: not ours, forward the query */
	int rcode;     /* 0, 2 (SERVFAIL) or 3 (NXDOMAIN) */
	bool has_a;    /* the synthetic IPv4 address, in `a4` */
	bool has_aaaa; /* the synthetic address v4-mapped (IPv6-only targets) */
	struct in_addr a4;
};
void targets_init(struct rule **rules, size_t n);
void targets_start(void); /* its thread; after the child is spawned */
void targets_answer(const char *name, struct synth_answer *out);

/* A target as resolved, and what a connect reads of it. */
struct ep {
	int status; /* 0, or the EAI_* code resolving gave */
	bool has4, has6;
	struct in_addr a4;
	struct in6_addr a6;
	uint32_t scope6;
};
struct target_view {
	char name[NAME_MAX_LEN + 1]; /* the public name or address */
	const struct rule *rule;     /* NULL: no rule for the port */
	struct ep to;
	bool first; /* first time for this port: worth an info line */
};
/* False: not an address the stub handed out. */
bool targets_for_synthetic(unsigned index, uint16_t port, struct target_view *v);
/* False: the rule's target does not resolve (yet). */
bool targets_for_rule(const struct rule *r, uint16_t port, struct target_view *v);

/* ---- redirect.c ----------------------------------------------------- */
/* Where a destination really goes. True, with *out filled (same family
 * and length as `sa`), when a rule applies. `what` names the syscall. */
bool redirect_route(const struct sockaddr *sa, socklen_t len,
		    struct sockaddr_storage *out, const char *what);

/* ---- stub.c --------------------------------------------------------- */
/* Nameservers from resolv.conf and the stub's own addresses for them. */
struct nameserver {
	struct sockaddr_in real;   /* e.g. 127.0.0.11:53 */
	struct sockaddr_in plain;  /* connect: UDP and TCP, replies as is */
	struct sockaddr_in spoof;  /* sendto without connect: replies appear
				    * to come from `real` (musl checks that) */
};
extern struct nameserver stub_ns[MAX_NS];
extern size_t stub_nns;
bool stub_open(void);		/* binds the sockets; before the child runs */
void stub_start(void);		/* the threads; after the child is spawned */
/* Index of a nameserver the destination names (port 53), or -1. */
int stub_ns_index(const struct sockaddr *sa, socklen_t len);

/* ---- dns.c ---------------------------------------------------------- */
#define DNS_MAX 4096
struct dns_query {
	char name[NAME_MAX_LEN + 2];
	uint16_t qtype, qclass;
	size_t question_end; /* offset just past the question */
};
bool dns_parse_query(const unsigned char *msg, size_t len,
		     struct dns_query *q);
/* Writes the answer into `out` (DNS_MAX bytes); returns its length. */
size_t dns_answer(const unsigned char *query, const struct dns_query *q,
		  const struct synth_answer *a, unsigned char *out);

/* ---- mem.c ---------------------------------------------------------- */
/* The memory of the thread behind one notification. */
struct mem {
	int listener;
	pid_t pid;
	uint64_t id;
	int fd;		 /* /proc/PID/mem once opened and confirmed, or -1 */
	bool tried_open;
	bool quiet; /* a refusal is not worth the warning (exec.c) */
};
void mem_begin(struct mem *m, int listener, pid_t pid, uint64_t id);
void mem_end(struct mem *m);
bool mem_read(struct mem *m, uint64_t addr, void *buf, size_t len);
bool mem_write(struct mem *m, uint64_t addr, const void *buf, size_t len);
/* Which way works, tried on COMMAND; false (said) when none does. */
bool mem_probe(pid_t child);

/* ---- exec.c --------------------------------------------------------- */
/* An execve (dirfd AT_FDCWD) or execveat under no_new_privs: says once
 * when the program is setuid, setgid or has file capabilities. */
void exec_check(struct mem *m, int dirfd, uint64_t path, uint64_t flags);

/* ---- notify.c ------------------------------------------------------- */
void notify_init(int listener);
/* Handles one pending notification; false when the listener is gone. */
bool notify_one(int listener);

/* ---- signals.c ------------------------------------------------------ */
int signals_block(void); /* every catchable signal: returns a signalfd */
/* Reads the signalfd: forwards, or returns true with *status when the
 * child has ended (its exit code, or 128+signal after re-raising). */
bool signals_handle(int sfd, pid_t child, int *status);
void signals_restore_in_child(void);
void signals_isolate_child(void);   /* its own process group */
void signals_started(pid_t child);
/* false: COMMAND shares our process group (a script on a terminal) */
bool signals_command_group(void);
/* Runs notify_one on a thread of its own until the listener is gone. */
void notify_start(int listener);

/* ---- guard.c -------------------------------------------------------- */
/* A small process that outlives us: see guard.c. */
void guard_start(int listener, pid_t child);
void guard_release(void); /* we end normally: nothing to kill */
_Noreturn void exit_like_child(int wstatus);

#endif
