/* What the user wrote: the INI file and HOSTSHIM_MAP as a list of rules. */
#ifndef HOSTSHIM_CONFIG_H
#define HOSTSHIM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "log.h"
#include "shim.h"

enum public_kind { PUBLIC_NAME, PUBLIC_WILDCARD, PUBLIC_ADDR };

struct target;
struct rule {
	enum public_kind kind;
	char *name;		/* lower case; a wildcard's suffix; an address's text */
	struct sockaddr_storage addr; /* PUBLIC_ADDR: the literal (port unused) */
	uint16_t port;		/* public port; 0: every port */
	char *target_host;	/* a name or an address literal, no brackets */
	bool target_literal;	/* an address: no resolver needed */
	uint16_t target_port;	/* 0: keep the port the program used */
	char *public_text;	/* canonical, e.g. "auth.localhost:443": the key */
	char *target_text;	/* as it will be printed, e.g. "server:9443" */
	char *origin;		/* "FILE:LINE" or "HOSTSHIM_MAP item N" */
	int source;		/* 0: file, 1: HOSTSHIM_MAP */
	unsigned id;		/* position in the loaded list, for log keys */
	struct target *target;	/* targets.c: where target_host is now */
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
	bool reload;		  /* follow edits of the file (set before parsing) */
	char *only, *skip;	  /* program names, as written */
	struct rule *keys[2];	  /* public keys seen, per source */
};
void config_parse_file(struct config *cfg, const char *path);
void config_parse_map(struct config *cfg, const char *map);
void config_merge(struct config *cfg);
void config_free(struct config *cfg);
/* true/yes/on/1 or false/no/off/0, any case; false for anything else. */
bool config_bool(const char *text, bool *out);
/* A bad HOSTSHIM_* value: a configuration problem like a bad line. */
void config_env_problem(struct config *cfg, const char *name,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
