/* hostshim-supervise [--] COMMAND [ARG]...
 *
 * Reads the rules as the library does (HOSTSHIM_CONFIG, else
 * /etc/hostshim/shim.ini if it exists; HOSTSHIM_MAP; HOSTSHIM_LOG;
 * HOSTSHIM_STRICT), starts COMMAND under the seccomp filter and serves
 * its notifications until it ends, then ends the same way. The launcher
 * (`hostshim --supervise`) sets those variables from its options. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "supervise.h"

#ifndef HOSTSHIM_VERSION /* the Makefile passes the file VERSION's */
#define HOSTSHIM_VERSION "unknown"
#endif

#define DEFAULT_CONFIG "/etc/hostshim/shim.ini"
#define MESSAGES_SHOWN 20

static bool env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") ||
		     !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

/* Reads and checks the configuration and builds the rule tables; *rules
 * and *n: the rules, which live as long as the process. */
static void load_rules(struct config *cfg, struct rule ***rules, size_t *n)
{
	const char *path = getenv("HOSTSHIM_CONFIG");
	const char *map = getenv("HOSTSHIM_MAP");
	const char *level = getenv("HOSTSHIM_LOG");
	enum log_level env_level = LOG_WARN;
	bool env_level_ok = level && log_level_parse(level, &env_level);

	lib_init();
	log_remember_stderr();
	if (!path || !*path)
		path = access(DEFAULT_CONFIG, F_OK) == 0 ? DEFAULT_CONFIG : NULL;
	if (path)
		config_parse_file(cfg, path);
	if (map)
		config_parse_map(cfg, map);
	config_merge(cfg);
	log_level = env_level_ok ? env_level
		    : cfg->file_log >= 0 ? (enum log_level)cfg->file_log
					 : LOG_WARN;
	if (level && !env_level_ok)
		log_msg(LOG_ERROR, "HOSTSHIM_LOG: unknown level '%.20s' (off, "
				   "error, warn, info, debug)", level);
	log_msg(LOG_DEBUG, "hostshim-supervise %s", HOSTSHIM_VERSION);
	for (size_t i = 0; i < cfg->nmessages && i < MESSAGES_SHOWN; i++)
		log_msg(cfg->messages[i].level, "%s", cfg->messages[i].text);
	if ((env_true("HOSTSHIM_STRICT") || cfg->strict) && cfg->nmessages) {
		log_msg(LOG_ERROR, "strict mode: %zu configuration problem%s, "
				   "exiting", cfg->nmessages,
			cfg->nmessages == 1 ? "" : "s");
		exit(2);
	}
	if (!lib_rules_build(cfg, rules, n))
		log_msg(LOG_ERROR, "out of memory building the rule tables; "
				   "no rule applies");
}

/* Handles signals until COMMAND ends; returns its wait status. The
 * notifications are served on a thread of their own. */
static int serve_signals(int sfd, pid_t child)
{
	struct pollfd p = {.fd = sfd, .events = POLLIN};
	int status;
	for (;;) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		if (signals_handle(sfd, child, &status))
			return status;
	}
	log_msg(LOG_ERROR, "poll: %s", strerror(errno));
	exit(STATUS_NO_SECCOMP);
}

const char *spawn_file;

int main(int argc, char **argv)
{
	int first = 1;
	/* Run by the library's exec hook: our argv is COMMAND's own, argv[0]
	 * included (busybox, login shells), and this names the file to run. */
	const char *file = getenv(SPAWN_FILE_ENV);
	unsetenv(SPAWN_FILE_ENV);
	if (file && *file && argc > 0) {
		spawn_file = file;
		first = 0;
	} else if (first < argc && !strcmp(argv[first], "--"))
		first++;
	if (first >= argc) {
		fprintf(stderr, "usage: %s [--] COMMAND [ARG]...\n"
				"(usually run as: hostshim --supervise -- COMMAND)\n",
			argv[0]);
		return 2;
	}
	/* First of all: a signal sent while we start is kept for COMMAND
	 * (as PID 1, one we don't block is discarded). */
	int sfd = signals_block();
	if (sfd < 0) {
		log_msg(LOG_ERROR, "signalfd: %s", strerror(errno));
		return STATUS_NO_SECCOMP;
	}
	static struct config cfg = {.file_log = -1};
	struct rule **rules;
	size_t nrules;
	load_rules(&cfg, &rules, &nrules);
	spawn_check_kernel();
	targets_init(rules, nrules); /* no DNS here: COMMAND starts first */
	stub_open();
	int listener;
	pid_t child = spawn_supervised(argv + first, &listener);
	/* Orphans of COMMAND's tree come to us, not to init: we reap them,
	 * and they stay our descendants (Yama's ptrace scope 1). Not before:
	 * nested, we exec COMMAND, which would keep it. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	signals_started(child);
	mem_probe(child);
	notify_init(listener);
	guard_start(listener, child); /* a fork: before any thread */
	targets_start();
	stub_start();
	notify_start(listener);
	exit_like_child(serve_signals(sfd, child));
}
