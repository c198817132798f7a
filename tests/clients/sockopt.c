/* sockopt: set socket options on a TCP socket, connect it to NAME:PORT and
 * compare the options before and after the connect: the socket must stay
 * the program's.
 *
 * usage: sockopt [-n] [-e] [-b] NAME PORT
 *   NAME: an address literal, or a name looked up with getaddrinfo
 *   (AF_UNSPEC); the socket has the first answer's family
 *   -n  O_NONBLOCK (connect, then poll for POLLOUT)
 *   -e  FD_CLOEXEC
 *   -b  bind to 0.0.0.0 on a free port before connecting
 * Output, one line each:
 *   family before=inet after=inet6
 *   opt NAME before=V after=V      (for every option set)
 *   flag NAME before=V after=V     (O_NONBLOCK, FD_CLOEXEC)
 *   bound before=PORT after=PORT   (with -b: the local port)
 *   connect body=BODY | connect errno=ENAME
 * exit: 0 got a body, 1 lookup failed, 2 usage, 3 connect/request failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client_net.h"

struct opt {
    const char *name;
    int level, opt;
    enum { INT, TV, LINGER } kind;
    int value; /* INT: the value; TV: milliseconds; LINGER: seconds */
    char before[64];
};

static struct opt opts[] = {
    { "SO_RCVTIMEO", SOL_SOCKET, SO_RCVTIMEO, TV, 3250, "" },
    { "SO_SNDTIMEO", SOL_SOCKET, SO_SNDTIMEO, TV, 4500, "" },
    { "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, INT, 1, "" },
    { "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, INT, 1, "" },
    { "SO_LINGER", SOL_SOCKET, SO_LINGER, LINGER, 7, "" },
    { "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, INT, 65536, "" },
    { "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, INT, 65536, "" },
    { "SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, INT, 3, "" },
    { "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, INT, 1, "" },
    { "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, INT, 77, "" },
    { "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, INT, 11, "" },
    { "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, INT, 5, "" },
    { "TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, INT, 12345, "" },
};
#define NOPTS (sizeof opts / sizeof *opts)

static void set_opt(int fd, const struct opt *o)
{
    int rc;
    if (o->kind == TV) {
        struct timeval tv = { o->value / 1000, (o->value % 1000) * 1000 };
        rc = setsockopt(fd, o->level, o->opt, &tv, sizeof tv);
    } else if (o->kind == LINGER) {
        struct linger l = { 1, o->value };
        rc = setsockopt(fd, o->level, o->opt, &l, sizeof l);
    } else {
        rc = setsockopt(fd, o->level, o->opt, &o->value, sizeof o->value);
    }
    if (rc)
        printf("setsockopt %s errno=%s\n", o->name, strerrorname_np(errno));
}

static void get_opt(int fd, const struct opt *o, char *out, size_t len)
{
    union { int i; struct timeval tv; struct linger l; } v;
    socklen_t sl = sizeof v;
    memset(&v, 0, sizeof v);
    if (getsockopt(fd, o->level, o->opt, &v, &sl)) {
        snprintf(out, len, "errno:%s", strerrorname_np(errno));
        return;
    }
    if (o->kind == TV)
        snprintf(out, len, "%ldms", (long)v.tv.tv_sec * 1000 + (long)v.tv.tv_usec / 1000);
    else if (o->kind == LINGER)
        snprintf(out, len, "%d/%d", v.l.l_onoff, v.l.l_linger);
    else
        snprintf(out, len, "%d", v.i);
}

static const char *family(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl))
        return "?";
    return ss.ss_family == AF_INET ? "inet" : ss.ss_family == AF_INET6 ? "inet6" : "other";
}

static int local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl))
        return -1;
    return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int main(int argc, char **argv)
{
    int opt, nonblock = 0, cloexec = 0, do_bind = 0;
    while ((opt = getopt(argc, argv, "neb")) != -1) {
        switch (opt) {
        case 'n': nonblock = 1; break;
        case 'e': cloexec = 1; break;
        case 'b': do_bind = 1; break;
        default: return 2;
        }
    }
    if (optind + 2 != argc) {
        fprintf(stderr, "usage: sockopt [-n] [-e] [-b] NAME PORT\n");
        return 2;
    }
    const char *name = argv[optind];
    int port = atoi(argv[optind + 1]);
    struct sockaddr_storage dst;
    socklen_t dstlen;
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, argv[optind + 1], &hints, &res);
    if (rc) {
        printf("gai rc=%d (%s)\n", rc, gai_strerror(rc));
        return 1;
    }
    memcpy(&dst, res->ai_addr, res->ai_addrlen);
    dstlen = res->ai_addrlen;
    freeaddrinfo(res);
    (void)port;
    int fd = socket(dst.ss_family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0) | (cloexec ? SOCK_CLOEXEC : 0), 0);
    if (fd < 0)
        return 3;
    for (size_t i = 0; i < NOPTS; i++) {
        set_opt(fd, &opts[i]);
        get_opt(fd, &opts[i], opts[i].before, sizeof opts[i].before);
    }
    int bound = -1;
    if (do_bind) {
        struct sockaddr_storage any;
        memset(&any, 0, sizeof any);
        any.ss_family = dst.ss_family;
        if (bind(fd, (struct sockaddr *)&any, dstlen))
            printf("bind errno=%s\n", strerrorname_np(errno));
        bound = local_port(fd);
    }
    int fl_before = fcntl(fd, F_GETFL), fd_before = fcntl(fd, F_GETFD);
    const char *fam_before = family(fd);
    rc = connect(fd, (struct sockaddr *)&dst, dstlen);
    int err = errno;
    if (rc && nonblock && err == EINPROGRESS) {
        struct pollfd p = { fd, POLLOUT, 0 };
        int soerr = -1;
        socklen_t sl = sizeof soerr;
        if (poll(&p, 1, 5000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            rc = 0;
        else
            err = soerr > 0 ? soerr : ETIMEDOUT;
    }
    printf("family before=%s after=%s\n", fam_before, family(fd));
    for (size_t i = 0; i < NOPTS; i++) {
        char after[64];
        get_opt(fd, &opts[i], after, sizeof after);
        printf("opt %s before=%s after=%s\n", opts[i].name, opts[i].before, after);
    }
    int fl_after = fcntl(fd, F_GETFL), fd_after = fcntl(fd, F_GETFD);
    printf("flag O_NONBLOCK before=%d after=%d\n", !!(fl_before & O_NONBLOCK), !!(fl_after & O_NONBLOCK));
    printf("flag FD_CLOEXEC before=%d after=%d\n", !!(fd_before & FD_CLOEXEC), !!(fd_after & FD_CLOEXEC));
    if (do_bind)
        printf("bound before=%d after=%d\n", bound, local_port(fd));
    if (rc) {
        printf("connect errno=%s\n", strerrorname_np(err));
        return 3;
    }
    fcntl(fd, F_SETFL, fl_after & ~O_NONBLOCK);
    char resp[2048];
    char *body = http_exchange(fd, "/", name, resp, sizeof resp);
    if (!body) {
        printf("connect no-response\n");
        return 3;
    }
    printf("connect body=%s\n", body);
    return 0;
}
