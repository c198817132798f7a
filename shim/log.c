/* Messages on stderr, each one line prefixed "hostshim: ".
 *
 * A line is written with a single write(2) so lines from threads do not
 * interleave, and errno is left as it was: the program may be about to
 * read it. The ll_* builders format without stdio or the heap, for the
 * connect and sendto paths, where only async-signal-safe calls belong. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "shim.h"

enum log_level log_level = LOG_WARN;

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

static void write_all(const char *buf, size_t len)
{
	int saved = errno;
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

void ll_uint(struct logline *l, unsigned v)
{
	char digits[12];
	size_t i = sizeof digits;
	digits[--i] = '\0';
	do
		digits[--i] = (char)('0' + v % 10);
	while ((v /= 10) && i);
	ll_str(l, digits + i);
}

void ll_addr(struct logline *l, const struct sockaddr *sa)
{
	char text[INET6_ADDRSTRLEN];
	const struct sockaddr_in *in4 = (const void *)sa;
	const struct sockaddr_in6 *in6 = (const void *)sa;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
		ll_str(l, text);
		ll_str(l, ":");
		ll_uint(l, ntohs(in4->sin_port));
	} else {
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
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
