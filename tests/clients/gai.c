/* gai: drive getaddrinfo() the way real programs do and print the result.
 *
 * usage: gai [-f unspec|inet|inet6] [-t 0|stream|dgram|raw] [-F flag,...]
 *            [-p PORT] [-c] [-n] [-N LEN] [-r] [-H HOST] NAME [SERVICE]
 *   NAME/SERVICE "-" means NULL; SERVICE omitted means NULL.
 *   flags: canonname v4mapped all numerichost numericserv addrconfig passive,
 *          or a number (e.g. 0x40000000 for an invalid flag)
 *   -c  connect a TCP socket of each result's family to its address (port
 *       from -p when given or when the result's port is 0), send
 *       "GET / HTTP/1.0" with Host: HOST (default NAME), print the body
 *   -n  getnameinfo() of each result, NI_NAMEREQD and NI_NUMERICHOST
 *   -N  host buffer length for -n (default NI_MAXHOST; small -> EAI_OVERFLOW)
 *   -r  gethostbyaddr() and gethostbyaddr_r() of each result
 * Every result is freed with freeaddrinfo().  Output, one item a line:
 *   gai rc=0 | gai rc=EAI_NONAME (text)
 *   ai family=inet socktype=stream protocol=6 addr=A port=P [canon=C]
 *   connect addr=A port=P body=... | connect addr=A port=P errno=ENAME
 * exit: 0 fine, 1 lookup failed, 2 usage, 4 a -c/-n/-r step failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client_net.h"

static const char *eai_name(int rc)
{
    switch (rc) {
    case 0: return "0";
    case EAI_BADFLAGS: return "EAI_BADFLAGS";
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_FAIL: return "EAI_FAIL";
    case EAI_FAMILY: return "EAI_FAMILY";
    case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
    case EAI_SERVICE: return "EAI_SERVICE";
    case EAI_MEMORY: return "EAI_MEMORY";
    case EAI_SYSTEM: return "EAI_SYSTEM";
    case EAI_OVERFLOW: return "EAI_OVERFLOW";
    case EAI_NODATA: return "EAI_NODATA";
    case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
    default: return "EAI_UNKNOWN";
    }
}

static const char *fam_name(int f)
{
    return f == AF_INET ? "inet" : f == AF_INET6 ? "inet6" : f == AF_UNSPEC ? "unspec" : "other";
}

static const char *st_name(int t)
{
    return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" : t == SOCK_RAW ? "raw" : t == 0 ? "0" : "other";
}

static int addr_port(const struct sockaddr *sa, char *buf, size_t len)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)sa;
        inet_ntop(AF_INET, &s->sin_addr, buf, len);
        return ntohs(s->sin_port);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, buf, len);
        return ntohs(s->sin6_port);
    }
    snprintf(buf, len, "?");
    return -1;
}

/* connect + HTTP/1.0 GET; prints one line; returns 0 on success */
static int http_get(const struct sockaddr *sa, socklen_t salen, const char *host)
{
    char a[INET6_ADDRSTRLEN];
    int port = addr_port(sa, a, sizeof a);
    int fd = socket(sa->sa_family, SOCK_STREAM, 0);
    if (fd < 0) {
        printf("connect addr=%s port=%d socket-errno=%s\n", a, port, strerrorname_np(errno));
        return -1;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return connect_and_get(fd, sa, salen, a, port, host);
}

static int parse_flags(char *s)
{
    int f = 0;
    for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
        if (!strcmp(t, "canonname")) f |= AI_CANONNAME;
        else if (!strcmp(t, "v4mapped")) f |= AI_V4MAPPED;
        else if (!strcmp(t, "all")) f |= AI_ALL;
        else if (!strcmp(t, "numerichost")) f |= AI_NUMERICHOST;
        else if (!strcmp(t, "numericserv")) f |= AI_NUMERICSERV;
        else if (!strcmp(t, "addrconfig")) f |= AI_ADDRCONFIG;
        else if (!strcmp(t, "passive")) f |= AI_PASSIVE;
        else if (t[0] >= '0' && t[0] <= '9') f |= (int)strtol(t, NULL, 0);
        else { fprintf(stderr, "gai: bad flag %s\n", t); exit(2); }
    }
    return f;
}

static int reverse(const struct sockaddr *sa, socklen_t salen)
{
    int bad = 0;
    char a[INET6_ADDRSTRLEN];
    addr_port(sa, a, sizeof a);
    const void *raw;
    socklen_t rawlen;
    if (sa->sa_family == AF_INET) {
        raw = &((const struct sockaddr_in *)sa)->sin_addr;
        rawlen = 4;
    } else {
        raw = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        rawlen = 16;
    }
    struct hostent *h = gethostbyaddr(raw, rawlen, sa->sa_family);
    if (h)
        printf("hostbyaddr addr=%s name=%s\n", a, h->h_name);
    else {
        printf("hostbyaddr addr=%s h_errno=%d\n", a, h_errno);
        bad = 1;
    }
    struct hostent he, *res = NULL;
    char buf[8192];
    int herr = 0;
    int rc = gethostbyaddr_r(raw, rawlen, sa->sa_family, &he, buf, sizeof buf, &res, &herr);
    if (rc == 0 && res)
        printf("hostbyaddr_r addr=%s name=%s\n", a, res->h_name);
    else {
        printf("hostbyaddr_r addr=%s rc=%d h_errno=%d\n", a, rc, herr);
        bad = 1;
    }
    (void)salen;
    return bad;
}

static socklen_t hostlen = NI_MAXHOST;

static int nameinfo(const struct sockaddr *sa, socklen_t salen)
{
    int bad = 0;
    char a[INET6_ADDRSTRLEN], host[NI_MAXHOST], serv[NI_MAXSERV];
    addr_port(sa, a, sizeof a);
    int rc = getnameinfo(sa, salen, host, hostlen, serv, sizeof serv, NI_NAMEREQD | NI_NUMERICSERV);
    if (rc == 0)
        printf("nameinfo addr=%s host=%s serv=%s\n", a, host, serv);
    else {
        printf("nameinfo addr=%s rc=%s\n", a, eai_name(rc));
        bad = 1;
    }
    rc = getnameinfo(sa, salen, host, hostlen, NULL, 0, NI_NUMERICHOST);
    if (rc == 0)
        printf("nameinfo-numeric addr=%s host=%s\n", a, host);
    else {
        printf("nameinfo-numeric addr=%s rc=%s\n", a, eai_name(rc));
        bad = 1;
    }
    return bad;
}

int main(int argc, char **argv)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    int opt, port = -1, do_connect = 0, do_ni = 0, do_rev = 0;
    const char *hosthdr = NULL;
    while ((opt = getopt(argc, argv, "f:t:F:p:cnN:rH:")) != -1) {
        switch (opt) {
        case 'f':
            hints.ai_family = !strcmp(optarg, "inet") ? AF_INET : !strcmp(optarg, "inet6") ? AF_INET6 : AF_UNSPEC;
            break;
        case 't':
            hints.ai_socktype = !strcmp(optarg, "stream") ? SOCK_STREAM : !strcmp(optarg, "dgram") ? SOCK_DGRAM
                              : !strcmp(optarg, "raw") ? SOCK_RAW : 0;
            break;
        case 'F': hints.ai_flags = parse_flags(optarg); break;
        case 'p': port = atoi(optarg); break;
        case 'c': do_connect = 1; break;
        case 'n': do_ni = 1; break;
        case 'N':
            hostlen = (socklen_t)atoi(optarg);
            if (hostlen > NI_MAXHOST)
                hostlen = NI_MAXHOST;
            break;
        case 'r': do_rev = 1; break;
        case 'H': hosthdr = optarg; break;
        default:
            fprintf(stderr, "usage: gai [-f fam] [-t type] [-F flags] [-p port] [-c] [-n] [-r] [-H host] NAME [SERVICE]\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "gai: NAME missing\n");
        return 2;
    }
    const char *name = strcmp(argv[optind], "-") ? argv[optind] : NULL;
    const char *service = optind + 1 < argc && strcmp(argv[optind + 1], "-") ? argv[optind + 1] : NULL;
    if (!hosthdr)
        hosthdr = name ? name : "-";

    struct addrinfo *res = NULL;
    errno = 0;
    int rc = getaddrinfo(name, service, &hints, &res);
    if (rc != 0) {
        if (rc == EAI_SYSTEM)
            printf("gai rc=EAI_SYSTEM errno=%s\n", strerrorname_np(errno));
        else
            printf("gai rc=%s (%s)\n", eai_name(rc), gai_strerror(rc));
        fflush(stdout);
        return 1;
    }
    printf("gai rc=0\n");
    int bad = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char a[INET6_ADDRSTRLEN];
        int p = addr_port(ai->ai_addr, a, sizeof a);
        printf("ai family=%s socktype=%s protocol=%d addr=%s port=%d", fam_name(ai->ai_family),
               st_name(ai->ai_socktype), ai->ai_protocol, a, p);
        if (ai->ai_canonname)
            printf(" canon=%s", ai->ai_canonname);
        if (ai->ai_family != ai->ai_addr->sa_family)
            printf(" MISMATCH-sa_family=%d", ai->ai_addr->sa_family);
        printf("\n");
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        struct sockaddr_storage ss;
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        char tmp[INET6_ADDRSTRLEN];
        if (port >= 0 || addr_port(ai->ai_addr, tmp, sizeof tmp) == 0) {
            int pp = port >= 0 ? port : 0;
            if (ss.ss_family == AF_INET)
                ((struct sockaddr_in *)&ss)->sin_port = htons(pp);
            else if (ss.ss_family == AF_INET6)
                ((struct sockaddr_in6 *)&ss)->sin6_port = htons(pp);
        }
        if (do_connect)
            bad |= http_get((struct sockaddr *)&ss, ai->ai_addrlen, hosthdr) != 0;
        if (do_ni)
            bad |= nameinfo((struct sockaddr *)&ss, ai->ai_addrlen);
        if (do_rev)
            bad |= reverse((struct sockaddr *)&ss, ai->ai_addrlen);
    }
    freeaddrinfo(res);
    fflush(stdout);
    return bad ? 4 : 0;
}
