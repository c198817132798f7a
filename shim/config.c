/* Configuration: the INI file and HOSTSHIM_MAP, turned into a list of rules.
 *
 * inih reads the file's structure (sections, dispatch to a handler) through
 * ini_parse_stream and our own line reader. The reader is where lines are
 * counted and judged: inih's handler gets no line numbers, splits a line at
 * the first '=' *or* ':' (so "auth.localhost:443 = x" would arrive cut in
 * two) and takes "[::1]:80 = x" for a section header. So the reader splits
 * each key line itself, at its first '=', and hands inih a stand-in line;
 * the handler takes key and value from the reader.
 *
 * Nothing here stops at the first problem: a bad line becomes a message
 * naming file and line, and the rest of the file still applies. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "shim.h"

struct key_entry {
	const struct rule *rule;
	UT_hash_handle hh;
};

struct reader {
	FILE *file;
	struct config *cfg;
	const char *path;
	int lineno;
	char origin[64 + 4096];
	char key[LINE_MAX_LEN + 1], value[LINE_MAX_LEN + 1];
};

static void add_message(struct config *cfg, enum log_level level,
			const char *origin, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_message(struct config *cfg, enum log_level level,
			const char *origin, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (cfg->nmessages == cfg->msgcap) {
		size_t cap = cfg->msgcap ? 2 * cfg->msgcap : 16;
		struct message *m = realloc(cfg->messages, cap * sizeof *m);
		if (!m)
			return;
		cfg->messages = m;
		cfg->msgcap = cap;
	}
	struct message *m = &cfg->messages[cfg->nmessages];
	if (asprintf(&m->text, "%s: %s", origin, what) < 0)
		return;
	m->level = level;
	cfg->nmessages++;
}

/* ---- pieces of a rule ---------------------------------------------- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* "9000" -> 9000. Returns NULL or what is wrong. */
static const char *parse_port(const char *text, uint16_t *port, char *why,
			      size_t whylen)
{
	unsigned long v = 0;
	size_t n = strspn(text, "0123456789");
	if (n == 0 || text[n] != '\0' || n > 6) {
		snprintf(why, whylen, "bad port '%.40s'", text);
		return why;
	}
	v = strtoul(text, NULL, 10);
	if (v < 1 || v > 65535) {
		snprintf(why, whylen, "port %lu out of range", v);
		return why;
	}
	*port = (uint16_t)v;
	return NULL;
}

/* Splits "host", "host:port", "[v6]" or "[v6]:port" in place. */
static const char *split_host_port(char *text, char **host, uint16_t *port,
				   bool *bracketed, char *why, size_t whylen)
{
	char *colon;
	*port = 0;
	*bracketed = false;
	if (*text == '[') {
		char *end = strchr(text, ']');
		if (!end)
			return "missing ']' after an IPv6 address";
		*end = '\0';
		*host = text + 1;
		*bracketed = true;
		if (end[1] == '\0')
			return NULL;
		if (end[1] != ':')
			return "unexpected text after ']'";
		return parse_port(end + 2, port, why, whylen);
	}
	*host = text;
	colon = strchr(text, ':');
	if (!colon)
		return NULL;
	if (strchr(colon + 1, ':'))
		return "IPv6 addresses need brackets, e.g. [::1]:80";
	*colon = '\0';
	return parse_port(colon + 1, port, why, whylen);
}

static bool looks_numeric(const char *s)
{
	return s[strspn(s, "0123456789.")] == '\0';
}

static const char *parse_public(struct rule *r, char *key, char *why,
				size_t whylen)
{
	char *host, text[INET6_ADDRSTRLEN];
	bool bracketed;
	const char *err = split_host_port(key, &host, &r->port, &bracketed,
					  why, whylen);
	if (err)
		return err;
	if (!*host)
		return "missing host name before the port";
	struct sockaddr_in *in4 = (void *)&r->addr;
	struct sockaddr_in6 *in6 = (void *)&r->addr;
	char canon[NAME_MAX_LEN + 1];

	if (bracketed) {
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
			snprintf(why, whylen, "bad IPv6 address '%.60s'", host);
			return why;
		}
		in6->sin6_family = AF_INET6;
		r->kind = PUBLIC_ADDR;
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
		r->name = strdup(text);
	} else if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		r->kind = PUBLIC_ADDR;
		r->name = strdup(host);
	} else if (looks_numeric(host)) {
		snprintf(why, whylen, "bad IPv4 address '%.60s'", host);
		return why;
	} else if (!strncmp(host, "*.", 2) && name_canonical(host + 2, canon)) {
		r->kind = PUBLIC_WILDCARD;
		r->name = strdup(canon);
	} else if (name_canonical(host, canon)) {
		r->kind = PUBLIC_NAME;
		r->name = strdup(canon);
	} else {
		snprintf(why, whylen, "bad host name '%.80s'", host);
		return why;
	}
	if (!r->name)
		return "out of memory";

	const char *fmt = r->kind == PUBLIC_WILDCARD ? "*.%s"
			  : bracketed		     ? "[%s]"
						     : "%s";
	char *public_host;
	if (asprintf(&public_host, fmt, r->name) < 0)
		return "out of memory";
	int n = r->port ? asprintf(&r->public_text, "%s:%u", public_host,
				   (unsigned)r->port)
			: asprintf(&r->public_text, "%s", public_host);
	free(public_host);
	return n < 0 ? "out of memory" : NULL;
}

static const char *parse_target(struct rule *r, char *value, char *why,
				size_t whylen)
{
	char *host, canon[NAME_MAX_LEN + 1];
	bool bracketed;
	r->target_text = strdup(value);
	if (!r->target_text)
		return "out of memory";
	const char *err = split_host_port(value, &host, &r->target_port,
					  &bracketed, why, whylen);
	if (err)
		return err;
	if (!*host)
		return "missing host name before the port";
	struct in_addr a4;
	if (bracketed) {
		struct in6_addr a6;
		char bare[INET6_ADDRSTRLEN];
		snprintf(bare, sizeof bare, "%.*s", (int)strcspn(host, "%"), host);
		if (inet_pton(AF_INET6, bare, &a6) != 1) {
			snprintf(why, whylen, "bad IPv6 address '%.60s'", host);
			return why;
		}
		r->target_host = strdup(host);
		r->target_literal = true;
	} else if (inet_pton(AF_INET, host, &a4) == 1) {
		r->target_host = strdup(host);
		r->target_literal = true;
	} else if (looks_numeric(host)) {
		snprintf(why, whylen, "bad IPv4 address '%.60s'", host);
		return why;
	} else if (name_canonical(host, canon)) {
		r->target_host = strdup(canon);
	} else {
		snprintf(why, whylen, "bad host name '%.80s'", host);
		return why;
	}
	return r->target_host ? NULL : "out of memory";
}

static void rule_free(struct rule *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->target_host);
	free(r->public_text);
	free(r->target_text);
	free(r->origin);
	free(r);
}

static void add_rule(struct config *cfg, int source, const char *origin,
		     char *key, char *value)
{
	char why[160];
	const char *err = NULL;
	struct rule *r = calloc(1, sizeof *r);
	if (!r || !(r->origin = strdup(origin)))
		err = "out of memory";
	if (!err)
		err = parse_public(r, key, why, sizeof why);
	if (!err)
		err = parse_target(r, value, why, sizeof why);
	if (err) {
		add_message(cfg, LOG_ERROR, origin, "%s", err);
		rule_free(r);
		return;
	}
	r->source = source;

	struct key_entry *seen;
	HASH_FIND_STR(cfg->keys[source], r->public_text, seen);
	if (seen) {
		add_message(cfg, LOG_ERROR, origin,
			    "duplicate rule for %s (first at %s)",
			    r->public_text, seen->rule->origin);
		rule_free(r);
		return;
	}
	seen = malloc(sizeof *seen);
	if (cfg->nrules == cfg->rulecap) {
		size_t cap = cfg->rulecap ? 2 * cfg->rulecap : 64;
		struct rule **grown = realloc(cfg->rules, cap * sizeof *grown);
		if (grown) {
			cfg->rules = grown;
			cfg->rulecap = cap;
		}
	}
	if (!seen || cfg->nrules == cfg->rulecap) {
		add_message(cfg, LOG_ERROR, origin, "out of memory");
		free(seen);
		rule_free(r);
		return;
	}
	seen->rule = r;
	HASH_ADD_KEYPTR(hh, cfg->keys[source], r->public_text,
			strlen(r->public_text), seen);
	cfg->rules[cfg->nrules++] = r;
}

/* ---- the [shim] section -------------------------------------------- */

static bool parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(text, yes[i]))
			return *out = true;
		if (!strcasecmp(text, no[i]))
			return !(*out = false);
	}
	return false;
}

static void set_option(struct config *cfg, const char *origin,
		       const char *key, const char *value)
{
	enum log_level level;
	if (!strcmp(key, "log")) {
		if (log_level_parse(value, &level))
			cfg->file_log = (int)level;
		else
			add_message(cfg, LOG_ERROR, origin,
				    "log must be off, error, warn, info or "
				    "debug, not '%.40s'",
				    value);
	} else if (!strcmp(key, "strict")) {
		if (!parse_bool(value, &cfg->strict))
			add_message(cfg, LOG_ERROR, origin,
				    "strict must be true or false, not '%.40s'",
				    value);
	} else {
		add_message(cfg, LOG_ERROR, origin,
			    "unknown key '%.60s' in [shim] (known: log, strict)",
			    key);
	}
}

/* ---- the file ------------------------------------------------------ */

static int on_entry(void *user, const char *section, const char *name,
		    const char *value)
{
	struct reader *rd = user;
	(void)name;
	(void)value;
	if (!strcmp(section, "map"))
		add_rule(rd->cfg, 0, rd->origin, rd->key, rd->value);
	else if (!strcmp(section, "shim"))
		set_option(rd->cfg, rd->origin, rd->key, rd->value);
	else if (!*section)
		add_message(rd->cfg, LOG_ERROR, rd->origin,
			    "'%.60s' comes before any section (rules go under "
			    "[map])",
			    rd->key);
	/* Keys under an unknown section: its header line was reported. */
	return 1;
}

/* Reads one physical line; keeps at most LINE_MAX_LEN bytes of it. Returns
 * its whole length, or -1 at the end of the file. *binary is set to the
 * first byte that has no place in a text line. */
static long read_line(FILE *f, char *buf, int *binary)
{
	long len = 0;
	int c;
	*binary = -1;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			if (*binary < 0)
				*binary = c;
		if (len < LINE_MAX_LEN)
			buf[len] = (char)c;
		len++;
	}
	if (c == EOF && len == 0)
		return -1;
	buf[len < LINE_MAX_LEN ? len : LINE_MAX_LEN] = '\0';
	return len;
}

/* Cuts a comment that starts after white space: "a = b ; note". */
static void cut_comment(char *s)
{
	for (char *p = s; *p; p++)
		if ((*p == ';' || *p == '#') && p > s &&
		    (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
}

/* A header "[name]" with nothing after it but a comment: the name, else
 * NULL (then the line is a key line such as "[::1]:80 = x"). */
static char *section_name(char *line)
{
	char *end = strchr(line, ']');
	if (!end)
		return NULL;
	char *rest = trim(end + 1);
	if (*rest && *rest != ';' && *rest != '#')
		return NULL;
	*end = '\0';
	return trim(line + 1);
}

static const char *classify(struct reader *rd, char *line)
{
	struct config *cfg = rd->cfg;
	if (rd->lineno == 1 && !strncmp(line, "\xef\xbb\xbf", 3))
		line += 3;
	line[strcspn(line, "\r")] = '\0';
	line = trim(line);
	if (!*line || *line == ';' || *line == '#')
		return "\n";
	if (*line == '[') {
		char *name = section_name(line);
		if (name) {
			if (strcmp(name, "map") && strcmp(name, "shim")) {
				add_message(cfg, LOG_ERROR, rd->origin,
					    "unknown section [%.60s] (known: "
					    "[shim], [map]); its lines are "
					    "ignored",
					    name);
				return "[?]\n";
			}
			return !strcmp(name, "map") ? "[map]\n" : "[shim]\n";
		}
		if (!strchr(line, ']') && !strchr(line, '=')) {
			add_message(cfg, LOG_ERROR, rd->origin,
				    "unterminated section header; the lines "
				    "after it are ignored");
			return "[?]\n";
		}
	}
	cut_comment(line);
	char *eq = strchr(line, '=');
	if (!eq) {
		add_message(cfg, LOG_ERROR, rd->origin,
			    "missing '=' (expected: public = target)");
		return "\n";
	}
	*eq = '\0';
	strcpy(rd->key, trim(line));
	strcpy(rd->value, trim(eq + 1));
	if (!*rd->key || !*rd->value) {
		add_message(cfg, LOG_ERROR, rd->origin, "%s",
			    *rd->key ? "nothing after '='" : "nothing before '='");
		return "\n";
	}
	return "key=value\n";
}

static char *next_line(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	char line[LINE_MAX_LEN + 1];
	int binary;
	long len = read_line(rd->file, line, &binary);
	if (len < 0)
		return NULL;
	rd->lineno++;
	snprintf(rd->origin, sizeof rd->origin, "%s:%d", rd->path, rd->lineno);
	const char *out = "\n";
	if (len > LINE_MAX_LEN)
		add_message(rd->cfg, LOG_ERROR, rd->origin,
			    "line too long (%ld bytes, the limit is %d)", len,
			    LINE_MAX_LEN);
	else if (binary >= 0)
		add_message(rd->cfg, LOG_ERROR, rd->origin,
			    "binary data (byte 0x%02x) in a text line", binary);
	else
		out = classify(rd, line);
	snprintf(str, (size_t)num, "%s", out);
	return str;
}

void config_parse_file(struct config *cfg, const char *path)
{
	struct reader rd = {.cfg = cfg, .path = path};
	struct stat st;
	rd.file = fopen(path, "re");
	if (!rd.file) {
		add_message(cfg, LOG_WARN, path, "cannot read: %s; no rules from it",
			    strerror(errno));
		return;
	}
	/* Like sudo: a root process takes no orders from a file that others
	 * can write. */
	if (geteuid() == 0 && fstat(fileno(rd.file), &st) == 0 &&
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		add_message(cfg, LOG_ERROR, path,
			    "writable by group or others; running as root, so "
			    "no rules from it (chmod go-w)");
		fclose(rd.file);
		return;
	}
	ini_parse_stream(next_line, &rd, on_entry, &rd);
	fclose(rd.file);
}

/* ---- HOSTSHIM_MAP --------------------------------------------------- */

void config_parse_map(struct config *cfg, const char *map)
{
	char origin[64], item[LINE_MAX_LEN + 1];
	int number = 0;
	for (const char *p = map; *p;) {
		size_t len = strcspn(p, ",\n");
		const char *next = p[len] ? p + len + 1 : p + len;
		if (len > LINE_MAX_LEN) {
			snprintf(origin, sizeof origin, "HOSTSHIM_MAP item %d",
				 ++number);
			add_message(cfg, LOG_ERROR, origin, "item too long");
			p = next;
			continue;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p = next;
		char *text = trim(item);
		if (!*text)
			continue;
		snprintf(origin, sizeof origin, "HOSTSHIM_MAP item %d", ++number);
		char *eq = strchr(text, '=');
		if (!eq) {
			add_message(cfg, LOG_ERROR, origin,
				    "missing '=' (expected: public = target)");
			continue;
		}
		*eq = '\0';
		char *key = trim(text), *value = trim(eq + 1);
		if (!*key || !*value)
			add_message(cfg, LOG_ERROR, origin, "%s",
				    *key ? "nothing after '='" : "nothing before '='");
		else
			add_rule(cfg, 1, origin, key, value);
	}
}

/* ---- both together ------------------------------------------------- */

/* A HOSTSHIM_MAP rule replaces the file's rule for the same public key. */
void config_merge(struct config *cfg)
{
	size_t kept = 0;
	for (size_t i = 0; i < cfg->nrules; i++) {
		struct rule *r = cfg->rules[i];
		struct key_entry *env = NULL;
		if (r->source == 0)
			HASH_FIND_STR(cfg->keys[1], r->public_text, env);
		if (env)
			rule_free(r);
		else
			cfg->rules[kept++] = r;
	}
	cfg->nrules = kept;
	for (int s = 0; s < 2; s++) {
		struct key_entry *e, *tmp;
		HASH_ITER(hh, cfg->keys[s], e, tmp)
		{
			HASH_DEL(cfg->keys[s], e);
			free(e);
		}
	}
}

void config_free(struct config *cfg)
{
	config_merge(cfg); /* frees the key tables */
	for (size_t i = 0; i < cfg->nrules; i++)
		rule_free(cfg->rules[i]);
	for (size_t i = 0; i < cfg->nmessages; i++)
		free(cfg->messages[i].text);
	free(cfg->rules);
	free(cfg->messages);
	memset(cfg, 0, sizeof *cfg);
}
