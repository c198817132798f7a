/* Configuration: the INI file and HOSTSHIM_MAP, turned into a list of rules.
 *
 * inih sees only stand-in lines from our reader (next_line), because it
 * splits "name:port = x" at the ':'; the reader counts and splits lines.
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
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "rules.h"

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
	if (strstr(text, "://") || strchr(text, '/'))
		return "expected host[:port], not a URL or a path";
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

/* A rule while it is parsed; add_rule copies it into one allocation. */
struct draft {
	struct rule r;
	char name[INET6_ADDRSTRLEN + NAME_MAX_LEN];
	char public_text[NAME_MAX_LEN + 16];
	char target_host[NAME_MAX_LEN + 1];
};

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n + 1);
	return p + n;
}

/* "auth.localhost:443", "*.api.localhost", "[::1]:80": the rule's key. */
static void public_text(struct draft *d, bool bracketed)
{
	char *p = d->public_text;
	if (d->r.kind == PUBLIC_WILDCARD)
		p = put_str(p, "*.");
	p = put_str(p, bracketed ? "[" : "");
	p = put_str(p, d->name);
	p = put_str(p, bracketed ? "]" : "");
	if (d->r.port)
		fmt_uint(put_str(p, ":"), d->r.port);
}

static const char *parse_public(struct draft *d, char *key, char *why,
				size_t whylen)
{
	struct rule *r = &d->r;
	char *host;
	bool bracketed;
	const char *err = split_host_port(key, &host, &r->port, &bracketed,
					  why, whylen);
	if (err)
		return err;
	if (!*host)
		return "missing host name before the port";
	struct sockaddr_in *in4 = (void *)&r->addr;
	struct sockaddr_in6 *in6 = (void *)&r->addr;

	if (bracketed) {
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			snprintf(why, whylen, "bad IPv6 address '%.60s'", host);
			return why;
		}
		r->kind = PUBLIC_ADDR;
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			/* The same key as the IPv4 form: connect treats them alike. */
			bracketed = false;
			in4->sin_family = AF_INET;
			memcpy(&in4->sin_addr, a6.s6_addr + 12, 4);
			inet_ntop(AF_INET, &in4->sin_addr, d->name, sizeof d->name);
		} else {
			in6->sin6_family = AF_INET6;
			in6->sin6_addr = a6;
			inet_ntop(AF_INET6, &a6, d->name, sizeof d->name);
		}
	} else if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		r->kind = PUBLIC_ADDR;
		inet_ntop(AF_INET, &in4->sin_addr, d->name, sizeof d->name);
	} else if (looks_numeric(host)) {
		snprintf(why, whylen, "bad IPv4 address '%.60s'", host);
		return why;
	} else if (!strncmp(host, "*.", 2) && name_canonical(host + 2, d->name)) {
		r->kind = PUBLIC_WILDCARD;
	} else if (name_canonical(host, d->name)) {
		r->kind = PUBLIC_NAME;
	} else {
		snprintf(why, whylen, "bad host name '%.80s'", host);
		return why;
	}
	public_text(d, bracketed);
	return NULL;
}

static const char *parse_target(struct draft *d, char *value, char *why,
				size_t whylen)
{
	struct rule *r = &d->r;
	char *host;
	bool bracketed;
	const char *err = split_host_port(value, &host, &r->target_port,
					  &bracketed, why, whylen);
	if (err)
		return err;
	if (!*host)
		return "missing host name before the port";
	struct in_addr a4;
	struct in6_addr a6;
	if (bracketed) {
		char bare[INET6_ADDRSTRLEN];
		snprintf(bare, sizeof bare, "%.*s", (int)strcspn(host, "%"), host);
		if (inet_pton(AF_INET6, bare, &a6) != 1 ||
		    strlen(host) >= sizeof d->target_host) {
			snprintf(why, whylen, "bad IPv6 address '%.60s'", host);
			return why;
		}
		strcpy(d->target_host, host);
		r->target_literal = true;
	} else if (inet_pton(AF_INET, host, &a4) == 1) {
		strcpy(d->target_host, host);
		r->target_literal = true;
	} else if (looks_numeric(host)) {
		snprintf(why, whylen, "bad IPv4 address '%.60s'", host);
		return why;
	} else if (!name_canonical(host, d->target_host)) {
		snprintf(why, whylen, "bad host name '%.80s'", host);
		return why;
	}
	return NULL;
}

/* The rule and its strings in one block: one malloc, one free. */
static struct rule *rule_new(const struct draft *d, const char *target_text,
			     const char *origin)
{
	const char *strs[] = {d->name, d->target_host, d->public_text,
			      target_text, origin};
	char **fields[5];
	size_t size = sizeof(struct rule);
	for (size_t i = 0; i < 5; i++)
		size += strlen(strs[i]) + 1;
	struct rule *r = malloc(size);
	if (!r)
		return NULL;
	*r = d->r;
	fields[0] = &r->name;
	fields[1] = &r->target_host;
	fields[2] = &r->public_text;
	fields[3] = &r->target_text;
	fields[4] = &r->origin;
	char *p = (char *)(r + 1);
	for (size_t i = 0; i < 5; i++) {
		*fields[i] = p;
		p = put_str(p, strs[i]) + 1;
	}
	return r;
}

static void add_rule(struct config *cfg, int source, const char *origin,
		     char *key, char *value)
{
	char why[160], target_text[LINE_MAX_LEN + 1];
	struct draft d;
	memset(&d.r, 0, sizeof d.r);
	strcpy(target_text, value); /* split_host_port cuts value */
	const char *err = parse_public(&d, key, why, sizeof why);
	if (!err)
		err = parse_target(&d, value, why, sizeof why);
	if (err) {
		add_message(cfg, LOG_ERROR, origin, "%s", err);
		return;
	}
	d.r.source = source;

	struct rule *seen;
	HASH_FIND(key_hh, cfg->keys[source], d.public_text,
		  strlen(d.public_text), seen);
	if (seen) {
		add_message(cfg, LOG_ERROR, origin,
			    "duplicate rule for %s (first at %s)",
			    d.public_text, seen->origin);
		return;
	}
	if (cfg->nrules == cfg->rulecap) {
		size_t cap = cfg->rulecap ? 2 * cfg->rulecap : 64;
		struct rule **grown = realloc(cfg->rules, cap * sizeof *grown);
		if (grown) {
			cfg->rules = grown;
			cfg->rulecap = cap;
		}
	}
	struct rule *r = cfg->nrules < cfg->rulecap
				 ? rule_new(&d, target_text, origin)
				 : NULL;
	if (!r) {
		add_message(cfg, LOG_ERROR, origin, "out of memory");
		return;
	}
	HASH_ADD_KEYPTR(key_hh, cfg->keys[source], r->public_text,
			strlen(r->public_text), r);
	cfg->rules[cfg->nrules++] = r;
}

void config_env_problem(struct config *cfg, const char *name,
			const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	add_message(cfg, LOG_ERROR, name, "%s", what);
}

/* ---- the [shim] section -------------------------------------------- */

/* Shared with HOSTSHIM_STRICT and the others: one set of words everywhere. */
bool config_bool(const char *text, bool *out)
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
	} else if (!strcmp(key, "strict") || !strcmp(key, "reload")) {
		bool *flag = key[0] == 's' ? &cfg->strict : &cfg->reload;
		if (!config_bool(value, flag))
			add_message(cfg, LOG_ERROR, origin,
				    "%s must be true or false, not '%.40s'", key,
				    value);
	} else if (!strcmp(key, "only") || !strcmp(key, "skip")) {
		char **list = key[0] == 'o' ? &cfg->only : &cfg->skip;
		free(*list);
		if (!(*list = strdup(value)))
			add_message(cfg, LOG_ERROR, origin, "out of memory");
	} else if (!strcmp(key, "supervise")) {
		/* Read where it is used, by hook_exec.c: checked here. */
		if (strcmp(value, "auto") && strcmp(value, "off"))
			add_message(cfg, LOG_ERROR, origin,
				    "supervise must be auto or off, not '%.40s'",
				    value);
	} else {
		add_message(cfg, LOG_ERROR, origin,
			    "unknown key '%.60s' in [shim] (known: log, strict, "
			    "reload, only, skip, supervise)",
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
	/* CRLF is fine; a CR anywhere else would hide the rest of the line. */
	char *cr = memchr(buf, '\r', len < LINE_MAX_LEN ? (size_t)len : LINE_MAX_LEN);
	if (cr && cr != buf + len - 1 && *binary < 0)
		*binary = '\r';
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
	line[strcspn(line, "\r")] = '\0'; /* only a last CR gets here */
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
	fmt_uint(put_str(put_str(rd->origin, rd->path), ":"), (unsigned)rd->lineno);
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
	/* inih's buffer holds at least 200 bytes; our stand-ins are short. */
	size_t n = strlen(out) < (size_t)num ? strlen(out) : (size_t)num - 1;
	memcpy(str, out, n);
	str[n] = '\0';
	return str;
}

/* ---- trust --------------------------------------------------------- */

/* Why a file or directory can't be trusted, or NULL: like sudo with
 * sudoers, a privileged process takes no orders from a file that someone
 * other than root (or itself) owns or can change. */
static const char *untrusted(const struct file_id *id, char *why, size_t len)
{
	if (id->uid != 0 && id->uid != (unsigned)geteuid()) {
		snprintf(why, len, "owned by uid %u, not root", id->uid);
		return why;
	}
	if (id->mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	return NULL;
}

/* What to run about it, for the message. */
static const char *fix_for(const char *why)
{
	return !strncmp(why, "owned", 5)      ? "chown root"
	       : !strncmp(why, "writable", 8) ? "chmod go-w"
					      : NULL;
}

/* The directory the opened file is in, checked the same way. It is
 * opened first and the file looked up in it again, so that what was
 * checked is the directory of the file that was read. */
static const char *untrusted_dir(const char *path, const struct file_id *file,
				 char *dir, size_t dirlen, char *why,
				 size_t len)
{
	char *real = realpath(path, NULL);
	struct file_id d, again;
	const char *bad = "its directory can't be checked";
	snprintf(dir, dirlen, "%s", real ? real : path);
	char *base = real ? strrchr(real, '/') : NULL;
	if (!base) {
		free(real);
		return bad;
	}
	*base = '\0';
	snprintf(dir, dirlen, "%s", *real ? real : "/");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = dfd < 0 ? -1 : openat(dfd, base + 1, O_RDONLY | O_NONBLOCK |
						O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && !file_id(dfd, &d) && !file_id(fd, &again) &&
	    again.dev == file->dev && again.ino == file->ino)
		bad = untrusted(&d, why, len);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(real);
	return bad;
}

/* Root, or a setuid/setgid program (AT_SECURE): the file must be owned by
 * root or by the process's user and writable by no one else, and the same
 * for its directory. One message naming the file and the reason. */
static bool trusted(struct config *cfg, const char *path,
		    const struct file_id *id)
{
	bool root = geteuid() == 0;
	if (!root && !getauxval(AT_SECURE))
		return true;
	const char *who = root ? "running as root" : "running setuid/setgid";
	char why[96], dir[4096];
	const char *bad = untrusted(id, why, sizeof why);
	if (bad) {
		add_message(cfg, LOG_ERROR, path,
			    "%s; %s, so no rules from it (%s)", bad, who,
			    fix_for(bad));
		return false;
	}
	bad = untrusted_dir(path, id, dir, sizeof dir, why, sizeof why);
	if (bad && fix_for(bad)) {
		add_message(cfg, LOG_ERROR, path,
			    "directory %s: %s; %s, so no rules from it (%s %s)",
			    dir, bad, who, fix_for(bad), dir);
		return false;
	} else if (bad) {
		add_message(cfg, LOG_ERROR, path, "%s; %s, so no rules from it",
			    bad, who);
		return false;
	}
	return true;
}

/* Opens a configuration file, or says why not. Non-blocking first, so a
 * FIFO or a device can't hang the program at load. */
static FILE *open_config(struct config *cfg, const char *path)
{
	struct file_id id = {0};
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || file_id(fd, &id)) {
		add_message(cfg, LOG_WARN, path, "cannot read: %s; no rules from it",
			    strerror(errno));
	} else if (S_ISDIR(id.mode)) {
		add_message(cfg, LOG_WARN, path, "cannot read: %s; no rules from it",
			    strerror(EISDIR));
	} else if (!S_ISREG(id.mode)) {
		add_message(cfg, LOG_WARN, path,
			    "not a regular file; no rules from it");
	} else if (!trusted(cfg, path, &id)) {
		/* trusted() said why */
	} else {
		FILE *f = fdopen(fd, "r");
		if (f) {
			fcntl(fd, F_SETFL, 0);
			return f;
		}
		add_message(cfg, LOG_WARN, path, "cannot read: %s; no rules from it",
			    strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

void config_parse_file(struct config *cfg, const char *path)
{
	struct reader rd = {.cfg = cfg, .path = path};
	if (strlen(path) > 4096) {
		add_message(cfg, LOG_WARN, "HOSTSHIM_CONFIG", "path too long");
		return;
	}
	if (!strcmp(path, "/dev/null")) /* the usual way to say "no file" */
		return;
	if (!(rd.file = open_config(cfg, path)))
		return;
	ini_parse_stream(next_line, &rd, on_entry, &rd);
	if (ferror(rd.file))
		add_message(cfg, LOG_WARN, path, "read error: %s", strerror(errno));
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
	for (size_t i = 0; i < cfg->nrules; i++) {
		struct rule *r = cfg->rules[i], *env = NULL;
		if (r->source == 0)
			HASH_FIND(key_hh, cfg->keys[1], r->public_text,
				  strlen(r->public_text), env);
		if (env)
			r->source = -1; /* replaced */
	}
	/* The key tables live in the rules: clear them before any is freed. */
	HASH_CLEAR(key_hh, cfg->keys[0]);
	HASH_CLEAR(key_hh, cfg->keys[1]);
	size_t kept = 0;
	for (size_t i = 0; i < cfg->nrules; i++) {
		if (cfg->rules[i]->source == -1)
			free(cfg->rules[i]);
		else
			cfg->rules[kept++] = cfg->rules[i];
	}
	cfg->nrules = kept;
}

void config_free(struct config *cfg)
{
	config_merge(cfg); /* frees the key tables */
	for (size_t i = 0; i < cfg->nrules; i++)
		free(cfg->rules[i]);
	for (size_t i = 0; i < cfg->nmessages; i++)
		free(cfg->messages[i].text);
	free(cfg->rules);
	free(cfg->messages);
	free(cfg->only);
	free(cfg->skip);
	memset(cfg, 0, sizeof *cfg);
}
