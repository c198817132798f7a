/* One seccomp notification: read the destination from the child's
 * memory, decide, rewrite it in place if a rule applies, and let the
 * kernel run the call (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 *
 * Semantics: the system call's arguments can't change, so a destination
 * is rewritten in the child's own buffer, keeping its family and length
 * (an IPv4 sockaddr gets an IPv4 target, an IPv6 one an IPv6 or
 * v4-mapped target). The program sees its buffer changed after the call;
 * no program we know reads it back. A destination that can't be read, or
 * that no rule names, is left alone. The kernel reads the buffer again
 * after CONTINUE, so a thread of the child that changes it meanwhile
 * wins: this is a convenience for redirecting, not a security boundary.
 *
 * Reading the child's memory (mem.c) is acted on only once
 * SECCOMP_IOCTL_NOTIF_ID_VALID says the thread is still the one that
 * made the call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervise.h"

#define MMSG_MAX 1024 /* UIO_MAXIOV: the kernel takes no more per call */

/* Linux 6.6: the caller's CPU switches straight to the supervisor's
 * waiting thread and back, instead of waking it through the scheduler
 * (a few microseconds per notification). Older headers lack it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static struct seccomp_notif *req;
static struct seccomp_notif_resp *resp;
static size_t req_size, resp_size;

void notify_init(int listener)
{
	struct seccomp_notif_sizes sizes = {0};
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0) {
		req_size = sizes.seccomp_notif;
		resp_size = sizes.seccomp_notif_resp;
	}
	/* A newer kernel may use larger structures than our headers know. */
	if (req_size < sizeof *req)
		req_size = sizeof *req;
	if (resp_size < sizeof *resp)
		resp_size = sizeof *resp;
	req = calloc(1, req_size);
	resp = calloc(1, resp_size);
	if (!req || !resp) {
		log_msg(LOG_ERROR, "out of memory");
		exit(STATUS_NO_SECCOMP);
	}
	/* The flags are the argument itself, not a pointer to them. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		  (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP))
		log_msg(LOG_DEBUG, "seccomp: no synchronous wake-up (%s; Linux 6.6)",
			strerror(errno));
}

/* A nameserver destination becomes the stub's address in the same form. */
static bool route_dns(const struct sockaddr *sa, socklen_t len, bool send,
		      struct sockaddr_storage *out)
{
	int i = stub_ns_index(sa, len);
	if (i < 0)
		return false;
	const struct sockaddr_in *to = send ? &stub_ns[i].spoof : &stub_ns[i].plain;
	memcpy(out, sa, len);
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_addr = to->sin_addr;
		in->sin_port = to->sin_port;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		memcpy(in6->sin6_addr.s6_addr + 12, &to->sin_addr, 4);
		in6->sin6_port = to->sin_port;
	}
	log_msg(LOG_DEBUG, "%s to nameserver %d: sent to the stub", send ? "send" : "connect", i + 1);
	return true;
}

/* The destination at `addr` (`len` bytes in the child): rewritten if a
 * rule or the stub wants it. */
static void destination(struct mem *m, uint64_t addr, uint64_t len, bool send,
			const char *what)
{
	struct sockaddr_storage sa = {0}, out;
	if (!addr || len < sizeof(sa_family_t))
		return;
	size_t n = len < sizeof sa ? (size_t)len : sizeof sa;
	if (n > sizeof(struct sockaddr_in6))
		n = sizeof(struct sockaddr_in6); /* all we look at or change */
	if (!mem_read(m, addr, &sa, n))
		return;
	if (sa.ss_family != AF_INET && sa.ss_family != AF_INET6)
		return;
	if (!route_dns((struct sockaddr *)&sa, (socklen_t)n, send, &out) &&
	    !redirect_route((struct sockaddr *)&sa, (socklen_t)n, &out, what))
		return;
	if (!mem_write(m, addr, &out, n))
		log_msg(LOG_WARN, "%s: could not rewrite the destination in "
				  "process %d: %s", what, (int)m->pid, strerror(errno));
}

static void one_msghdr(struct mem *m, uint64_t at, const char *what)
{
	/* msg_name and msg_namelen lead the structure: a connected
	 * socket's sendmsg (msg_name NULL) costs one small read. */
	struct {
		void *name;
		socklen_t namelen;
	} h;
	if (mem_read(m, at, &h, sizeof h))
		destination(m, (uintptr_t)h.name, h.namelen, true, what);
}

static void handle(int listener)
{
	const __u64 *a = req->data.args;
	struct mem m;
	mem_begin(&m, listener, (pid_t)req->pid, req->id);
	switch (req->data.nr) {
	case __NR_connect:
		destination(&m, a[1], a[2], false, "connect");
		break;
	case __NR_sendto:
		destination(&m, a[4], a[5], true, "sendto");
		break;
	case __NR_sendmsg:
		one_msghdr(&m, a[1], "sendmsg");
		break;
	case __NR_sendmmsg:
		for (uint64_t i = 0; i < a[2] && i < MMSG_MAX; i++)
			one_msghdr(&m, a[1] + i * sizeof(struct mmsghdr),
				   "sendmmsg");
		break;
	case __NR_execve:
		exec_check(&m, AT_FDCWD, a[0], 0);
		break;
	case __NR_execveat:
		exec_check(&m, (int)a[0], a[1], a[4]);
		break;
	}
	mem_end(&m);
}

bool notify_one(int listener)
{
	memset(req, 0, req_size);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req))
		return errno == EINTR || errno == ENOENT;
	handle(listener);
	memset(resp, 0, resp_size);
	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	/* ENOENT: the caller was interrupted or died meanwhile; fine. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) && errno != ENOENT)
		log_msg(LOG_DEBUG, "answering a notification: %s", strerror(errno));
	return true;
}

static void *serve(void *arg)
{
	int listener = (int)(intptr_t)arg;
	/* Blocking in RECV, not poll: one system call per notification,
	 * and the synchronous wake-up lands straight here. */
	while (notify_one(listener))
		;
	/* Nothing can be served any more: the callers waiting get ENOSYS
	 * from the kernel once no one listens. */
	log_msg(LOG_ERROR, "seccomp notification: %s", strerror(errno));
	return NULL;
}

void notify_start(int listener)
{
	pthread_t t;
	if (pthread_create(&t, NULL, serve, (void *)(intptr_t)listener)) {
		log_msg(LOG_ERROR, "cannot start the notification thread");
		exit(STATUS_NO_SECCOMP);
	}
}
