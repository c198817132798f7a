/* Messages on stderr, and number and address formatting without stdio. */
#ifndef HOSTSHIM_LOG_H
#define HOSTSHIM_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum log_level { LOG_OFF, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
/* Atomic: a reload may change it while other threads log. */
extern _Atomic(enum log_level) log_level;
bool log_level_parse(const char *text, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_remember_stderr(void);

struct file_id {
	unsigned mode, uid;
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};
/* Of an open file, or with a path of a named one (followed if a link). */
int file_id(int fd, struct file_id *out);
int file_id_at(const char *path, struct file_id *out);

/* Formatting into a caller's buffer; each returns the end of what it wrote
 * (a NUL is written there). Async-signal-safe: connect uses them. */
char *fmt_uint(char *p, unsigned v);
#define ADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */
char *fmt_addr(char *p, int family, const void *addr);

/* A line for connect and sendto: no stdio, no heap. */
struct logline {
	char text[640];
	size_t len;
};
void ll_str(struct logline *l, const char *s);
void ll_host_port(struct logline *l, const char *host, unsigned port);
void ll_addr(struct logline *l, const struct sockaddr *sa);
void ll_emit(struct logline *l);

#endif
