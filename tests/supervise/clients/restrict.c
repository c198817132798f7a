/* restrict MODE COMMAND [ARG]...: run COMMAND under a seccomp filter that
 * refuses, with EPERM, what a container may refuse:
 *   docker     what Docker 20.10's default profile (Debian 12's docker.io)
 *              refuses a process without CAP_SYS_PTRACE: pidfd_getfd,
 *              kcmp, process_vm_readv, process_vm_writev (later releases
 *              allow the last two) and process_madvise. Checks that
 *              pidfd_getfd and process_vm_readv are really refused
 *              before running COMMAND.
 *   noseccomp  seccomp(2) and prctl(PR_SET_SECCOMP): a profile that
 *              forbids filters, as under `--security-opt seccomp=...`
 *              with a stricter profile.
 * Filters are inherited, so COMMAND and its children stay restricted. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif

#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

static struct sock_filter docker[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	DENY(__NR_pidfd_getfd),
	DENY(__NR_kcmp),
	DENY(__NR_process_madvise),
	DENY(__NR_process_vm_readv),
	DENY(__NR_process_vm_writev),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static struct sock_filter noseccomp[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	DENY(__NR_seccomp),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prctl, 0, 3),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_SECCOMP, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	bool is_docker = !strcmp(argv[1], "docker");
	struct sock_fprog prog = {
		.len = is_docker ? sizeof docker / sizeof *docker
				 : sizeof noseccomp / sizeof *noseccomp,
		.filter = is_docker ? docker : noseccomp,
	};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("restrict: installing the filter");
		return 2;
	}
	if (is_docker && (syscall(__NR_pidfd_getfd, 0, 0, 0) != -1 || errno != EPERM)) {
		fprintf(stderr, "restrict: pidfd_getfd is not refused\n");
		return 2;
	}
	if (is_docker && (syscall(__NR_process_vm_readv, getpid(), 0, 0, 0, 0, 0) != -1 ||
			  errno != EPERM)) {
		fprintf(stderr, "restrict: process_vm_readv is not refused\n");
		return 2;
	}
	printf("restrict: %s filter installed\n", argv[1]);
	fflush(stdout);
	execvp(argv[2], argv + 2);
	perror("restrict: exec");
	return 127;
}
