/* ghbn: drive the gethostbyname family and print the hostent.
 *
 * usage: ghbn [-c PORT] [-r] [-b SIZE] MODE NAME
 *   MODE: gethostbyname gethostbyname2-inet gethostbyname2-inet6
 *         gethostbyname_r gethostbyname2_r-inet gethostbyname2_r-inet6
 *   -c PORT  connect a TCP socket to each address on PORT, send
 *            "GET / HTTP/1.0" with Host: NAME, print the body
 *   -r       gethostbyaddr() of each address
 *   -b SIZE  buffer size for the _r modes (default 16384; small -> ERANGE)
 * Output: "ok name=N type=inet len=4", "alias=A"..., "addr=A"...,
 *         or "error h_errno=HOST_NOT_FOUND rc=R"; then the -c/-r lines.
 * exit: 0 fine, 1 lookup failed, 2 usage, 4 a -c/-r step failed. */
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

static const char *herr_name(int e)
{
    switch (e) {
    case 0: return "0";
    case HOST_NOT_FOUND: return "HOST_NOT_FOUND";
    case TRY_AGAIN: return "TRY_AGAIN";
    case NO_RECOVERY: return "NO_RECOVERY";
    case NO_DATA: return "NO_DATA";
    case NETDB_INTERNAL: return "NETDB_INTERNAL";
    default: return "UNKNOWN";
    }
}

static int http_get(int af, const void *raw, int port, const char *host)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char a[INET6_ADDRSTRLEN];
    memset(&ss, 0, sizeof ss);
    inet_ntop(af, raw, a, sizeof a);
    if (af == AF_INET) {
        struct sockaddr_in *s = (void *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        memcpy(&s->sin_addr, raw, 4);
        len = sizeof *s;
    } else {
        struct sockaddr_in6 *s = (void *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        memcpy(&s->sin6_addr, raw, 16);
        len = sizeof *s;
    }
    int fd = socket(af, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return connect_and_get(fd, (struct sockaddr *)&ss, len, a, port, host);
}

int main(int argc, char **argv)
{
    int opt, port = -1, rev = 0;
    size_t bufsize = 16384;
    while ((opt = getopt(argc, argv, "c:rb:")) != -1) {
        if (opt == 'c')
            port = atoi(optarg);
        else if (opt == 'b')
            bufsize = (size_t)atoi(optarg);
        else if (opt == 'r')
            rev = 1;
        else
            return 2;
    }
    if (optind + 2 != argc) {
        fprintf(stderr, "usage: ghbn [-c PORT] [-r] [-b SIZE] MODE NAME\n");
        return 2;
    }
    const char *mode = argv[optind], *name = argv[optind + 1];
    struct hostent *h = NULL, he;
    static char buf[16384];
    if (bufsize > sizeof buf)
        bufsize = sizeof buf;
    int herr = 0, rc = 0;

    if (!strcmp(mode, "gethostbyname")) {
        h = gethostbyname(name);
        herr = h_errno;
    } else if (!strcmp(mode, "gethostbyname2-inet")) {
        h = gethostbyname2(name, AF_INET);
        herr = h_errno;
    } else if (!strcmp(mode, "gethostbyname2-inet6")) {
        h = gethostbyname2(name, AF_INET6);
        herr = h_errno;
    } else if (!strcmp(mode, "gethostbyname_r")) {
        rc = gethostbyname_r(name, &he, buf, bufsize, &h, &herr);
    } else if (!strcmp(mode, "gethostbyname2_r-inet")) {
        rc = gethostbyname2_r(name, AF_INET, &he, buf, bufsize, &h, &herr);
    } else if (!strcmp(mode, "gethostbyname2_r-inet6")) {
        rc = gethostbyname2_r(name, AF_INET6, &he, buf, bufsize, &h, &herr);
    } else {
        fprintf(stderr, "ghbn: unknown mode %s\n", mode);
        return 2;
    }
    if (!h) {
        printf("error h_errno=%s rc=%d\n", herr_name(herr), rc);
        fflush(stdout);
        return 1;
    }
    printf("ok name=%s type=%s len=%d\n", h->h_name,
           h->h_addrtype == AF_INET ? "inet" : h->h_addrtype == AF_INET6 ? "inet6" : "other", h->h_length);
    for (char **al = h->h_aliases; al && *al; al++)
        printf("alias=%s\n", *al);
    /* copy the addresses: later calls may overwrite the static hostent */
    char addrs[16][16];
    int naddr = 0, af = h->h_addrtype, alen = h->h_length;
    for (char **ad = h->h_addr_list; *ad && naddr < 16; ad++, naddr++) {
        char a[INET6_ADDRSTRLEN];
        memcpy(addrs[naddr], *ad, alen);
        inet_ntop(af, *ad, a, sizeof a);
        printf("addr=%s\n", a);
    }
    int bad = 0;
    for (int i = 0; i < naddr; i++) {
        if (port >= 0)
            bad |= http_get(af, addrs[i], port, name) != 0;
        if (rev) {
            char a[INET6_ADDRSTRLEN];
            inet_ntop(af, addrs[i], a, sizeof a);
            struct hostent *r = gethostbyaddr(addrs[i], alen, af);
            if (r)
                printf("hostbyaddr addr=%s name=%s\n", a, r->h_name);
            else {
                printf("hostbyaddr addr=%s h_errno=%s\n", a, herr_name(h_errno));
                bad = 1;
            }
        }
    }
    fflush(stdout);
    return bad ? 4 : 0;
}
