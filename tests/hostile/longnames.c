/* longnames: lookups of long names under the library, which must never
 * overflow a buffer nor map a name that is not a valid DNS name.
 *
 * Run with HOSTSHIM_MAP="*.localhost = 127.0.0.5:9000". A 253-byte name
 * under localhost (the longest there is) and its forms with a trailing dot
 * or in upper case are mapped: every lookup call gives a synthetic address
 * (127.88.0.0/16), and getnameinfo/gethostbyaddr give the name back, into
 * buffers exactly long enough or refusing shorter ones. Names of 254 bytes,
 * with a 64-byte label or 100,000 bytes long are not mapped: libc answers,
 * never with a synthetic address. Guard bytes after every buffer must stay.
 * Prints "ok ..." / "FAIL ..." lines, then "N checks, N failed". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int checks, failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		checks++;                                                    \
		if (!(cond)) {                                               \
			failures++;                                          \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                 \
			printf("\n");                                        \
		}                                                            \
	} while (0)

#define GUARD 64
static unsigned char guard_byte = 0xa5;

static char *guarded(size_t len)
{
	char *p = malloc(len + GUARD);
	memset(p, 'Z', len);
	memset(p + len, guard_byte, GUARD);
	return p;
}

static int guard_intact(const char *p, size_t len)
{
	for (size_t i = 0; i < GUARD; i++)
		if ((unsigned char)p[len + i] != guard_byte)
			return 0;
	return 1;
}

static int synthetic4(const void *a)
{
	const unsigned char *b = a;
	return b[0] == 127 && b[1] == 88;
}

static int synthetic_sa(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return synthetic4(&((const struct sockaddr_in *)sa)->sin_addr);
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return IN6_IS_ADDR_V4MAPPED(a6) && synthetic4(a6->s6_addr + 12);
}

static const int std_eai[] = {0,	     EAI_AGAIN,	  EAI_BADFLAGS, EAI_FAIL,
			      EAI_FAMILY,    EAI_MEMORY,  EAI_NONAME,	EAI_SERVICE,
			      EAI_SOCKTYPE,  EAI_SYSTEM,  EAI_OVERFLOW,
#ifdef EAI_NODATA
			      EAI_NODATA,
#endif
#ifdef EAI_ADDRFAMILY
			      EAI_ADDRFAMILY,
#endif
};

static int standard_eai(int rc)
{
	for (size_t i = 0; i < sizeof std_eai / sizeof *std_eai; i++)
		if (rc == std_eai[i])
			return 1;
	return 0;
}

/* Every getaddrinfo form; returns the synthetic IPv4 address seen, or 0. */
static uint32_t lookups(const char *label, const char *node, int mapped,
			const char *canon)
{
	static const struct {
		int family, socktype, flags;
		const char *service;
	} forms[] = {
		{AF_UNSPEC, SOCK_STREAM, AI_ADDRCONFIG, NULL},
		{AF_INET, 0, AI_CANONNAME, "80"},
		{AF_INET6, SOCK_STREAM, AI_V4MAPPED, "443"},
		{AF_INET6, 0, AI_V4MAPPED | AI_ALL | AI_CANONNAME, NULL},
		{AF_UNSPEC, SOCK_DGRAM, 0, "53"},
		{AF_UNSPEC, 0, AI_CANONNAME, NULL},
	};
	uint32_t seen = 0;
	for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
		struct addrinfo hints = {0}, *res = NULL;
		hints.ai_family = forms[f].family;
		hints.ai_socktype = forms[f].socktype;
		hints.ai_flags = forms[f].flags;
		int rc = getaddrinfo(node, forms[f].service, &hints, &res);
		CHECK(standard_eai(rc), "%s form %zu: rc %d", label, f, rc);
		if (mapped)
			CHECK(rc == 0, "%s form %zu: rc %d (%s)", label, f, rc,
			      gai_strerror(rc));
		if (rc)
			continue;
		CHECK(res != NULL, "%s form %zu: no result", label, f);
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			CHECK(synthetic_sa(ai->ai_addr) == mapped,
			      "%s form %zu: synthetic=%d", label, f,
			      synthetic_sa(ai->ai_addr));
			if (mapped && ai->ai_family == AF_INET)
				memcpy(&seen, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		}
		if (mapped && (forms[f].flags & AI_CANONNAME)) {
			CHECK(res->ai_canonname != NULL, "%s form %zu: no canonname", label, f);
			if (res->ai_canonname)
				CHECK(!strcmp(res->ai_canonname, canon),
				      "%s form %zu: canonname '%.40s...' (%zu bytes)",
				      label, f, res->ai_canonname,
				      strlen(res->ai_canonname));
		}
		freeaddrinfo(res);
	}
	return seen;
}

static void hostents(const char *label, const char *node, int mapped,
		     const char *canon)
{
	struct hostent *he = gethostbyname(node);
	if (mapped) {
		CHECK(he && he->h_addrtype == AF_INET && synthetic4(he->h_addr_list[0]) &&
			      !strcmp(he->h_name, canon),
		      "%s: gethostbyname", label);
	} else {
		CHECK(!he || !synthetic4(he->h_addr_list[0]), "%s: gethostbyname", label);
	}
	/* The target is IPv4 only: no IPv6 answer, as libc says for it. */
	he = gethostbyname2(node, AF_INET6);
	if (mapped)
		CHECK(!he, "%s: gethostbyname2 AF_INET6", label);

	/* The reentrant forms, with every buffer size from too small up. */
	for (size_t len = 1; len <= 2048; len = len < 64 ? len + 7 : len * 2) {
		struct hostent h, *r = NULL;
		int herr = 0;
		char *buf = guarded(len);
		int rc = gethostbyname_r(node, &h, buf, len, &r, &herr);
		CHECK(guard_intact(buf, len), "%s: gethostbyname_r(buflen %zu) wrote past the buffer",
		      label, len);
		CHECK(rc == 0 || rc == ERANGE || rc == EAGAIN || rc == ENOENT,
		      "%s: gethostbyname_r(buflen %zu) rc %d", label, len, rc);
		if (mapped && r)
			CHECK(!strcmp(r->h_name, canon) && synthetic4(r->h_addr_list[0]),
			      "%s: gethostbyname_r(buflen %zu)", label, len);
		if (mapped && len >= 512)
			CHECK(r != NULL, "%s: gethostbyname_r(buflen %zu) rc %d", label, len, rc);
		if (!mapped && r)
			CHECK(!synthetic4(r->h_addr_list[0]), "%s: gethostbyname_r", label);
		free(buf);
		buf = guarded(len);
		r = NULL;
		rc = gethostbyname2_r(node, AF_INET6, &h, buf, len, &r, &herr);
		CHECK(guard_intact(buf, len), "%s: gethostbyname2_r(buflen %zu) wrote past the buffer",
		      label, len);
		if (mapped)
			CHECK(r == NULL, "%s: gethostbyname2_r(buflen %zu) rc %d", label, len, rc);
		free(buf);
	}
}

/* From the synthetic address back to the name, into tight buffers. */
static void reverse(const char *label, uint32_t addr, const char *canon)
{
	size_t need = strlen(canon) + 1;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	memcpy(&sin.sin_addr, &addr, 4);
	size_t sizes[] = {1, 16, need - 1, need, need + 1, NI_MAXHOST};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		size_t len = sizes[i];
		char *host = guarded(len);
		int rc = getnameinfo((struct sockaddr *)&sin, sizeof sin, host,
				     (socklen_t)len, NULL, 0, NI_NAMEREQD);
		CHECK(guard_intact(host, len), "%s: getnameinfo(hostlen %zu) wrote past the buffer",
		      label, len);
		if (len >= need)
			CHECK(rc == 0 && !strcmp(host, canon), "%s: getnameinfo(hostlen %zu) rc %d",
			      label, len, rc);
		else
			CHECK(rc == EAI_OVERFLOW, "%s: getnameinfo(hostlen %zu) rc %d, not EAI_OVERFLOW",
			      label, len, rc);
		free(host);
	}
	struct hostent *he = gethostbyaddr(&addr, 4, AF_INET);
	CHECK(he && !strcmp(he->h_name, canon), "%s: gethostbyaddr", label);
	for (size_t len = 1; len <= 2048; len = len < 64 ? len + 7 : len * 2) {
		struct hostent h, *r = NULL;
		int herr = 0;
		char *buf = guarded(len);
		int rc = gethostbyaddr_r(&addr, 4, AF_INET, &h, buf, len, &r, &herr);
		CHECK(guard_intact(buf, len), "%s: gethostbyaddr_r(buflen %zu) wrote past the buffer",
		      label, len);
		if (len >= 512)
			CHECK(rc == 0 && r && !strcmp(r->h_name, canon),
			      "%s: gethostbyaddr_r(buflen %zu) rc %d", label, len, rc);
		else
			CHECK(rc == 0 || rc == ERANGE, "%s: gethostbyaddr_r(buflen %zu) rc %d", label,
			      len, rc);
		free(buf);
	}
}

static char *repeat_labels(size_t total, size_t label)
{
	/* total bytes of label-byte labels, separated by dots, ending in
	 * ".localhost" */
	const char *tail = ".localhost";
	char *s = malloc(total + 1);
	size_t head = total - strlen(tail), run = 0;
	for (size_t i = 0; i < head; i++) {
		if (run == label || (i + 1 < head && run > 0 && i == head - 1)) {
			s[i] = '.';
			run = 0;
		} else {
			s[i] = (char)('a' + i % 26);
			run++;
		}
	}
	if (s[head - 1] == '.')
		s[head - 1] = 'x';
	strcpy(s + head, tail);
	return s;
}

int main(void)
{
	char *n253 = repeat_labels(253, 63);
	char canon[300];
	CHECK(strlen(n253) == 253, "length %zu", strlen(n253));
	strcpy(canon, n253);

	uint32_t a = lookups("253 bytes", n253, 1, canon);
	hostents("253 bytes", n253, 1, canon);
	if (a)
		reverse("253 bytes", a, canon);

	char dotted[300], upper[300];
	snprintf(dotted, sizeof dotted, "%s.", n253);
	uint32_t b = lookups("253 bytes + trailing dot", dotted, 1, canon);
	CHECK(a == b, "the trailing dot gives another address");
	for (size_t i = 0; i <= strlen(n253); i++)
		upper[i] = (char)(n253[i] >= 'a' && n253[i] <= 'z' ? n253[i] - 32 : n253[i]);
	b = lookups("253 bytes upper case", upper, 1, canon);
	CHECK(a == b, "upper case gives another address");

	char label63[100], label64[100];
	snprintf(label63, sizeof label63, "%.63s.localhost",
		 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopq");
	snprintf(label64, sizeof label64, "%.64s.localhost",
		 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopq");
	lookups("63-byte label", label63, 1, label63);
	hostents("63-byte label", label63, 1, label63);
	lookups("64-byte label", label64, 0, NULL);
	hostents("64-byte label", label64, 0, NULL);

	char *p254 = repeat_labels(254, 63);
	lookups("254 bytes", p254, 0, NULL);
	hostents("254 bytes", p254, 0, NULL);
	snprintf(dotted, sizeof dotted, "%s..", n253);
	lookups("two trailing dots", dotted, 0, NULL);

	char *huge = repeat_labels(100000, 63);
	lookups("100,000 bytes", huge, 0, NULL);
	hostents("100,000 bytes", huge, 0, NULL);
	char *huge_label = repeat_labels(100000, 100000);
	lookups("100,000-byte label", huge_label, 0, NULL);
	hostents("100,000-byte label", huge_label, 0, NULL);

	printf("%d checks, %d failed\n", checks, failures);
	return failures != 0;
}
