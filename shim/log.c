/* Messages on stderr, each one line prefixed "hostshim: ".
 *
 * A line is written with a single write(2) so lines from threads do not
 * interleave, and errno is left as it was: the program may be about to
 * read it. The ll_* builders format without stdio or the heap, for the
 * connect and sendto paths, where only async-signal-safe calls belong. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

_Atomic(enum log_level) log_level = LOG_WARN;

static const char *const level_names[] = {"off", "error", "warn", "info",
					  "debug"};

bool log_level_parse(const char *text, enum log_level *out)
{
	for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++)
		if (!strcasecmp(text, level_names[i])) {
			*out = (enum log_level)i;
			return true;
		}
	return false;
}

static int stat_any(int fd, const char *path, struct file_id *out)
{
#ifdef __GLIBC__
	/* fstat would bind to glibc 2.33's symbol; statx is there since 2.28. */
	struct statx sx;
	if (statx(fd, path, *path ? 0 : AT_EMPTY_PATH,
		  STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO |
			  STATX_SIZE | STATX_MTIME | STATX_CTIME,
		  &sx))
		return -1;
	out->mode = sx.stx_mode;
	out->uid = sx.stx_uid;
	out->dev = (uint64_t)sx.stx_dev_major << 32 | sx.stx_dev_minor;
	out->ino = sx.stx_ino;
	out->size = sx.stx_size;
	out->mtime_ns = sx.stx_mtime.tv_sec * 1000000000ll + sx.stx_mtime.tv_nsec;
	out->ctime_ns = sx.stx_ctime.tv_sec * 1000000000ll + sx.stx_ctime.tv_nsec;
#else
	struct stat st;
	if (*path ? stat(path, &st) : fstat(fd, &st))
		return -1;
	out->mode = st.st_mode;
	out->uid = st.st_uid;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	out->ctime_ns = st.st_ctim.tv_sec * 1000000000ll + st.st_ctim.tv_nsec;
#endif
	return 0;
}

int file_id(int fd, struct file_id *out)
{
	return stat_any(fd, "", out);
}

int file_id_at(const char *path, struct file_id *out)
{
	return stat_any(AT_FDCWD, path, out);
}

/* What fd 2 was at load. A program may close it and reuse the number for
 * a socket or a file of its own: then our lines must not go there. */
static struct file_id stderr_at_load;
static bool stderr_open_at_load;

void log_remember_stderr(void)
{
	int saved = errno;
	stderr_open_at_load = file_id(2, &stderr_at_load) == 0;
	errno = saved;
}

static bool stderr_unchanged(void)
{
	struct file_id now;
	return stderr_open_at_load && file_id(2, &now) == 0 &&
	       now.dev == stderr_at_load.dev && now.ino == stderr_at_load.ino;
}

static void write_all(const char *buf, size_t len)
{
	int saved = errno;
	if (!stderr_unchanged()) {
		errno = saved;
		return;
	}
	while (len) {
		ssize_t n = write(2, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf += n;
		len -= (size_t)n;
	}
	errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char line[1200] = "hostshim: ";
	size_t len = strlen(line);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len += (size_t)n < sizeof line - len - 1 ? (size_t)n : sizeof line - len - 2;
	line[len++] = '\n';
	write_all(line, len);
}

void ll_str(struct logline *l, const char *s)
{
	if (l->len == 0) {
		memcpy(l->text, "hostshim: ", 10);
		l->len = 10;
	}
	while (*s && l->len < sizeof l->text - 1)
		l->text[l->len++] = *s++;
}

char *fmt_uint(char *p, unsigned v)
{
	char digits[10];
	int n = 0;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = digits[--n];
	*p = '\0';
	return p;
}

static char *fmt_hex(char *p, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 12;
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hex[(v >> shift) & 15];
	return p;
}

/* RFC 5952 text: the longest run of two or more zero groups becomes "::",
 * and a v4-mapped address ends in dotted decimal. inet_ntop would do, but
 * glibc's formats with sprintf, which does not belong in connect. */
static char *fmt_ipv6(char *p, const unsigned char *a)
{
	unsigned g[8];
	int best = -1, bestlen = 1;
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	bool mapped = best == 0 && bestlen == 5 && g[5] == 0xffff;
	for (int i = 0; i < (mapped ? 6 : 8); i++) {
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += bestlen - 1;
			continue;
		}
		if (i && i != best + bestlen)
			*p++ = ':';
		p = fmt_hex(p, g[i]);
	}
	if (mapped) {
		*p++ = ':';
		return fmt_addr(p, AF_INET, a + 12);
	}
	*p = '\0';
	return p;
}

char *fmt_addr(char *p, int family, const void *addr)
{
	const unsigned char *a = addr;
	if (family == AF_INET6)
		return fmt_ipv6(p, a);
	for (int i = 0; i < 4; i++) {
		p = fmt_uint(p, a[i]);
		*p++ = i < 3 ? '.' : '\0';
	}
	return p - 1;
}

static void ll_uint(struct logline *l, unsigned v)
{
	char digits[12];
	fmt_uint(digits, v);
	ll_str(l, digits);
}

/* "name:80", "10.0.0.5:80", "[fd00::5]:80" */
void ll_host_port(struct logline *l, const char *host, unsigned port)
{
	bool v6 = strchr(host, ':') != NULL;
	ll_str(l, v6 ? "[" : "");
	ll_str(l, host);
	ll_str(l, v6 ? "]:" : ":");
	ll_uint(l, port);
}

void ll_addr(struct logline *l, const struct sockaddr *sa)
{
	char text[ADDR_TEXT_MAX];
	const struct sockaddr_in *in4 = (const void *)sa;
	const struct sockaddr_in6 *in6 = (const void *)sa;
	if (sa->sa_family == AF_INET) {
		fmt_addr(text, AF_INET, &in4->sin_addr);
		ll_str(l, text);
		ll_str(l, ":");
		ll_uint(l, ntohs(in4->sin_port));
	} else {
		fmt_addr(text, AF_INET6, &in6->sin6_addr);
		ll_str(l, "[");
		ll_str(l, text);
		ll_str(l, "]:");
		ll_uint(l, ntohs(in6->sin6_port));
	}
}

void ll_emit(struct logline *l)
{
	l->text[l->len++] = '\n';
	write_all(l->text, l->len);
}
