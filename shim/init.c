/* Loading: the environment and the configuration, read once per process.
 *
 * Not in the constructor: a process that never looks up a name or
 * connects to an internet address (a shell, /bin/true, a program that only
 * talks over unix sockets) never reads the file. The first hooked call
 * that needs the rules loads them, in whatever thread, possibly before the
 * constructor ran; other threads wait for it. Loading reads files only:
 * no target is resolved until a lookup or a connect needs it. shim_state holds the loader's pid while loading: a
 * child forked in the middle sees a pid not its own and loads again rather
 * than waiting for a thread that does not exist in it. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "init.h"
#include "rules.h"
#include "targets.h"

#define DEFAULT_CONFIG "/etc/hostshim/shim.ini"
#define MESSAGES_SHOWN 100

_Atomic int shim_state;
_Atomic int shim_connect_filter;
__thread int shim_busy __attribute__((tls_model("initial-exec")));

static bool env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true"));
}

static void report_messages(const struct config *cfg, bool always)
{
	for (size_t i = 0; i < cfg->nmessages && i < MESSAGES_SHOWN; i++) {
		enum log_level level = always ? LOG_ERROR : cfg->messages[i].level;
		log_msg(level, "%s", cfg->messages[i].text);
	}
	if (cfg->nmessages > MESSAGES_SHOWN)
		log_msg(LOG_ERROR, "%zu more configuration problems not shown",
			cfg->nmessages - MESSAGES_SHOWN);
}

/* HOSTSHIM_CHECK=1, for `hostshim --check`: list the rules, then exit. */
static void check_and_exit(struct config *cfg)
{
	int unresolved = 0;
	for (size_t i = 0; i < cfg->nrules; i++) {
		struct rule *r = cfg->rules[i];
		char where[512];
		int rc = target_resolve(r->target, r->target_host, AF_UNSPEC,
					0, NULL);
		if (rc) {
			snprintf(where, sizeof where, "%s: %s", r->target_host,
				 gai_strerror(rc));
			unresolved++;
		} else {
			char addrs[400];
			target_describe(r->target, addrs, sizeof addrs);
			snprintf(where, sizeof where, "%s = %s", r->target_host,
				 addrs);
		}
		printf("%s -> %s (%s) %s\n", r->public_text, r->target_text,
		       r->origin, where);
	}
	printf("%zu rules, %zu errors\n", cfg->nrules, cfg->nmessages);
	fflush(stdout);
	_exit(cfg->nmessages ? 1 : unresolved ? 3 : 0);
}

/* The rule tables point into these rules for the life of the process. */
static struct config loaded __attribute__((used));

static void load(void)
{
	struct config cfg = {.file_log = -1};
	const char *path = getenv("HOSTSHIM_CONFIG");
	const char *map = getenv("HOSTSHIM_MAP");
	const char *level = getenv("HOSTSHIM_LOG");
	bool check = env_true("HOSTSHIM_CHECK");
	enum log_level env_level = LOG_WARN;
	bool env_level_ok = level && log_level_parse(level, &env_level);

	log_remember_stderr();
	if (!path || !*path)
		path = access(DEFAULT_CONFIG, F_OK) == 0 ? DEFAULT_CONFIG : NULL;
	if (path)
		config_parse_file(&cfg, path);
	if (map)
		config_parse_map(&cfg, map);
	config_merge(&cfg);

	log_level = env_level_ok ? env_level
		    : cfg.file_log >= 0 ? (enum log_level)cfg.file_log
					: LOG_WARN;
	if (check && log_level < LOG_WARN)
		log_level = LOG_WARN;
	if (level && !env_level_ok)
		log_msg(LOG_ERROR, "HOSTSHIM_LOG: unknown level '%.20s' (off, "
				   "error, warn, info, debug)",
			level);
	report_messages(&cfg, check);
	/* --check reports every problem itself, strict or not. */
	if (!check && (env_true("HOSTSHIM_STRICT") || cfg.strict) &&
	    cfg.nmessages) {
		log_msg(LOG_ERROR, "strict mode: %zu configuration problem%s, "
				   "exiting",
			cfg.nmessages, cfg.nmessages == 1 ? "" : "s");
		_exit(2);
	}
	for (size_t i = 0; i < cfg.nrules; i++)
		cfg.rules[i]->id = (unsigned)i;
	if (!targets_build(cfg.rules, cfg.nrules)) {
		size_t kept = 0;
		log_msg(LOG_ERROR, "out of memory building the target table; "
				   "some rules are missing");
		for (size_t i = 0; i < cfg.nrules; i++)
			if (cfg.rules[i]->target)
				cfg.rules[kept++] = cfg.rules[i];
		cfg.nrules = kept;
	}
	if (check)
		check_and_exit(&cfg);
	if (!rules_build(cfg.rules, cfg.nrules))
		log_msg(LOG_ERROR, "out of memory building the rule tables; "
				   "some rules are missing");
	atomic_store_explicit(&shim_connect_filter,
			      rules_have_addrs() ? CONNECT_ALL
						 : CONNECT_SYNTH_ONLY,
			      memory_order_release);
	for (size_t i = 0; i < cfg.nmessages; i++)
		free(cfg.messages[i].text);
	free(cfg.messages);
	cfg.messages = NULL;
	cfg.nmessages = 0;
	loaded = cfg;
}

bool shim_load(void)
{
	if (shim_busy) {
		if (!__atomic_load_n(&real.connect, __ATOMIC_ACQUIRE))
			real_resolve();
		return false;
	}
	for (;;) {
		int seen = SHIM_NEW, me = (int)getpid();
		if (atomic_compare_exchange_strong(&shim_state, &seen, me)) {
			int saved = errno;
			shim_busy++;
			real_resolve();
			load();
			shim_busy--;
			errno = saved;
			atomic_store_explicit(&shim_state, SHIM_READY,
					      memory_order_release);
			return true;
		}
		if (seen == SHIM_READY)
			return true;
		if (seen != me) /* forked while a thread of the parent loaded */
			atomic_compare_exchange_strong(&shim_state, &seen,
						       SHIM_NEW);
		else
			sched_yield();
	}
}

/* `hostshim --check` runs a program that needs no rules, and strict mode
 * asked in the environment promises to stop a bad configuration at start:
 * both load now. */
__attribute__((constructor)) static void on_load(void)
{
	if (env_true("HOSTSHIM_CHECK") || env_true("HOSTSHIM_STRICT"))
		shim_ready();
}
