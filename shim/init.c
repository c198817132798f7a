/* Loading: the environment and the configuration, read once per process.
 *
 * The constructor loads, but a hook can run first (another library's
 * constructor may resolve names), so whichever comes first loads, and other
 * threads wait for it. shim_state holds the loader's pid while loading: a
 * child forked in the middle sees a pid not its own and loads again rather
 * than waiting for a thread that does not exist in it. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

#include "shim.h"

#define DEFAULT_CONFIG "/etc/hostshim/shim.ini"
#define MESSAGES_SHOWN 100

_Atomic int shim_state;
_Atomic int shim_connect_filter;
__thread int shim_busy __attribute__((tls_model("initial-exec")));

/* A HOSTSHIM_* variable, or NULL. In a setuid or setgid program (AT_SECURE)
 * the environment is the caller's, not the program's owner's: there no
 * variable counts, only the default file under the trust rules. */
const char *env_get(const char *name)
{
	return secure_getenv(name);
}

/* A yes/no variable, with the words of the file's `strict`. Unset or empty:
 * *out is left alone. False for any other word: a configuration problem. */
bool env_flag(const char *name, bool *out)
{
	const char *v = env_get(name);
	return !v || !*v || config_bool(v, out);
}

#define BOOL_WORDS "1, true, yes, on, 0, false, no, off"

/* The variables' own problems, first among the messages. *strict: 1 or 0
 * when HOSTSHIM_STRICT says so, -1 when unset. A value that says neither
 * yes nor no turns strict mode on: whoever set it most likely wanted it,
 * and the exit then says what is wrong. */
static void read_env_flags(struct config *cfg, bool *check, int *strict)
{
	const char *strict_text = env_get("HOSTSHIM_STRICT");
	bool on = false;
	const char *level = env_get("HOSTSHIM_LOG");
	enum log_level unused;
	if (level && !log_level_parse(level, &unused))
		config_env_problem(cfg, "HOSTSHIM_LOG",
				   "unknown level '%.20s' (off, error, warn, "
				   "info, debug)",
				   level);
	if (!env_flag("HOSTSHIM_STRICT", &on)) {
		config_env_problem(cfg, "HOSTSHIM_STRICT",
				   "unknown value '%.20s' (" BOOL_WORDS ")",
				   strict_text);
		on = true;
	}
	*strict = strict_text && *strict_text ? on : -1;
	if (!env_flag("HOSTSHIM_CHECK", check))
		config_env_problem(cfg, "HOSTSHIM_CHECK",
				   "unknown value '%.20s' (" BOOL_WORDS ")",
				   env_get("HOSTSHIM_CHECK"));
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

/* Address rules act in connect, which can't resolve: their targets are
 * resolved now. Literal targets need no resolver at all. */
static void resolve_fixed(struct config *cfg, bool quiet)
{
	for (size_t i = 0; i < cfg->nrules; i++) {
		struct rule *r = cfg->rules[i];
		if (!r->target_literal && r->kind != PUBLIC_ADDR)
			continue;
		r->fixed_status = endpoint_resolve(r->target_host, &r->fixed);
		if (r->fixed_status && !quiet)
			log_msg(LOG_WARN, "%s: rule %s -> %s: %s does not resolve: %s",
				r->origin, r->public_text, r->target_text,
				r->target_host, gai_strerror(r->fixed_status));
	}
}

/* HOSTSHIM_CHECK=1, for `hostshim --check`: list the rules, then exit. */
static void check_and_exit(struct config *cfg)
{
	int unresolved = 0;
	for (size_t i = 0; i < cfg->nrules; i++) {
		struct rule *r = cfg->rules[i];
		struct endpoint e = r->fixed;
		int rc = r->fixed_status;
		char where[128];
		if (!r->target_literal && r->kind != PUBLIC_ADDR)
			rc = endpoint_resolve(r->target_host, &e);
		if (rc) {
			snprintf(where, sizeof where, "%s: %s", r->target_host,
				 gai_strerror(rc));
			unresolved++;
		} else {
			char addrs[100];
			endpoint_describe(&e, addrs, sizeof addrs);
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
	const char *path = env_get("HOSTSHIM_CONFIG");
	const char *map = env_get("HOSTSHIM_MAP");
	const char *level = env_get("HOSTSHIM_LOG");
	bool check = false;
	int env_strict;
	enum log_level env_level = LOG_WARN;
	bool env_level_ok = level && log_level_parse(level, &env_level);

	log_remember_stderr();
	read_env_flags(&cfg, &check, &env_strict);
	/* AT_EACCESS: a setuid program looks with its own rights. */
	if (!path || !*path)
		path = faccessat(AT_FDCWD, DEFAULT_CONFIG, F_OK,
				 AT_EACCESS) == 0 ? DEFAULT_CONFIG : NULL;
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
	report_messages(&cfg, check);
	/* --check reports every problem itself, strict or not. The variable,
	 * when set, overrides the file, as HOSTSHIM_LOG does. */
	if (!check && (env_strict >= 0 ? env_strict == 1 : cfg.strict) &&
	    cfg.nmessages) {
		log_msg(LOG_ERROR, "strict mode: %zu configuration problem%s, "
				   "exiting",
			cfg.nmessages, cfg.nmessages == 1 ? "" : "s");
		_exit(2);
	}
	resolve_fixed(&cfg, check);
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
			shim_busy++;
			real_resolve();
			load();
			shim_busy--;
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

__attribute__((constructor)) static void on_load(void)
{
	shim_ready();
}
