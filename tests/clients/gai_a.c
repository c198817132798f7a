/* gai_a: glibc's asynchronous lookups, getaddrinfo_a (issue 14 item 9).
 *
 * usage: gai_a MODE PORT NAME...
 *   MODE  wait     GAI_WAIT: returns when every lookup is done
 *         suspend  GAI_NOWAIT, then gai_suspend until each is done
 *         signal   GAI_NOWAIT with SIGEV_SIGNAL (SIGUSR1), waits for it
 *         thread   GAI_NOWAIT with SIGEV_THREAD, waits for its call
 *         poll     GAI_NOWAIT, then gai_error every 10 ms
 *         cancel   GAI_NOWAIT, then gai_cancel on each: prints what it
 *                  said, then waits for those not cancelled
 *   Each lookup is AF_INET, SOCK_STREAM, service NULL; with PORT > 0 the
 *   first answer of each is connected to on PORT and GETs / with the name
 *   in the Host header.
 * Output: "submit rc=N ms=T" (how long getaddrinfo_a took), "notified
 *   how=signal|thread value=V", "cancel name=N rc=EAI_X", then per name
 *   "lookup name=N rc=N addr=A" and "get name=N body=BODY" or
 *   "get name=N connect errno=ENAME".
 * exit: 0 every lookup answered (and every GET got a body), 3 otherwise,
 * 2 usage, 77 no getaddrinfo_a (musl). */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "client_net.h"

#ifndef GAI_NOWAIT
int main(void)
{
    puts("no getaddrinfo_a in this libc");
    return 77;
}
#else
static volatile sig_atomic_t notified, value;

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    value = si->si_value.sival_int;
    notified = 1;
}

static void on_thread(union sigval v)
{
    value = v.sival_int;
    __atomic_store_n(&notified, 2, __ATOMIC_RELEASE);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int wait_notified(void)
{
    for (int i = 0; i < 3000 && !__atomic_load_n(&notified, __ATOMIC_ACQUIRE); i++)
        usleep(10000);
    if (!notified) {
        puts("notified how=never");
        return -1;
    }
    printf("notified how=%s value=%d\n", notified == 1 ? "signal" : "thread", (int)value);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *mode = argv[1];
    int port = atoi(argv[2]), n = argc - 3, bad = 0;
    struct gaicb *cbs = calloc((size_t)n, sizeof *cbs), **list = calloc((size_t)n, sizeof *list);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    for (int i = 0; i < n; i++) {
        cbs[i].ar_name = argv[3 + i];
        cbs[i].ar_request = &hints;
        list[i] = &cbs[i];
    }
    struct sigevent sev = {.sigev_notify = SIGEV_NONE};
    if (!strcmp(mode, "signal")) {
        struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};
        sigaction(SIGUSR1, &sa, NULL);
        sev.sigev_notify = SIGEV_SIGNAL;
        sev.sigev_signo = SIGUSR1;
        sev.sigev_value.sival_int = 41;
    } else if (!strcmp(mode, "thread")) {
        sev.sigev_notify = SIGEV_THREAD;
        sev.sigev_notify_function = on_thread;
        sev.sigev_value.sival_int = 42;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = getaddrinfo_a(strcmp(mode, "wait") ? GAI_NOWAIT : GAI_WAIT, list, n, &sev);
    printf("submit rc=%d ms=%.0f\n", rc, ms_since(&t0));
    if (rc) {
        free(cbs);
        free(list);
        return 3;
    }
    if (!strcmp(mode, "signal") || !strcmp(mode, "thread")) {
        if (wait_notified())
            bad++;
    } else if (!strcmp(mode, "suspend")) {
        for (;;) {
            int left = 0;
            for (int i = 0; i < n; i++) {
                if (list[i] && gai_error(list[i]) != EAI_INPROGRESS)
                    list[i] = NULL;
                left += list[i] != NULL;
            }
            if (!left)
                break;
            struct timespec ts = {10, 0};
            int s = gai_suspend((const struct gaicb *const *)list, n, &ts);
            if (s && s != EAI_INTR && s != EAI_ALLDONE) {
                printf("suspend rc=%d\n", s);
                free(cbs);
                free(list);
                return 3;
            }
        }
    } else if (!strcmp(mode, "poll") || !strcmp(mode, "cancel")) {
        if (!strcmp(mode, "cancel"))
            for (int i = 0; i < n; i++) {
                int c = gai_cancel(&cbs[i]);
                printf("cancel name=%s rc=%s\n", cbs[i].ar_name,
                       c == EAI_CANCELED ? "EAI_CANCELED" : c == EAI_NOTCANCELED ? "EAI_NOTCANCELED"
                                                        : c == EAI_ALLDONE     ? "EAI_ALLDONE" : "other");
            }
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 3000 && gai_error(&cbs[i]) == EAI_INPROGRESS; k++)
                usleep(10000);
    }
    for (int i = 0; i < n; i++) {
        char a[INET6_ADDRSTRLEN] = "?", resp[2048];
        int e = gai_error(&cbs[i]);
        if (e == EAI_CANCELED) {
            printf("lookup name=%s rc=canceled\n", cbs[i].ar_name);
            continue;
        }
        struct addrinfo *res = cbs[i].ar_result;
        if (!e && res)
            inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, a, sizeof a);
        printf("lookup name=%s rc=%d addr=%s\n", cbs[i].ar_name, e, a);
        if (e || !res) {
            bad++;
            continue;
        }
        if (port > 0) {
            int err = 0, fd = connect_first(res, port, a, sizeof a, &err);
            if (fd < 0) {
                printf("get name=%s connect errno=%s\n", cbs[i].ar_name, strerrorname_np(err));
                bad++;
            } else {
                struct timeval tv = {5, 0};
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                char *body = http_exchange(fd, "/", cbs[i].ar_name, resp, sizeof resp);
                printf("get name=%s body=%s\n", cbs[i].ar_name, body ? body : "(none)");
                bad += !body;
            }
        }
        freeaddrinfo(res);
    }
    free(cbs);
    free(list);
    return bad ? 3 : 0;
}
#endif
