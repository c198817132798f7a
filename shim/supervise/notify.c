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
 * Reads use process_vm_readv (one call, no file to open) and are only
 * acted on once SECCOMP_IOCTL_NOTIF_ID_VALID says the thread is still
 * the one that made the call. Writes go through /proc/TID/mem, opened
 * and then checked with NOTIF_ID_VALID: the open file is tied to that
 * thread's memory, so a recycled PID can't receive the write. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "supervise.h"

#define MMSG_MAX 1024 /* UIO_MAXIOV: the kernel takes no more per call */

static struct seccomp_notif *req;
static struct seccomp_notif_resp *resp;
static size_t req_size, resp_size;

void notify_init(int listener)
{
	(void)listener;
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
}

static bool still_valid(int listener, uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static bool peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static bool poke(int listener, pid_t pid, uint64_t id, uint64_t addr,
		 const void *buf, size_t len)
{
	char path[40];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = still_valid(listener, id) &&
		  pwrite(fd, buf, len, (off_t)addr) == (ssize_t)len;
	close(fd);
	return ok;
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
static void destination(int listener, uint64_t addr, uint64_t len, bool send,
			const char *what)
{
	struct sockaddr_storage sa = {0}, out;
	if (!addr || len < sizeof(sa_family_t))
		return;
	size_t n = len < sizeof sa ? (size_t)len : sizeof sa;
	if (n > sizeof(struct sockaddr_in6))
		n = sizeof(struct sockaddr_in6); /* all we look at or change */
	if (!peek((pid_t)req->pid, addr, &sa, n))
		return;
	if (sa.ss_family != AF_INET && sa.ss_family != AF_INET6)
		return;
	if (!route_dns((struct sockaddr *)&sa, (socklen_t)n, send, &out) &&
	    !redirect_route((struct sockaddr *)&sa, (socklen_t)n, &out, what))
		return;
	/* poke() checks that the caller is still there, so what we read was
	 * its own, before it writes. */
	if (!poke(listener, (pid_t)req->pid, req->id, addr, &out, n))
		log_msg(LOG_WARN, "%s: could not rewrite the destination in "
				  "process %d: %s", what, (int)req->pid, strerror(errno));
}

static void one_msghdr(int listener, uint64_t at, const char *what)
{
	struct msghdr m = {0};
	if (peek((pid_t)req->pid, at, &m, sizeof m))
		destination(listener, (uintptr_t)m.msg_name, m.msg_namelen, true, what);
}

static void handle(int listener)
{
	const __u64 *a = req->data.args;
	switch (req->data.nr) {
	case __NR_connect:
		destination(listener, a[1], a[2], false, "connect");
		break;
	case __NR_sendto:
		destination(listener, a[4], a[5], true, "sendto");
		break;
	case __NR_sendmsg:
		one_msghdr(listener, a[1], "sendmsg");
		break;
	case __NR_sendmmsg:
		for (uint64_t i = 0; i < a[2] && i < MMSG_MAX; i++)
			one_msghdr(listener, a[1] + i * sizeof(struct mmsghdr),
				   "sendmmsg");
		break;
	}
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
