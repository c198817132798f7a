/* slots_stress: connect's reading of the slots against lookups that
 * assign (and reuse) them and reloads that replace and free rulesets, all
 * at once (issue 14 item 6).
 *
 * Readers do what connect does: hold the rules in force, read a random
 * slot's route for a port, and use the rule and target it gives. Built
 * with AddressSanitizer: a route into a freed ruleset is reported there
 * and then. A rule id read against the wrong ruleset is caught here: the
 * two rulesets alternated have different rules at the same ids, and a
 * route must be a rule of the ruleset held that applies to the port.
 * Run natively and under qemu-aarch64 (make slots-stress, make cross).
 *
 * usage: slots_stress [SECONDS]   (default 3)
 *        slots_stress 0           only starts and joins a thread: whether
 *                                 threads run at all (under qemu)
 * Output: "slots_stress: R routes read, A assigned, L reloads, B bad".
 * exit: 0 no bad route, 1 otherwise. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "current.h"
#include "real.h"
#include "rules.h"
#include "slots.h"

/* Every name stays mapped in both (an unmapped one would be resolved). */
static const char *const maps[2] = {
	"*.s.localhost=10.0.0.1:9000,*.s.localhost:443=10.0.0.2:9443",
	"x.localhost=10.0.0.9:1,*.localhost:8080=10.0.0.3:8080,"
	"*.s.localhost:443=10.0.0.4:9443,*.s.localhost=10.0.0.5:9000",
};
static atomic_bool stop;
static atomic_long nread, nassigned, nreloads, nbad;

static struct ruleset *build(int which)
{
	struct config cfg = {.file_log = -1};
	config_parse_map(&cfg, maps[which]);
	config_merge(&cfg);
	struct ruleset *rs = rules_build(&cfg);
	config_free(&cfg);
	return rs;
}

static void bad(const char *what)
{
	if (atomic_fetch_add(&nbad, 1) < 5)
		fprintf(stderr, "slots_stress: %s\n", what);
}

static void check_route(const struct ruleset *rs, const struct route *r,
			uint16_t port)
{
	const struct config *cfg = rules_config(rs);
	if (!r->rule)
		return; /* the name's own: none here, every port has a rule */
	if (r->rule->id >= cfg->nrules || cfg->rules[r->rule->id] != r->rule)
		bad("a route to a rule of another ruleset");
	else if (r->rule->port && r->rule->port != port)
		bad("a route to a rule for another port");
	else if (r->rule->kind != PUBLIC_WILDCARD)
		bad("a route to a rule that does not match the name");
	else if (r->target != r->rule->target || !r->target->host[0])
		bad("a route to another target");
}

static void *reader(void *arg)
{
	static const uint16_t ports[] = {80, 443, 8080};
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		unsigned ticket, index = 1 + (unsigned)rand_r(&seed) % (SLOT_COUNT - 1);
		uint16_t port = ports[rand_r(&seed) % 3];
		struct route r;
		const struct ruleset *rs = current_enter(&ticket);
		if (rs && slot_route(rs, index, port, &r))
			check_route(rs, &r, port);
		current_leave(ticket);
		/* qemu's user mode lets a thread that never makes a system
		 * call hold off another thread's clone or mmap. */
		if (atomic_fetch_add(&nread, 1) % 1024 == 0)
			sched_yield();
	}
	return NULL;
}

static void *assigner(void *arg)
{
	unsigned first = (unsigned)(uintptr_t)arg;
	for (unsigned i = first; !atomic_load(&stop) || (!first && i < SLOT_COUNT); i++) {
		char name[64];
		const struct rule *routes[ROUTES_MAX];
		struct match m;
		unsigned ticket;
		/* twice as many names as slots: slots are reused all along */
		snprintf(name, sizeof name, "n%u.s.localhost", i % (2 * SLOT_COUNT));
		const struct ruleset *rs = current_enter(&ticket);
		if (rs && rules_match_name(rs, name, &m)) {
			size_t n = rules_routes(&m, routes, ROUTES_MAX);
			if (!slot_assign(rs, name, routes, n > ROUTES_MAX ? ROUTES_MAX : n))
				bad("no slot");
		}
		current_leave(ticket);
		atomic_fetch_add(&nassigned, 1);
		/* A breath now and then: on two cores a spinning reload would
		 * otherwise rarely get the table between two lookups. */
		if (i % 64 == 63)
			nanosleep(&(struct timespec){0, 200000}, NULL);
	}
	return NULL;
}

static void rematch(struct ruleset *next, const struct ruleset *old)
{
	(void)old;
	slots_rematch(next);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	pthread_t t[4];
	struct timespec t0, now;
	if (secs <= 0) {
		atomic_store(&stop, true);
		pthread_create(&t[0], NULL, reader, NULL);
		pthread_join(t[0], NULL);
		puts("slots_stress: threads start");
		return 0;
	}
	real_resolve();
	rules_free(current_replace(build(0), rematch));
	/* The table full first: from then on every new name reuses a slot. */
	atomic_store(&stop, true);
	assigner(NULL);
	atomic_store(&stop, false);
	pthread_create(&t[0], NULL, reader, (void *)1);
	pthread_create(&t[1], NULL, reader, (void *)2);
	pthread_create(&t[2], NULL, assigner, (void *)(uintptr_t)SLOT_COUNT);
	pthread_create(&t[3], NULL, reader, (void *)3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 1;; i++) {
		struct ruleset *rs = build(i & 1);
		if (!rs) {
			bad("no ruleset");
			break;
		}
		rules_free(current_replace(rs, rematch));
		atomic_fetch_add(&nreloads, 1);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - t0.tv_sec) +
			    (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	rules_free(current_replace(NULL, NULL));
	printf("slots_stress: %ld routes read, %ld assigned, %ld reloads, %ld bad\n",
	       atomic_load(&nread), atomic_load(&nassigned),
	       atomic_load(&nreloads), atomic_load(&nbad));
	return atomic_load(&nbad) != 0;
}
