/* Messages on stderr, each one line prefixed "hostshim: ".
 *
 * A line is written with a single write(2) so lines from threads do not
 * interleave, and errno is left as it was: the program may be about to
 * read it. The ll_* builders format without stdio or the heap, for the
 * connect and sendto paths, where only async-signal-safe calls belong. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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

int file_id(int fd, struct file_id *out)
{
#ifdef __GLIBC__
	/* fstat would bind to glibc 2.33's symbol; statx is there since 2.28. */
	struct statx sx;
	unsigned want = STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO;
	if (statx(fd, "", AT_EMPTY_PATH, want, &sx))
		return -1;
	out->mode = sx.stx_mode;
	out->uid = sx.stx_uid;
	out->dev = (uint64_t)sx.stx_dev_major << 32 | sx.stx_dev_minor;
	out->ino = sx.stx_ino;
#else
	struct stat st;
	if (fstat(fd, &st))
		return -1;
	out->mode = st.st_mode;
	out->uid = st.st_uid;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
#endif
	return 0;
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
