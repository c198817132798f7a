/* http_get: resolve a name like Node does (getaddrinfo with service NULL,
 * then set the port), connect, send an HTTP/1.0 GET, print the body.
 *
 * usage: http_get [-f unspec|inet|inet6] [-F v4mapped,addrconfig,all]
 *                 [-s] [-n] [-6] [-a] [-k COUNT] [-X] [-T] [-L LEN] [-H HOST] HOST PORT
 *   HOST that is an IPv4/IPv6 literal is used as is, without getaddrinfo.
 *   -s  pass PORT as the service to getaddrinfo (curl/Python style)
 *   -n  non-blocking connect: expect EINPROGRESS, poll, read SO_ERROR
 *   -6  use an AF_INET6 socket and the v4-mapped form of IPv4 answers (Java)
 *   -a  try every address (default: stop at the first that connects)
 *   -k  repeat the whole lookup + request COUNT times
 *   -X  after one request, fork; the child repeats it (prefix "child: ")
 *   -T  print how long the connect() call itself took: "connect_ms=N"
 *   -L  pass LEN as connect()'s address length (e.g. 4: the kernel says EINVAL)
 *   -H  Host header (default HOST)
 * Output lines: "connect addr=A port=P body=BODY" or "... errno=ENAME",
 * "nonblock connect=EINPROGRESS so_error=0", "gai rc=EAI_X".
 * exit: 0 every round got a body, 1 lookup failed, 2 usage, 3 no connect. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client_net.h"

static int family = AF_UNSPEC, flags = 0, use_service = 0, nonblock = 0, mapped6 = 0, all = 0, timing = 0;
static int addrlen = -1;
static const char *prefix = "";

static const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

static int attempt(const struct sockaddr *sa, socklen_t salen, const char *host)
{
    char a[INET6_ADDRSTRLEN], resp[4096];
    int port;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof a);
        port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    } else {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof a);
        port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    }
    int fd = socket(sa->sa_family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
        printf("%sconnect addr=%s port=%d socket-errno=%s\n", prefix, a, port, errname(errno));
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    int rc = connect(fd, sa, addrlen >= 0 ? (socklen_t)addrlen : salen);
    int err = errno;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (timing)
        printf("%sconnect_ms=%ld\n", prefix,
               (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
    if (nonblock) {
        if (rc == 0) {
            printf("%snonblock connect=0\n", prefix);
        } else if (err != EINPROGRESS) {
            printf("%snonblock connect=%s\n", prefix, errname(err));
            printf("%sconnect addr=%s port=%d errno=%s\n", prefix, a, port, errname(err));
            close(fd);
            return -1;
        } else {
            struct pollfd p = { fd, POLLOUT, 0 };
            int pr = poll(&p, 1, 5000);
            int soerr = -1;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            printf("%snonblock connect=EINPROGRESS poll=%d so_error=%d\n", prefix, pr, soerr);
            if (soerr != 0) {
                printf("%sconnect addr=%s port=%d errno=%s\n", prefix, a, port, pr > 0 ? errname(soerr) : "ETIMEDOUT");
                close(fd);
                return -1;
            }
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    } else if (rc != 0) {
        printf("%sconnect addr=%s port=%d errno=%s\n", prefix, a, port, errname(err));
        close(fd);
        return -1;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char *body = http_exchange(fd, "/", host, resp, sizeof resp);
    if (!body) {
        printf("%sconnect addr=%s port=%d no-response\n", prefix, a, port);
        return -1;
    }
    printf("%sconnect addr=%s port=%d body=%s\n", prefix, a, port, body);
    return 0;
}

/* returns 0 when a body came back, 1 lookup failure, 3 no connect */
static int one_round(const char *name, int port, const char *host)
{
    struct sockaddr_storage lit;
    memset(&lit, 0, sizeof lit);
    struct sockaddr_in *s4 = (void *)&lit;
    struct sockaddr_in6 *s6 = (void *)&lit;
    if (inet_pton(AF_INET, name, &s4->sin_addr) == 1 && !mapped6) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        return attempt((struct sockaddr *)s4, sizeof *s4, host) ? 3 : 0;
    }
    if (inet_pton(AF_INET6, name, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        return attempt((struct sockaddr *)s6, sizeof *s6, host) ? 3 : 0;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    char serv[16];
    snprintf(serv, sizeof serv, "%d", port);
    int rc = getaddrinfo(name, use_service ? serv : NULL, &hints, &res);
    if (rc != 0) {
        printf("%sgai rc=%d (%s)\n", prefix, rc, gai_strerror(rc));
        return 1;
    }
    int ok = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        struct sockaddr_storage ss;
        socklen_t len = ai->ai_addrlen;
        memcpy(&ss, ai->ai_addr, len);
        if (ss.ss_family == AF_INET && mapped6) {
            struct sockaddr_in v4 = *(struct sockaddr_in *)&ss;
            struct sockaddr_in6 *m = (void *)&ss;
            memset(m, 0, sizeof *m);
            m->sin6_family = AF_INET6;
            m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&m->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
            len = sizeof *m;
        }
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        if (attempt((struct sockaddr *)&ss, len, host) == 0) {
            ok = 1;
            if (!all)
                break;
        }
    }
    freeaddrinfo(res);
    return ok ? 0 : 3;
}

int main(int argc, char **argv)
{
    int opt, count = 1, forkmode = 0;
    const char *host = NULL;
    while ((opt = getopt(argc, argv, "f:F:sn6ak:XTL:H:")) != -1) {
        switch (opt) {
        case 'f':
            family = !strcmp(optarg, "inet") ? AF_INET : !strcmp(optarg, "inet6") ? AF_INET6 : AF_UNSPEC;
            break;
        case 'F':
            if (strstr(optarg, "v4mapped")) flags |= AI_V4MAPPED;
            if (strstr(optarg, "addrconfig")) flags |= AI_ADDRCONFIG;
            if (strstr(optarg, "all")) flags |= AI_ALL;
            break;
        case 's': use_service = 1; break;
        case 'n': nonblock = 1; break;
        case '6': mapped6 = 1; break;
        case 'a': all = 1; break;
        case 'k': count = atoi(optarg); break;
        case 'X': forkmode = 1; break;
        case 'T': timing = 1; break;
        case 'L': addrlen = atoi(optarg); break;
        case 'H': host = optarg; break;
        default: return 2;
        }
    }
    if (optind + 2 != argc) {
        fprintf(stderr, "usage: http_get [options] HOST PORT\n");
        return 2;
    }
    const char *name = argv[optind];
    int port = atoi(argv[optind + 1]);
    if (!host)
        host = name;
    int worst = 0;
    for (int i = 0; i < count; i++) {
        int rc = one_round(name, port, host);
        if (rc > worst)
            worst = rc;
    }
    if (forkmode) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            prefix = "child: ";
            int rc = one_round(name, port, host);
            fflush(stdout);
            _exit(rc);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
            printf("child: died status=%d\n", st);
            worst = 3;
        } else {
            printf("child: exit=%d\n", WEXITSTATUS(st));
            if (WEXITSTATUS(st) > worst)
                worst = WEXITSTATUS(st);
        }
    }
    fflush(stdout);
    return worst;
}
