/* Loading and reloading: the environment and the configuration.
 *
 * Not in the constructor: a process that never looks up a name or
 * connects to an internet address (a shell, /bin/true, a program that only
 * talks over unix sockets) never reads the file. The first hooked call
 * that needs the rules loads them, in whatever thread, possibly before the
 * constructor ran; other threads wait for it. Loading reads files only:
 * no target is resolved until a lookup or a connect needs it. shim_state
 * holds the loader's pid while loading: a child forked in the middle sees
 * a pid not its own and loads again rather than wait for a thread that
 * does not exist in it.
 *
 * Afterwards lookups look at the file at most once a second and, when it
 * changed, build a new ruleset and put it in force (current.c); an edit
 * with errors keeps the rules in force. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "current.h"
#include "explain.h"
#include "init.h"
#include "resolver.h"
#include "rules.h"
#include "slots.h"
#include "targets.h"

#define DEFAULT_CONFIG "/etc/hostshim/shim.ini"
#ifndef HOSTSHIM_VERSION /* the Makefile passes the file VERSION's */
#define HOSTSHIM_VERSION "unknown"
#endif
#define MESSAGES_SHOWN 100
#define PROGRAM_NAME_MAX 64

_Atomic int shim_state;
_Atomic int shim_connect_filter;
__thread int shim_busy __attribute__((tls_model("initial-exec")));

/* What was read at load, for reloads. */
static struct {
	char path[4097]; /* "" when there is no file */
	char *map;	 /* HOSTSHIM_MAP as it was */
	int env_log;	 /* HOSTSHIM_LOG, or -1 */
	bool follow;	 /* reload when the file changes */
	bool present;	 /* the file was there at the last look */
	struct file_id seen;
} source = {.env_log = -1};

/* argv[0] as the program started: Node.js rewrites it for its title. */
static char program_arg0[PROGRAM_NAME_MAX];

/* A HOSTSHIM_* variable, or NULL. In a setuid or setgid program (AT_SECURE)
 * the environment is the caller's, not the program's owner's: there no
 * variable counts, only the default file under the trust rules. */
static const char *env_get(const char *name)
{
	return secure_getenv(name);
}

#define BOOL_WORDS "1, true, yes, on, 0, false, no, off"

/* A yes/no variable, with the words of the file's booleans: 1 or 0, or -1
 * when unset or empty. Any other word is a configuration problem and
 * counts as `bad`. */
static int env_flag(const char *name, struct config *cfg, int bad)
{
	const char *v = env_get(name);
	bool on = false;
	if (!v || !*v)
		return -1;
	if (config_bool(v, &on))
		return on;
	config_env_problem(cfg, name, "unknown value '%.20s' (" BOOL_WORDS ")", v);
	return bad;
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

/* ---- which programs ------------------------------------------------ */

static bool name_listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, " ,\t");
		if (n == len && len && !strncmp(p, name, n))
			return true;
		p += n;
		p += strspn(p, " ,\t");
	}
	return false;
}

static void exe_name(char out[PROGRAM_NAME_MAX])
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	*out = '\0';
	if (n <= 0)
		return;
	path[n] = '\0';
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strnlen(base, PROGRAM_NAME_MAX - 1);
	memcpy(out, base, len);
	out[len] = '\0';
}

/* Whether the rules apply to this program: by the executable's name and
 * by argv[0] as it was at start, `only` and `skip` from the environment
 * winning over the file's. */
static bool rules_apply(const struct config *cfg, const char *arg0,
			const char *exe)
{
	const char *only = env_get("HOSTSHIM_ONLY"), *skip = env_get("HOSTSHIM_SKIP");
	if (!only)
		only = cfg->only;
	if (!skip)
		skip = cfg->skip;
	if (name_listed(skip, arg0) || name_listed(skip, exe))
		return false;
	return !only || !only[strspn(only, " ,\t")] || name_listed(only, arg0) ||
	       name_listed(only, exe);
}

/* ---- reading ------------------------------------------------------- */

/* The file and HOSTSHIM_MAP, after any problems already in `cfg`. */
static void read_config(struct config *cfg)
{
	if (*source.path) {
		source.present = file_id_at(source.path, &source.seen) == 0;
		config_parse_file(cfg, source.path);
	}
	if (source.map)
		config_parse_map(cfg, source.map);
	config_merge(cfg);
}

static void set_log_level(const struct config *cfg)
{
	log_level = source.env_log >= 0	  ? (enum log_level)source.env_log
		    : cfg->file_log >= 0 ? (enum log_level)cfg->file_log
					 : LOG_WARN;
}

/* Set while the constructor loads (strict or check mode): no DNS there. */
static bool in_constructor;
/* Set while a connect loads the rules. */
static bool by_connect;
/* The first load, by a connect, has named targets for the background
 * resolver: the first connect through a rule whose target has no answer
 * yet waits RESOLVER_SETTLE_MS for it, once. */
static _Atomic bool settle_once;

bool shim_settle_once(void)
{
	return atomic_load_explicit(&settle_once, memory_order_relaxed) &&
	       atomic_exchange(&settle_once, false);
}

/* Between the old ruleset's last reader and the new one's use of what
 * they left: the targets they found, then the new targets and the real
 * addresses of names no rule maps any more resolved (on the background
 * resolver, for a bounded time: addresses programs kept go to the new
 * targets from their first connect), then the names they numbered
 * re-matched. Meanwhile the slots still lead to the old rules,
 * which are still there. */
static void take_over(struct ruleset *next, const struct ruleset *old)
{
	targets_inherit(rules_targets(next), rules_targets(old));
	bool wanted = targets_want_unresolved(rules_targets(next), false);
	if (slots_want_unmapped(next) || wanted) {
		resolver_needed(true);
		resolver_settle(RESOLVER_SETTLE_MS);
	}
	slots_rematch(next);
	resolver_wake(); /* names unmapped past the first few, if any */
}

/* The rules of `cfg` in force, and connect told whether address rules
 * exist. */
static void put_in_force(struct config *cfg)
{
	struct ruleset *rs = rules_build(cfg);
	if (!rs) {
		log_msg(LOG_ERROR, "out of memory building the rule tables; "
				   "keeping the rules in force");
		return;
	}
	const struct ruleset *old = current_peek();
	if (old)
		targets_inherit(rules_targets(rs), rules_targets(old));
	rules_note_ports(rs);
	/* Loaded by a connect, the program may only ever connect (curl, Bun,
	 * Node's net.connect to an address), and a connect cannot start the
	 * thread: every address rule's named target is wanted now, and the
	 * thread follows the file for it. Loaded by a lookup, a target is
	 * wanted when a lookup's answer or a connect leads to its rule.
	 * Before the address rules apply, so that connect finds them wanted. */
	bool first_wanted = !old && by_connect &&
			    targets_want_unresolved(rules_targets(rs), true);
	rules_free(current_replace(rs, take_over));
	/* After current.c's: in a fork's child the reader counts are reset
	 * before the child's thread can enter. */
	if (!old)
		resolver_init();
	atomic_store_explicit(&shim_connect_filter,
			      rules_have_addrs(rs) ? CONNECT_ALL
						   : CONNECT_SYNTH_ONLY,
			      memory_order_release);
	if (!old && by_connect && source.follow && rules_have_addrs(rs))
		atomic_store(&resolver_watch, true);
	if (first_wanted || atomic_load(&resolver_watch)) {
		resolver_needed(!in_constructor);
		atomic_store(&settle_once, first_wanted && !in_constructor);
	}
}

/* HOSTSHIM_CHECK=1, for `hostshim --check`: list the rules, then exit. */
static void check_and_exit(struct config *cfg, bool applies)
{
	int unresolved = 0;
	size_t nmessages = cfg->nmessages;
	const char *program = env_get("HOSTSHIM_CHECK_PROGRAM");
	struct ruleset *rs = rules_build(cfg);
	if (!rs) {
		printf("out of memory\n");
		_exit(1);
	}
	cfg = (struct config *)rules_config(rs);
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
	if (program && *program)
		printf("the rules %s to %s\n", applies ? "apply" : "do not apply",
		       program);
	printf("%zu rules, %zu errors\n", cfg->nrules, nmessages);
	fflush(stdout);
	_exit(nmessages ? 1 : unresolved ? 3 : 0);
}

static void load(void)
{
	struct config cfg = {.file_log = -1, .reload = true};
	const char *path = env_get("HOSTSHIM_CONFIG");
	const char *map = env_get("HOSTSHIM_MAP");
	const char *level = env_get("HOSTSHIM_LOG");
	enum log_level env_level = LOG_WARN;

	log_remember_stderr();
	/* The variables' own problems come first among the messages. */
	if (level && !log_level_parse(level, &env_level))
		config_env_problem(&cfg, "HOSTSHIM_LOG",
				   "unknown level '%.20s' (off, error, warn, "
				   "info, debug)",
				   level);
	source.env_log = level && log_level_parse(level, &env_level)
				 ? (int)env_level
				 : -1;
	/* A strict value that says neither yes nor no turns strict mode on:
	 * whoever set it most likely wanted it, and the exit says why. */
	int env_strict = env_flag("HOSTSHIM_STRICT", &cfg, 1);
	bool check = env_flag("HOSTSHIM_CHECK", &cfg, 0) == 1;
	int env_reload = env_flag("HOSTSHIM_RELOAD", &cfg, -1);
	/* AT_EACCESS: a setuid program looks with its own rights. */
	if (!path || !*path)
		path = faccessat(AT_FDCWD, DEFAULT_CONFIG, F_OK, AT_EACCESS) == 0
			       ? DEFAULT_CONFIG
			       : "";
	if (strcmp(path, "/dev/null")) /* the usual way to say "no file" */
		snprintf(source.path, sizeof source.path, "%s", path);
	source.map = map ? strdup(map) : NULL;
	read_config(&cfg);

	/* A variable, when set, wins over the file, as HOSTSHIM_LOG does. */
	bool strict = env_strict >= 0 ? env_strict == 1 : cfg.strict;
	source.follow = (env_reload >= 0 ? env_reload == 1 : cfg.reload) &&
			*source.path;
	set_log_level(&cfg);
	if (check && log_level < LOG_WARN)
		log_level = LOG_WARN;
	log_msg(LOG_DEBUG, "libhostshim %s", HOSTSHIM_VERSION);
	report_messages(&cfg, check);
	explain_sources(&cfg, source.path, source.map);
	char exe[PROGRAM_NAME_MAX];
	exe_name(exe);
	const char *program = env_get("HOSTSHIM_CHECK_PROGRAM");
	bool applies = check && program ? rules_apply(&cfg, program, program)
					 : rules_apply(&cfg, program_arg0, exe);
	if (check)
		check_and_exit(&cfg, applies);
	/* --check reports every problem itself, strict or not. */
	if (strict && cfg.nmessages) {
		log_msg(LOG_ERROR, "strict mode: %zu configuration problem%s, "
				   "exiting",
			cfg.nmessages, cfg.nmessages == 1 ? "" : "s");
		_exit(2);
	}
	if (applies && real_program_is_go()) {
		log_msg(LOG_WARN, "%s is a Go program, which connects without "
				  "libc: the preload steps aside; run it with "
				  "`hostshim --supervise`",
			exe);
		applies = false;
	} else if (!applies) {
		log_msg(LOG_INFO, "the rules do not apply to %s (%s): only/skip",
			program_arg0, exe);
	}
	if (!applies) {
		config_free(&cfg);
		cfg = (struct config){.file_log = -1};
		source.follow = false;
	}
	put_in_force(&cfg);
	config_free(&cfg);
}

/* ---- reloading ----------------------------------------------------- */

static _Atomic long last_look;
static _Atomic int reloader; /* pid of the process a thread of which reloads */

static bool same_file(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* A file written in place (truncated, then written) may be read between
 * the two and look valid but empty. So an empty file is taken for one
 * being written (to drop every rule, leave a comment), and a file changed
 * in the last 100 ms is given the rest of them, and taken only if it did
 * not change again. */
static bool settled(struct file_id *now)
{
	if (now->size == 0)
		return false;
	const int64_t quiet_ns = 100 * 1000000ll;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t age = ts.tv_sec * 1000000000ll + ts.tv_nsec - now->mtime_ns;
	if (age >= quiet_ns || age < 0)
		return true;
	struct file_id again;
	nanosleep(&(struct timespec){0, (long)(quiet_ns - age)}, NULL);
	return !file_id_at(source.path, &again) && same_file(&again, now);
}

static void reload(void)
{
	struct file_id now;
	struct config cfg = {.file_log = -1, .reload = true};
	if (file_id_at(source.path, &now)) {
		if (source.present)
			log_msg(LOG_WARN, "%s: %s; keeping the rules in force",
				source.path, strerror(errno));
		source.present = false;
		return;
	}
	if (source.present && same_file(&now, &source.seen))
		return;
	if (!settled(&now))
		return; /* still being written: the next look takes it */
	struct file_id before = source.seen, after;
	bool was_present = source.present;
	read_config(&cfg);
	/* Written to while we read: what we read may be half of it. */
	if (file_id_at(source.path, &after) || !same_file(&after, &source.seen)) {
		source.seen = before;
		source.present = was_present;
		config_free(&cfg);
		return;
	}
	if (cfg.nmessages) {
		report_messages(&cfg, false);
		log_msg(LOG_WARN, "%s changed: %zu problem%s; keeping the rules "
				  "in force",
			source.path, cfg.nmessages, cfg.nmessages == 1 ? "" : "s");
	} else {
		set_log_level(&cfg);
		log_msg(LOG_INFO, "%s changed: %zu rules in force", source.path,
			cfg.nrules);
		put_in_force(&cfg);
	}
	config_free(&cfg);
}

/* A fork while another thread reloads: the child has no such thread. It
 * may have the file marked read but the old rules in force, or its slots
 * half re-matched: it reads the file again at its next look. */
static void reload_after_fork(void)
{
	if (atomic_load(&reloader)) {
		source.present = false;
		atomic_store(&last_look, 0);
	}
	atomic_store(&reloader, 0);
}

/* time() is the cheapest clock (the vDSO reads one word); a clock that
 * jumps only moves the next look. The reload itself runs uncut (signals
 * blocked, cancellation off): nothing can abandon it holding `reloader`;
 * it waits for no one's DNS, and for readers a bounded time. */
void reload_if_changed(void)
{
	static atomic_bool registered;
	if (!source.follow || shim_busy)
		return;
	long now = (long)time(NULL);
	long seen = atomic_load_explicit(&last_look, memory_order_relaxed);
	if (seen == now ||
	    !atomic_compare_exchange_strong(&last_look, &seen, now))
		return;
	if (!atomic_exchange(&registered, true))
		pthread_atfork(NULL, NULL, reload_after_fork);
	int me = (int)getpid(), other = 0;
	if (!atomic_compare_exchange_strong(&reloader, &other, me) &&
	    (other == me || /* a thread of ours is at it */
	     !atomic_compare_exchange_strong(&reloader, &other, me)))
		return;
	struct uncut u;
	int saved = errno;
	uncut_begin(&u);
	shim_busy++;
	reload();
	shim_busy--;
	atomic_store(&reloader, 0);
	uncut_end(&u);
	errno = saved;
}

/* ---- once ---------------------------------------------------------- */

bool shim_load(bool for_connect)
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
			struct uncut u; /* cut off, it would leave shim_state set */
			uncut_begin(&u);
			shim_busy++;
			real_resolve();
			by_connect = for_connect;
			load();
			by_connect = false;
			shim_busy--;
			uncut_end(&u);
			atomic_store_explicit(&shim_state, SHIM_READY,
					      memory_order_release);
			errno = saved;
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

static bool has_prefix(const char *s, const char *prefix)
{
	while (*prefix && *s == *prefix)
		s++, prefix++;
	return !*prefix;
}

/* Whether the environment has either variable ("NAME="), looked for by
 * hand for the constructor's sake. */
static bool env_names_either(const char *a, const char *b)
{
	for (char **e = environ; e && *e; e++)
		if (**e == 'H' && (has_prefix(*e, a) || has_prefix(*e, b)))
			return true;
	return false;
}

/* argv[0] is kept now, before the program can rename itself. `hostshim
 * --check` runs a program that needs no rules, and strict mode asked in
 * the environment promises to stop a bad configuration at start: both
 * load now. */
__attribute__((constructor)) static void on_load(void)
{
	const char *name = program_invocation_short_name;
	size_t i = 0;
	/* Without a call into libc: this runs in every program, networking
	 * or not, and each first call binds a symbol (~800 instructions). */
	for (; name && name[i] && i < sizeof program_arg0 - 1; i++)
		program_arg0[i] = name[i];
	program_arg0[i] = '\0';
	if (!env_names_either("HOSTSHIM_CHECK=", "HOSTSHIM_STRICT="))
		return;
	const char *check = env_get("HOSTSHIM_CHECK"),
		   *strict = env_get("HOSTSHIM_STRICT");
	bool yes = false;
	/* Any value but a plain "no" asks for it (a bad one is reported). */
	if ((check && *check && (!config_bool(check, &yes) || yes)) ||
	    (strict && *strict && (!config_bool(strict, &yes) || yes))) {
		in_constructor = true;
		shim_ready();
		in_constructor = false;
	}
}
