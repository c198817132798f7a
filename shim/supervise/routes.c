/* Where mapped names and addresses really go.
 *
 * A mapped name gets a synthetic address, 127.88.x.y, one per name, when
 * the stub first answers for it, as the library hands them out. Its
 * targets are resolved with the real resolver when the stub answers a
 * query (the stub runs on its own threads), so a connect only reads what
 * was stored: it never waits on DNS. Each query resolves them again, so
 * a target that moves is followed. Address rules' targets are resolved on
 * a thread of their own from the start, while COMMAND starts: a connect
 * to a rule's address that comes before that first round is done waits
 * for it (at most FIRST_WAIT_S), not COMMAND's start. A target that
 * failed is tried again on that thread when a connect needs it (that
 * connect goes on untouched, the next ones follow the rule), at most
 * once a second. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "supervise.h"

#define ROUTES_MAX 64
#define FIRST_WAIT_S 10 /* a resolver's timeout and retries, and then some */
#define LOGGED_MAX 8

struct name_slot {
	char name[NAME_MAX_LEN + 1];
	size_t nroutes;
	const struct rule **routes; /* precedence order; nroutes of each, */
	struct ep *to;		    /* replaced at each query */
	struct ep direct; /* the name itself, for ports no rule takes */
	unsigned index; /* its synthetic address: SV_SYNTH_NET | index */
	uint16_t logged[LOGGED_MAX];
	UT_hash_handle hh;
};

struct addr_target {
	const struct rule *rule;
	struct ep to;
	uint16_t logged[LOGGED_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t refresh_wake = PTHREAD_COND_INITIALIZER;
static bool refresh_wanted;
static bool first_round_done;
static struct name_slot *by_name;
static struct name_slot *by_index[SV_SLOTS];
static unsigned next_index = SYNTH_FIRST;
static struct addr_target *addr_targets;
static size_t naddr_targets;

static void resolve(const char *host, struct ep *e)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM},
			*res, *ai;
	memset(e, 0, sizeof *e);
	e->status = getaddrinfo(host, NULL, &hints, &res);
	if (e->status)
		return;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && !e->has4) {
			e->a4 = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
			e->has4 = true;
		} else if (ai->ai_family == AF_INET6 && !e->has6) {
			struct sockaddr_in6 *in6 = (void *)ai->ai_addr;
			e->a6 = in6->sin6_addr;
			e->scope6 = in6->sin6_scope_id;
			e->has6 = true;
		}
	}
	freeaddrinfo(res);
	if (!e->has4 && !e->has6)
		e->status = EAI_NONAME;
}

static void resolve_addr_targets(bool only_failed)
{
	for (size_t i = 0; i < naddr_targets; i++) {
		struct addr_target *t = &addr_targets[i];
		struct ep e;
		if (only_failed && t->to.status == 0)
			continue;
		resolve(t->rule->target_host, &e);
		if (e.status && !only_failed)
			log_msg(LOG_WARN, "%s: rule %s -> %s: %s does not resolve: %s",
				t->rule->origin, t->rule->public_text,
				t->rule->target_text, t->rule->target_host,
				gai_strerror(e.status));
		pthread_mutex_lock(&lock);
		t->to = e;
		pthread_mutex_unlock(&lock);
	}
}

void targets_init(struct rule **rules, size_t n)
{
	addr_targets = calloc(n ? n : 1, sizeof *addr_targets);
	if (!addr_targets)
		return;
	for (size_t i = 0; i < n; i++)
		if (rules[i]->kind == PUBLIC_ADDR)
			addr_targets[naddr_targets++].rule = rules[i];
}

/* ---- names: the stub's side ----------------------------------------- */

static struct name_slot *slot_get(const char *name)
{
	struct name_slot *s;
	HASH_FIND_STR(by_name, name, s);
	if (s || next_index >= SV_SLOTS)
		return s;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	strcpy(s->name, name);
	HASH_ADD_STR(by_name, name, s);
	if (!s->hh.tbl) { /* uthash could not allocate its table */
		free(s);
		return NULL;
	}
	s->index = next_index++;
	by_index[s->index] = s;
	return s;
}

/* Every route's target resolved now, outside the lock. */
static void resolve_routes(const struct rule **routes, size_t n,
			   struct ep *to, const char *name, struct ep *direct)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < i && strcmp(routes[j]->target_host, routes[i]->target_host))
			j++;
		if (j < i)
			to[i] = to[j];
		else
			resolve(routes[i]->target_host, &to[i]);
	}
	memset(direct, 0, sizeof *direct);
	direct->status = EAI_NONAME;
	if (n == 0 || routes[n - 1]->port != 0)
		resolve(name, direct); /* some port has no rule: the name's own */
}

static void answer_from(const struct ep *to, size_t n, unsigned index,
			struct synth_answer *out)
{
	bool any4 = false, any6 = false;
	int status = 0;
	for (size_t i = 0; i < n; i++) {
		any4 |= to[i].status == 0 && to[i].has4;
		any6 |= to[i].status == 0 && to[i].has6;
		if (to[i].status && !status)
			status = to[i].status;
	}
	out->a4.s_addr = htonl(SV_SYNTH_NET | index);
	out->has_a = any4;
	out->has_aaaa = !any4 && any6;
	if (!any4 && !any6)
		out->rcode = status == EAI_NONAME || status == EAI_NODATA ? 3 : 2;
}

void targets_answer(const char *qname, struct synth_answer *out)
{
	char name[NAME_MAX_LEN + 1];
	struct match m;
	memset(out, 0, sizeof *out);
	if (!name_canonical(qname, name) || !lib_match_name(name, &m))
		return;
	out->mapped = true;
	static __thread const struct rule *routes[ROUTES_MAX];
	static __thread struct ep to[ROUTES_MAX];
	struct ep direct;
	size_t n = rules_routes(&m, routes, ROUTES_MAX);
	if (n > ROUTES_MAX)
		n = ROUTES_MAX;
	resolve_routes(routes, n, to, name, &direct);
	/* Sized to the name's routes: memory follows the names in use. */
	const struct rule **new_routes = malloc((n ? n : 1) * sizeof *routes);
	struct ep *new_to = malloc((n ? n : 1) * sizeof *to);
	if (new_routes && new_to) {
		memcpy(new_routes, routes, n * sizeof *routes);
		memcpy(new_to, to, n * sizeof *to);
	}
	pthread_mutex_lock(&lock);
	struct name_slot *s = new_routes && new_to ? slot_get(name) : NULL;
	if (s) {
		const struct rule **old_routes = s->routes;
		struct ep *old_to = s->to;
		s->nroutes = n;
		s->routes = new_routes;
		s->to = new_to;
		s->direct = direct;
		new_routes = old_routes; /* freed below, outside the lock */
		new_to = old_to;
	}
	unsigned index = s ? s->index : 0;
	pthread_mutex_unlock(&lock);
	free(new_routes);
	free(new_to);
	if (!s) {
		out->rcode = 2; /* out of memory or 65535 names: SERVFAIL */
		return;
	}
	answer_from(to, n, index, out);
}

static void *refresher(void *arg)
{
	(void)arg;
	resolve_addr_targets(false);
	pthread_mutex_lock(&lock);
	first_round_done = true;
	pthread_cond_broadcast(&refresh_wake);
	pthread_mutex_unlock(&lock);
	for (;;) {
		pthread_mutex_lock(&lock);
		while (!refresh_wanted)
			pthread_cond_wait(&refresh_wake, &lock);
		refresh_wanted = false;
		pthread_mutex_unlock(&lock);
		resolve_addr_targets(true);
		sleep(1);
	}
	return NULL;
}

void targets_start(void)
{
	pthread_t t;
	if (!naddr_targets) {
		first_round_done = true;
	} else if (pthread_create(&t, NULL, refresher, NULL)) {
		log_msg(LOG_ERROR, "cannot start the address rules' resolver thread");
		first_round_done = true;
	}
}

/* Under the lock: the start-up round of address rules' targets. */
static void wait_first_round(void)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FIRST_WAIT_S;
	while (!first_round_done &&
	       pthread_cond_timedwait(&refresh_wake, &lock, &until) == 0)
		;
}

/* ---- what a connect reads: under the lock, nothing that waits --------- */

/* True the first time this port is seen for this name or rule. */
static bool first_time(uint16_t logged[LOGGED_MAX], uint16_t port)
{
	for (size_t i = 0; i < LOGGED_MAX; i++) {
		if (logged[i] == port)
			return false;
		if (logged[i] == 0) {
			logged[i] = port;
			return true;
		}
	}
	return false;
}

bool targets_for_synthetic(unsigned index, uint16_t port, struct target_view *v)
{
	bool found = false;
	pthread_mutex_lock(&lock);
	struct name_slot *s = index < SV_SLOTS ? by_index[index] : NULL;
	if (s) {
		size_t i = 0;
		while (i < s->nroutes && s->routes[i]->port != port &&
		       s->routes[i]->port != 0)
			i++;
		v->rule = i < s->nroutes ? s->routes[i] : NULL;
		v->to = v->rule ? s->to[i] : s->direct;
		strcpy(v->name, s->name);
		v->first = first_time(s->logged, port);
		found = true;
	}
	pthread_mutex_unlock(&lock);
	return found;
}

bool targets_for_rule(const struct rule *r, uint16_t port, struct target_view *v)
{
	struct addr_target *t = NULL;
	for (size_t i = 0; i < naddr_targets && !t; i++)
		if (addr_targets[i].rule == r)
			t = &addr_targets[i];
	if (!t)
		return false;
	pthread_mutex_lock(&lock);
	wait_first_round();
	v->rule = r;
	v->to = t->to;
	v->first = v->to.status == 0 && first_time(t->logged, port);
	if (v->to.status) { /* the refresher tries again; this call goes on as is */
		refresh_wanted = true;
		pthread_cond_signal(&refresh_wake);
	}
	pthread_mutex_unlock(&lock);
	snprintf(v->name, sizeof v->name, "%s", r->name);
	return v->to.status == 0;
}
