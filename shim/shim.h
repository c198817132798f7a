/* hostshim: declarations shared by the library's files.
 *
 * Where things happen:
 *   config.c        INI file and HOSTSHIM_MAP -> a list of rules, with messages
 *   rules.c         rule tables; which rules match a name or an address
 *   slots.c         the synthetic addresses (127.88.0.0/16) handed out for names
 *   routes.c        a mapped name's targets, resolved in the lookup, read in connect
 *   hook_names.c    getaddrinfo, gethostbyname*, getnameinfo, gethostbyaddr*
 *   hook_connect.c  connect, sendto, sendmsg: where an address is rewritten
 *   hook_dlopen.c   dlopen: RTLD_DEEPBIND libraries see the hooks too
 *   real.c          the libc functions we stand in front of
 *   log.c           messages on stderr
 *   init.c          loading once, from the constructor or the first hook
 */
#ifndef HOSTSHIM_H
#define HOSTSHIM_H

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

#define NAME_MAX_LEN 253  /* longest DNS name, without the trailing dot */
#define LINE_MAX_LEN 1024 /* longest configuration line */

/* ---- real.c --------------------------------------------------------- */

struct msghdr;
struct real_fns {
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	void (*freeaddrinfo)(struct addrinfo *);
	int (*getnameinfo)(const struct sockaddr *, socklen_t, char *, socklen_t,
			   char *, socklen_t, int);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
			       struct hostent **, int *);
	int (*gethostbyname2_r)(const char *, int, struct hostent *, char *,
				size_t, struct hostent **, int *);
	struct hostent *(*gethostbyaddr)(const void *, socklen_t, int);
	int (*gethostbyaddr_r)(const void *, socklen_t, int, struct hostent *,
			       char *, size_t, struct hostent **, int *);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
};
extern struct real_fns real;
void real_resolve(void);

/* ---- log.c ---------------------------------------------------------- */

enum log_level { LOG_OFF, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
struct file_id {
	unsigned mode, uid;
	uint64_t dev, ino;
};
int file_id(int fd, struct file_id *out);
void log_remember_stderr(void);
extern enum log_level log_level;
bool log_level_parse(const char *text, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Building a line without stdio or the heap, for connect and sendto. */
struct logline {
	char text[640];
	size_t len;
};
void ll_str(struct logline *l, const char *s);
void ll_uint(struct logline *l, unsigned v);
void ll_host_port(struct logline *l, const char *host, unsigned port);
void ll_addr(struct logline *l, const struct sockaddr *sa);
void ll_emit(struct logline *l);

/* ---- config.c: what the user wrote ---------------------------------- */

enum public_kind { PUBLIC_NAME, PUBLIC_WILDCARD, PUBLIC_ADDR };

/* A resolved host: what connect will use for one target. */
struct endpoint {
	bool has4, has6;
	struct in_addr a4;
	struct in6_addr a6;
	uint32_t scope6;
};

struct rule {
	enum public_kind kind;
	char *name;		/* lower case; a wildcard's suffix; an address's text */
	struct sockaddr_storage addr; /* PUBLIC_ADDR: the literal (port unused) */
	uint16_t port;		/* public port; 0: every port */
	char *target_host;	/* a name or an address literal, no brackets */
	bool target_literal;	/* an address: resolved once, at load */
	uint16_t target_port;	/* 0: keep the port the program used */
	char *public_text;	/* canonical, e.g. "auth.localhost:443": the key */
	char *target_text;	/* as it will be printed, e.g. "server:9443" */
	char *origin;		/* "FILE:LINE" or "HOSTSHIM_MAP item N" */
	int source;		/* 0: file, 1: HOSTSHIM_MAP */
	struct endpoint fixed;	/* address rules and literal targets: known at load */
	int fixed_status;	/* 0, or the EAI_* code resolving the target gave */
	_Atomic uint32_t logged[4]; /* address rules: ports already reported */
	UT_hash_handle key_hh;	/* config.c: the keys of one source */
};

struct message {
	enum log_level level;
	char *text; /* "ORIGIN: what is wrong" */
};

struct config {
	struct rule **rules;
	size_t nrules, rulecap;
	struct message *messages; /* every one is a problem for strict mode */
	size_t nmessages, msgcap;
	int file_log;		  /* enum log_level, or -1: the file did not say */
	bool strict;
	struct rule *keys[2];	  /* public keys seen, per source */
};
void config_parse_file(struct config *cfg, const char *path);
void config_parse_map(struct config *cfg, const char *map);
void config_merge(struct config *cfg);
/* A bad HOSTSHIM_* value: a configuration problem like a bad line. */
void config_env_problem(struct config *cfg, const char *name,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool config_bool(const char *text, bool *out); /* the file's true/false words */
void config_free(struct config *cfg);

/* ---- rules.c: matching ---------------------------------------------- */

/* Every rule for one public name, wildcard or address. */
struct pattern;
const struct rule *pattern_rule_for(const struct pattern *p, uint16_t port);

#define MATCH_MAX 64
struct match {
	const struct pattern *by_precedence[MATCH_MAX];
	size_t n;
};
bool rules_build(struct rule **rules, size_t n);
bool rules_may_match(const char *node);
bool rules_have_addrs(void);
bool rules_addr_port(uint16_t port);
bool rules_match_name(const char *name, struct match *m);
const struct rule *rules_match_addr(const struct sockaddr *sa, uint16_t port);
size_t rules_routes(const struct match *m, const struct rule **out,
		    size_t max);
bool name_canonical(const char *in, char out[NAME_MAX_LEN + 1]);

/* ---- slots.c: synthetic addresses ----------------------------------- */

#define SYNTH_NET 0x7f580000u /* 127.88.0.0/16, one address per mapped name */
#define SYNTH_MASK 0xffff0000u
#define SLOT_COUNT 65536u

struct view;
struct slot {
	_Atomic(struct view *) view; /* replaced, never freed, when targets move */
	char name[];
};
unsigned slot_for_name(const char *name); /* 0 when the table is full */
extern _Atomic(struct slot *) slot_table[SLOT_COUNT];

/* Inline: connect runs these for every synthetic destination. */
static inline const struct slot *slot_at(unsigned index)
{
	if (index == 0 || index >= SLOT_COUNT)
		return NULL;
	return atomic_load_explicit(&slot_table[index], memory_order_acquire);
}

/* The slot index of a synthetic address (IPv4, or v4-mapped), or 0. */
static inline unsigned synth_index(const struct sockaddr *sa, socklen_t len)
{
	uint32_t ip;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		ip = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	} else if (sa->sa_family == AF_INET6 &&
		   len >= sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (!IN6_IS_ADDR_V4MAPPED(a6))
			return 0;
		memcpy(&ip, a6->s6_addr + 12, 4);
		ip = ntohl(ip);
	} else {
		return 0;
	}
	return (ip & SYNTH_MASK) == SYNTH_NET ? ip & ~SYNTH_MASK : 0;
}
void synth_address(unsigned index, int family, struct sockaddr_storage *out);
void synth_text(unsigned index, int family, char out[INET6_ADDRSTRLEN]);

/* ---- routes.c: from a slot and a port to a target ------------------- */

struct route {
	const struct rule *rule;
	struct endpoint to;
	int status; /* 0, or the EAI_* code resolving the target gave */
	bool ready4; /* to4 holds the destination for every IPv4 socket */
	struct sockaddr_in to4;
	_Atomic uint32_t logged[4]; /* ports already reported at info */
};
struct view {
	struct view *retired; /* views replaced so far, kept reachable */
	bool fixed;	      /* literal targets only: never refreshed */
	size_t nroutes;
	bool has_direct;	  /* the name's own address, for ports no rule has */
	struct endpoint direct;
	struct route routes[]; /* in precedence order */
};
#define ROUTE_NONE 1 /* no rule for that port: answer as libc would */
int routes_refresh(unsigned index, const struct match *m, int port);
bool log_first_time(_Atomic uint32_t logged[4], uint16_t port);
/* The first route, in precedence order, that takes this port. */
static inline const struct route *routes_pick(const struct view *v,
					      uint16_t port)
{
	for (size_t i = 0; i < v->nroutes; i++)
		if (v->routes[i].rule->port == port || !v->routes[i].rule->port)
			return &v->routes[i];
	return NULL;
}
int endpoint_resolve(const char *host, struct endpoint *e);
bool endpoint_sockaddr(const struct endpoint *e, int family, uint16_t port,
		       bool prefer4, struct sockaddr_storage *out,
		       socklen_t *len);
void endpoint_describe(const struct endpoint *e, char *buf, size_t len);

/* ---- init.c --------------------------------------------------------- */

/* Nonzero while this thread loads the configuration: hooks it reaches meanwhile
 * (NSS modules may connect) go straight to libc. */
extern __thread int shim_busy __attribute__((tls_model("initial-exec")));

enum { SHIM_NEW = 0, SHIM_READY = -1 }; /* else: the loading process's pid */
extern _Atomic int shim_state;
/* What connect must look at, known once loaded (0 before: everything). */
enum { CONNECT_SYNTH_ONLY = 1, /* no address rules: only 127.88/16 */
       CONNECT_ALL };
extern _Atomic int shim_connect_filter;
bool shim_load(void);
const char *env_get(const char *name);
bool env_flag(const char *name, bool *out);
/* True when rules may apply: loads the configuration on first use. False
 * while this thread is loading it. Once loaded, always true: a signal
 * handler that interrupts our own lookup still gets its connect rewritten. */
static inline bool shim_ready(void)
{
	if (__builtin_expect(atomic_load_explicit(&shim_state,
						  memory_order_acquire) ==
				     SHIM_READY,
			     1))
		return true;
	return shim_load();
}

#endif
