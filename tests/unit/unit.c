/* Unit tests for the parts that need no hooks: the configuration parser,
 * name canonicalisation, rule matching and the synthetic address table.
 * Prints one line per failed check and ends with "N passed, N failed". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "current.h"
#include "real.h"
#include "rules.h"
#include "slots.h"

static int passed, failed;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (cond)                                                    \
			passed++;                                            \
		else {                                                       \
			failed++;                                            \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                            \
	} while (0)

#define CHECK_STR(got, want)                                                 \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		if (g_ && !strcmp(g_, w_))                                   \
			passed++;                                            \
		else {                                                       \
			failed++;                                            \
			printf("FAIL %s:%d: got '%s', want '%s'\n", __FILE__, \
			       __LINE__, g_ ? g_ : "(null)", w_);            \
		}                                                            \
	} while (0)

static char tmpdir[] = "/tmp/hostshim-unit-XXXXXX";

static const char *write_file(const char *name, const char *text, size_t len)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	fwrite(text, 1, len, f);
	fclose(f);
	return path;
}

static struct config parse_text(const char *text)
{
	struct config cfg = {.file_log = -1};
	config_parse_file(&cfg, write_file("t.ini", text, strlen(text)));
	config_merge(&cfg);
	return cfg;
}

/* The message for a line, without the directory part of the file name. */
static const char *message_at(const struct config *cfg, int line)
{
	char needle[32];
	snprintf(needle, sizeof needle, "t.ini:%d: ", line);
	for (size_t i = 0; i < cfg->nmessages; i++) {
		const char *at = strstr(cfg->messages[i].text, needle);
		if (at)
			return at + strlen(needle);
	}
	return NULL;
}

static const struct rule *rule_named(const struct config *cfg,
				     const char *public_text)
{
	for (size_t i = 0; i < cfg->nrules; i++)
		if (!strcmp(cfg->rules[i]->public_text, public_text))
			return cfg->rules[i];
	return NULL;
}

static void test_spec_example(void)
{
	/* The example from SPEC.md, inih's ':' and '[' traps included. */
	struct config cfg = parse_text(
		"[shim]\n"
		"log = info          ; off | error | warn | info | debug\n"
		"strict = false\n"
		"\n"
		"[map]\n"
		"; public[:port] = target[:port]\n"
		"auth.localhost          = server:9000   ; every port\n"
		"auth.localhost:443      = server:9443   ; port 443 only\n"
		"*.api.localhost         = gateway:8080\n"
		"alias.localhost         = server\n"
		"127.0.0.1:80            = server:9000\n"
		"[::1]:80                = server:9000\n"
		"AUTH2.Localhost.        = [fd00::5]:9000\n");
	CHECK(cfg.nmessages == 0);
	CHECK(cfg.nrules == 7);
	CHECK(cfg.file_log == LOG_INFO);
	CHECK(!cfg.strict);
	const struct rule *r = rule_named(&cfg, "auth.localhost");
	CHECK(r && r->kind == PUBLIC_NAME && r->port == 0 &&
	      !strcmp(r->target_host, "server") && r->target_port == 9000);
	r = rule_named(&cfg, "auth.localhost:443");
	CHECK(r && r->port == 443 && r->target_port == 9443);
	CHECK_STR(r ? r->origin + strlen(tmpdir) + 1 : NULL, "t.ini:8");
	r = rule_named(&cfg, "*.api.localhost");
	CHECK(r && r->kind == PUBLIC_WILDCARD && !strcmp(r->name, "api.localhost"));
	r = rule_named(&cfg, "alias.localhost");
	CHECK(r && r->target_port == 0 && !r->target_literal);
	r = rule_named(&cfg, "127.0.0.1:80");
	CHECK(r && r->kind == PUBLIC_ADDR && r->port == 80);
	r = rule_named(&cfg, "[::1]:80");
	CHECK(r && r->kind == PUBLIC_ADDR && r->addr.ss_family == AF_INET6);
	r = rule_named(&cfg, "auth2.localhost");
	CHECK(r && r->target_literal && !strcmp(r->target_host, "fd00::5"));
	config_free(&cfg);
}

static void test_bad_lines(void)
{
	struct config cfg = parse_text("[map]\n"
				       "a.localhost = server:70000\n"
				       "b.localhost server\n"
				       "c.localhost = server\n"
				       "c.localhost = other\n"
				       "bad_host!.x = server\n"
				       "d.localhost = :80\n"
				       "[nope]\n"
				       "x = y\n"
				       "[shim]\n"
				       "colour = blue\n"
				       "log = loud\n"
				       "[map]\n"
				       "e.localhost:0 = server\n"
				       "f.localhost = server:65536\n"
				       "::1:80 = server\n"
				       "1.2.3 = server\n"
				       "g.localhost = server\n"
				       "[map\n"
				       "h.localhost = server\n");
	CHECK_STR(message_at(&cfg, 2), "port 70000 out of range");
	CHECK_STR(message_at(&cfg, 3), "missing '=' (expected: public = target)");
	CHECK(message_at(&cfg, 4) == NULL);
	CHECK(message_at(&cfg, 5) &&
	      !strncmp(message_at(&cfg, 5), "duplicate rule for c.localhost (first at ", 41));
	CHECK_STR(message_at(&cfg, 6), "bad host name 'bad_host!.x'");
	CHECK_STR(message_at(&cfg, 7), "missing host name before the port");
	CHECK(message_at(&cfg, 8) && strstr(message_at(&cfg, 8), "unknown section [nope]"));
	CHECK(message_at(&cfg, 9) == NULL); /* under the unknown section */
	CHECK(message_at(&cfg, 11) && strstr(message_at(&cfg, 11), "unknown key 'colour'"));
	CHECK(message_at(&cfg, 12) && strstr(message_at(&cfg, 12), "'loud'"));
	CHECK(message_at(&cfg, 13) == NULL);
	CHECK_STR(message_at(&cfg, 19),
		  "unterminated section header; the lines after it are ignored");
	CHECK(message_at(&cfg, 20) == NULL);
	CHECK_STR(message_at(&cfg, 14), "port 0 out of range");
	CHECK_STR(message_at(&cfg, 15), "port 65536 out of range");
	CHECK(message_at(&cfg, 16) && strstr(message_at(&cfg, 16), "brackets"));
	CHECK_STR(message_at(&cfg, 17), "bad IPv4 address '1.2.3'");
	CHECK(cfg.nmessages == 13);
	/* The good lines still apply, the first of a duplicate pair too. */
	CHECK(rule_named(&cfg, "c.localhost") && rule_named(&cfg, "g.localhost"));
	CHECK(cfg.nrules == 2);
	config_free(&cfg);
}

static void test_junk(void)
{
	char junk[4096];
	srand(7);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(rand() % 256);
	struct config cfg = {.file_log = -1};
	config_parse_file(&cfg, write_file("junk.ini", junk, sizeof junk));
	config_merge(&cfg);
	CHECK(cfg.nmessages > 0);
	config_free(&cfg);

	/* A NUL in a line, and a line far over the limit, are refused whole,
	 * not cut into a rule. */
	static const char nul[] = "[map]\nx.localhost = ser\0ver:9000\n";
	cfg = (struct config){.file_log = -1};
	config_parse_file(&cfg, write_file("t.ini", nul, sizeof nul - 1));
	CHECK_STR(message_at(&cfg, 2), "binary data (byte 0x00) in a text line");
	CHECK(cfg.nrules == 0);
	config_free(&cfg);

	size_t big = 1 << 20;
	char *line = malloc(big + 32);
	strcpy(line, "[map]\ny.localhost = ");
	memset(line + strlen(line), 'a', big);
	strcpy(line + big, "\nz.localhost = server\n");
	cfg = (struct config){.file_log = -1};
	config_parse_file(&cfg, write_file("t.ini", line, strlen(line)));
	CHECK(message_at(&cfg, 2) && strstr(message_at(&cfg, 2), "line too long"));
	CHECK(cfg.nrules == 1 && rule_named(&cfg, "z.localhost"));
	free(line);
	config_free(&cfg);
}

static void test_writable_as_root(void)
{
	if (geteuid() != 0)
		return;
	const char *path = write_file("t.ini", "[map]\na.localhost = x\n", 22);
	chmod(path, 0666);
	struct config cfg = {.file_log = -1};
	config_parse_file(&cfg, path);
	CHECK(cfg.nrules == 0 && cfg.nmessages == 1 &&
	      strstr(cfg.messages[0].text, "writable by group or others"));
	config_free(&cfg);
	chmod(path, 0644);
	cfg = (struct config){.file_log = -1};
	config_parse_file(&cfg, path);
	CHECK(cfg.nrules == 1 && cfg.nmessages == 0);
	config_free(&cfg);
}

/* Like sudoers: the owner and the directory count too, not only the mode. */
static void test_trust_as_root(void)
{
	if (geteuid() != 0)
		return;
	const char *path = write_file("t.ini", "[map]\na.localhost = x\n", 22);
	struct config cfg = {.file_log = -1};
	CHECK(chown(path, 65534, 65534) == 0);
	config_parse_file(&cfg, path);
	CHECK(cfg.nrules == 0 && cfg.nmessages == 1 &&
	      strstr(cfg.messages[0].text, "owned by uid 65534, not root"));
	config_free(&cfg);
	CHECK(chown(path, 0, 0) == 0);
	chmod(tmpdir, 01777);
	cfg = (struct config){.file_log = -1};
	config_parse_file(&cfg, path);
	CHECK(cfg.nrules == 0 && cfg.nmessages == 1 &&
	      strstr(cfg.messages[0].text, "directory ") &&
	      strstr(cfg.messages[0].text, ": writable by group or others"));
	config_free(&cfg);
	chmod(tmpdir, 0700);
	cfg = (struct config){.file_log = -1};
	config_parse_file(&cfg, path);
	CHECK(cfg.nrules == 1 && cfg.nmessages == 0);
	config_free(&cfg);
}

/* HOSTSHIM_STRICT and the file's strict take the same words. */
static void test_bool_words(void)
{
	static const char *const yes[] = {"1", "true", "yes", "on", "TRUE", "Yes", "oN"};
	static const char *const no[] = {"0", "false", "no", "off", "FALSE", "No", "OFF"};
	static const char *const bad[] = {"", "2", "y", "enable", "true ", "onn"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		bool v = false;
		CHECK(config_bool(yes[i], &v) && v);
	}
	for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
		bool v = true;
		CHECK(config_bool(no[i], &v) && !v);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		bool v = false;
		CHECK(!config_bool(bad[i], &v));
	}
}

static void test_map_env(void)
{
	struct config cfg = parse_text("[map]\na.localhost = server:9000\n"
				       "b.localhost = server:9000\n");
	cfg.nrules = cfg.nrules; /* file rules stay until the merge below */
	config_parse_map(&cfg, " a.localhost = gateway:1 ,\n,"
			       "c.localhost:443=x:2, bad , d.localhost = y:99999,"
			       "c.localhost:443 = z");
	config_merge(&cfg);
	const struct rule *a = rule_named(&cfg, "a.localhost");
	CHECK(a && !strcmp(a->target_host, "gateway") && a->source == 1);
	CHECK(rule_named(&cfg, "b.localhost") != NULL);
	CHECK(rule_named(&cfg, "c.localhost:443") != NULL);
	CHECK(cfg.nrules == 3);
	int seen = 0;
	for (size_t i = 0; i < cfg.nmessages; i++) {
		const char *t = cfg.messages[i].text;
		seen += !strcmp(t, "HOSTSHIM_MAP item 3: missing '=' (expected: public = target)");
		seen += !strcmp(t, "HOSTSHIM_MAP item 4: port 99999 out of range");
		seen += !strcmp(t, "HOSTSHIM_MAP item 5: duplicate rule for "
				   "c.localhost:443 (first at HOSTSHIM_MAP item 2)");
	}
	CHECK(seen == 3 && cfg.nmessages == 3);
	config_free(&cfg);
}

static void test_canonical(void)
{
	char out[NAME_MAX_LEN + 1], name[300];
	CHECK(name_canonical("Auth.LocalHost.", out) && !strcmp(out, "auth.localhost"));
	CHECK(!name_canonical("a..b", out));
	CHECK(!name_canonical(".", out));
	CHECK(!name_canonical("", out));
	CHECK(!name_canonical("a b", out));
	CHECK(!name_canonical("bücher.example", out));
	memset(name, 'a', 63);
	strcpy(name + 63, ".x");
	CHECK(name_canonical(name, out));
	memset(name, 'a', 64);
	strcpy(name + 64, ".x");
	CHECK(!name_canonical(name, out));
	for (int i = 0; i < 300; i++)
		name[i] = i % 2 ? '.' : 'a';
	name[253] = '\0';
	CHECK(name_canonical(name, out));
	name[253] = '.';
	name[254] = '\0';
	CHECK(name_canonical(name, out)); /* 253 and the root's dot */
	name[254] = 'a';
	name[255] = '\0';
	CHECK(!name_canonical(name, out));
}

static struct ruleset *matching; /* test_matching's rules */

static const struct rule *route_for(const char *name, uint16_t port)
{
	struct match m;
	const struct rule *routes[16];
	if (!rules_match_name(matching, name, &m))
		return NULL;
	size_t n = rules_routes(&m, routes, 16);
	for (size_t i = 0; i < n && i < 16; i++)
		if (routes[i]->port == port || !routes[i]->port)
			return routes[i];
	return NULL;
}

static struct sockaddr_storage sockaddr_of(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in4 = (void *)&ss;
	struct sockaddr_in6 *in6 = (void *)&ss;
	if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
	} else {
		inet_pton(AF_INET6, ip, &in6->sin6_addr);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	}
	return ss;
}

static const char *addr_target(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss = sockaddr_of(ip, port);
	const struct rule *r = rules_match_addr(matching, (struct sockaddr *)&ss, port);
	return r ? r->target_text : NULL;
}


static void test_matching(void)
{
	struct config cfg = parse_text("[map]\n"
				       "auth.localhost = exact:1\n"
				       "auth.localhost:443 = exact443:2\n"
				       "*.localhost = short:3\n"
				       "*.api.localhost = long:4\n"
				       "*.b.localhost:8443 = b8443:5\n"
				       "127.0.0.1:80 = v4:6\n"
				       "[::1]:80 = v6:7\n"
				       "10.0.0.1 = anyport:8\n");
	CHECK(cfg.nmessages == 0);
	CHECK((matching = rules_build(&cfg)) != NULL);
	if (!matching)
		exit(1);
	CHECK(rules_may_match(matching, "auth.localhost"));
	CHECK(rules_may_match(matching, "AUTH.LocalHost."));
	CHECK(rules_may_match(matching, "a.b.api.localhost"));
	CHECK(rules_may_match(matching, "x.localhost")); /* *.localhost */
	CHECK(!rules_may_match(matching, "localhost")); /* one label more */
	CHECK(!rules_may_match(matching, "LOCALHOST."));
	CHECK(!rules_may_match(matching, "registry.npmjs.org"));
	CHECK_STR(route_for("auth.localhost", 80)->target_text, "exact:1");
	CHECK_STR(route_for("auth.localhost", 443)->target_text, "exact443:2");
	CHECK_STR(route_for("x.api.localhost", 80)->target_text, "long:4");
	CHECK_STR(route_for("a.b.api.localhost", 80)->target_text, "long:4");
	CHECK_STR(route_for("api.localhost", 80)->target_text, "short:3");
	CHECK_STR(route_for("x.b.localhost", 8443)->target_text, "b8443:5");
	CHECK_STR(route_for("x.b.localhost", 80)->target_text, "short:3");
	CHECK(route_for("localhost", 80) == NULL);
	CHECK(route_for("auth.example", 80) == NULL);
	CHECK_STR(addr_target("127.0.0.1", 80), "v4:6");
	CHECK(addr_target("127.0.0.1", 81) == NULL);
	CHECK_STR(addr_target("::ffff:127.0.0.1", 80), "v4:6"); /* Java */
	CHECK_STR(addr_target("::1", 80), "v6:7");
	CHECK(addr_target("::2", 80) == NULL);
	CHECK_STR(addr_target("10.0.0.1", 12345), "anyport:8");
}

static bool decodes_to(const char *ip, unsigned index, unsigned pos,
		       enum form form)
{
	struct sockaddr_storage ss = sockaddr_of(ip, 80);
	struct synth s;
	socklen_t len = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6);
	return synth_decode((struct sockaddr *)&ss, len, &s) &&
	       s.index == index && s.pos == pos && s.form == form;
}

static void test_slots(void)
{
	const struct rule *routes[1] = {rules_config(matching)->rules[0]};
	unsigned a = slot_assign(matching, "auth.localhost", routes, 1);
	unsigned b = slot_assign(matching, "other.localhost", routes, 1);
	char name[NAME_MAX_LEN + 1];
	CHECK(a && b && a != b);
	CHECK(slot_assign(matching, "auth.localhost", routes, 1) == a);
	CHECK(slot_name(a, name) && !strcmp(name, "auth.localhost"));
	CHECK(!slot_name(0, name));

	struct synth s = {.index = a, .pos = 3, .form = FORM_V4}, back;
	struct sockaddr_storage ss;
	socklen_t len;
	char text[ADDR_TEXT_MAX];
	synth_encode(&s, &ss, &len);
	CHECK(synth_decode((struct sockaddr *)&ss, len, &back) &&
	      back.index == a && back.pos == 3 && back.form == FORM_V4);
	CHECK(!synth_decode((struct sockaddr *)&ss, 4, &back)); /* short */
	synth_text(&s, text);
	CHECK(decodes_to(text, a, 3, FORM_V4));
	s.form = FORM_V6;
	synth_text(&s, text);
	CHECK(decodes_to(text, a, 3, FORM_V6));
	CHECK(!strncmp(text, "fd68:7368:696d::7f58:", 21));
	s.form = FORM_MAPPED;
	synth_text(&s, text);
	CHECK(!strncmp(text, "::ffff:127.88.", 14));
	CHECK(decodes_to(text, a, 3, FORM_MAPPED));
	CHECK(!decodes_to("127.0.0.1", 0, 0, FORM_V4));
	CHECK(!decodes_to("127.89.0.5", 1, 1, FORM_V4));
	CHECK(!decodes_to("127.88.0.1", 0, 1, FORM_V4)); /* slot 0: never */
	CHECK(!decodes_to("fd00::7f58:5", 1, 1, FORM_V6));
}

/* Every name ever looked up gets a slot; past SLOT_COUNT the least recently
 * used ones are reused, and a name in use keeps its own. */
static void test_slot_reuse(void)
{
	const struct rule *routes[1] = {rules_config(matching)->rules[0]};
	char name[64], back[NAME_MAX_LEN + 1];
	unsigned kept = slot_assign(matching, "kept.localhost", routes, 1);
	for (unsigned i = 0; i < 3 * SLOT_COUNT; i++) {
		snprintf(name, sizeof name, "n%u.localhost", i);
		unsigned index = slot_assign(matching, name, routes, 1);
		if (!index || !slot_name(index, back) || strcmp(back, name)) {
			CHECK(!"a new name gets a slot of its own");
			return;
		}
		if (i % 1000 == 0) /* in use: keeps its slot */
			CHECK(slot_assign(matching, "kept.localhost", routes, 1) == kept);
	}
	CHECK(slot_name(kept, back) && !strcmp(back, "kept.localhost"));
}

static void rematch(struct ruleset *next, const struct ruleset *old)
{
	(void)old;
	slots_rematch(next);
}

/* From the AddressSanitizer runtime this test is built with (gcc ships no
 * header for it). */
size_t __sanitizer_get_current_allocated_bytes(void);

/* A reload builds a new ruleset, puts it in force and frees the old one:
 * 10,000 of them, with names in the slots to re-match each time, leave
 * the heap as it was. */
static void test_reloads(void)
{
	/* Every name in the slots stays mapped: an unmapped one would be
	 * resolved, and this test runs outside any network namespace. */
	const char *text = "[map]\n"
			   "auth.localhost = server:9000\n"
			   "auth.localhost:443 = 10.0.0.5:9443\n"
			   "*.localhost = gateway:8080\n"
			   "127.0.0.1:80 = server:9001\n";
	size_t after_warmup = 0;
	for (int i = 0; i < 10000; i++) {
		struct config cfg = parse_text(text);
		struct ruleset *rs = rules_build(&cfg);
		if (!rs) {
			CHECK(!"a ruleset is built");
			return;
		}
		rules_free(current_replace(rs, rematch));
		config_free(&cfg);
		if (i == 100)
			after_warmup = __sanitizer_get_current_allocated_bytes();
	}
	size_t end = __sanitizer_get_current_allocated_bytes();
	printf("unit: heap after 100 reloads %zu bytes, after 10,000 %zu bytes\n",
	       after_warmup, end);
	CHECK(end <= after_warmup + 4096);
	rules_free(current_replace(NULL, NULL));
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* A reader that never leaves (cut off by a siglongjmp) neither hangs the
 * writer nor lets it free what the reader holds; and it does not stall the
 * reloads after it, which free their old rulesets again. */
static void test_stuck_reader(void)
{
	struct ruleset *rs[4];
	for (int i = 0; i < 4; i++) {
		struct config cfg = parse_text("[map]\nauth.localhost = server:9000\n");
		rs[i] = rules_build(&cfg); /* takes the rules */
		config_free(&cfg);
	}
	struct ruleset *a = rs[0], *b = rs[1], *c = rs[2], *d = rs[3];
	unsigned ticket;
	CHECK(a && b && c && d);
	if (!a || !b || !c || !d)
		return;
	CHECK(current_replace(a, NULL) == NULL); /* the first: nothing old */
	const struct ruleset *held = current_enter(&ticket); /* never left */
	CHECK(held == a);
	long long t0 = mono_ms();
	CHECK(current_replace(b, NULL) == NULL); /* `a` is kept, not freed */
	long long waited = mono_ms() - t0;
	CHECK(waited < 2000);
	t0 = mono_ms();
	struct ruleset *old = current_replace(c, NULL);
	CHECK(old == b);
	rules_free(old);
	CHECK(mono_ms() - t0 < 100); /* the stuck count is not waited for again */
	rules_free(current_replace(d, NULL));
	rules_free(current_replace(NULL, NULL));
	printf("unit: a writer waited %lld ms for a reader that never left\n", waited);
}

static void test_formatting(void)
{
	static const char *const addrs[] = {
		"::", "::1", "1::", "fd00::5", "fe80::1:0:0:1", "1:0:0:1::1",
		"2001:db8:0:1:1:1:1:1", "::ffff:127.88.1.2", "1:2:3:4:5:6:7:8",
		"0:1::"};
	char text[ADDR_TEXT_MAX], want[ADDR_TEXT_MAX];
	unsigned char bytes[16];
	for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++) {
		inet_pton(AF_INET6, addrs[i], bytes);
		inet_ntop(AF_INET6, bytes, want, sizeof want);
		fmt_addr(text, AF_INET6, bytes);
		CHECK_STR(text, want);
	}
	inet_pton(AF_INET, "10.200.0.255", bytes);
	fmt_addr(text, AF_INET, bytes);
	CHECK_STR(text, "10.200.0.255");
	fmt_uint(text, 4294967295u);
	CHECK_STR(text, "4294967295");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	real_resolve(); /* literal targets are parsed with libc's getaddrinfo */
	test_spec_example();
	test_bad_lines();
	test_junk();
	test_writable_as_root();
	test_trust_as_root();
	test_bool_words();
	test_map_env();
	test_canonical();
	test_matching();
	test_slots();
	test_reloads(); /* before test_slot_reuse fills every slot */
	test_stuck_reader();
	test_slot_reuse();
	test_formatting();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", tmpdir);
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
