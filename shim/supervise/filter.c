/* The seccomp filter: connect, sendmsg and sendmmsg always notify the
 * supervisor; sendto only when it carries a destination address (a
 * plain send() is sendto(..., NULL, 0) and would otherwise pay a round
 * trip for every write on a connected socket); execve and execveat only
 * where we had to set no_new_privs for the filter, to say when a setuid
 * program loses its privileges (exec.c). Everything else, and
 * every call from another ABI (i386 or x32 programs on x86_64), is
 * allowed: only the native 64-bit ABI is covered. */
#define _GNU_SOURCE
#include <endian.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "supervise.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "supervised mode is built for x86_64 and aarch64 only"
#endif

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#else
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_LO(i) (ARG_HI(i) + 4)
#endif

/* A system call number no call has: the exec checks, unwatched. */
#define NO_CALL 0x3fffffffu

#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

static struct sock_filter code[] = {
	LOAD(offsetof(struct seccomp_data, arch)),
	JEQ(NATIVE_ARCH, 1, 0),
	RET(SECCOMP_RET_ALLOW),
	LOAD(offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
	/* x32 calls carry this bit; their sockaddrs are the same, but their
	 * msghdr is not: leave them alone. */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
	RET(SECCOMP_RET_ALLOW),
#endif
	/* Offsets count from the next instruction: ALLOW and NOTIFY are the
	 * last two. */
	JEQ(NO_CALL, 10, 0), /* __NR_execve when watched */
	JEQ(NO_CALL, 9, 0),  /* __NR_execveat */
	JEQ(__NR_connect, 8, 0),
	JEQ(__NR_sendmsg, 7, 0),
	JEQ(__NR_sendmmsg, 6, 0),
	JEQ(__NR_sendto, 0, 4),
	/* sendto: a NULL destination (both halves zero) needs nothing. */
	LOAD(ARG_LO(4)),
	JEQ(0, 0, 3),
	LOAD(ARG_HI(4)),
	JEQ(0, 0, 1),
	RET(SECCOMP_RET_ALLOW),
	RET(SECCOMP_RET_USER_NOTIF),
};

static const struct sock_fprog program = {
	.len = sizeof code / sizeof *code,
	.filter = code,
};

const struct sock_fprog *filter_program(bool watch_exec)
{
	/* The two exec checks come right before connect's. */
	size_t at = 0;
	while (code[at + 2].code != (BPF_JMP | BPF_JEQ | BPF_K) ||
	       code[at + 2].k != __NR_connect)
		at++;
	code[at].k = watch_exec ? __NR_execve : NO_CALL;
	code[at + 1].k = watch_exec ? __NR_execveat : NO_CALL;
	return &program;
}
