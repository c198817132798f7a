/* resolver_lib: a shared object that resolves names, for a program to
 * dlopen() at run time (tests/clients/dl_resolve.c): its getaddrinfo and
 * connect calls are bound when it is loaded, after hostshim was preloaded.
 *
 * int resolver_get(const char *name, int port, char *out, size_t len)
 *     getaddrinfo(name, NULL, AF_UNSPEC, SOCK_STREAM), connect to the first
 *     answer that accepts on port, "GET / HTTP/1.0" with Host: name; writes
 *     "addr=A body=BODY" (or "gai rc=N", "connect errno=N") to out.
 *     Returns 0 when a body came back.
 * int resolver_hostbyname(const char *name, char *out, size_t len)
 *     gethostbyname_r(name) and getnameinfo() of its first address; writes
 *     "addr=A back=NAME".  Returns 0 on success.
 * (the Makefile builds every tests/clients/NAME_lib.c as NAME_lib.so) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client_net.h"

__attribute__((visibility("default"))) int resolver_get(const char *name, int port, char *out, size_t len)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc) {
        snprintf(out, len, "gai rc=%d", rc);
        return -1;
    }
    char a[INET6_ADDRSTRLEN] = "?";
    int fd = -1, err = 0;
    fd = connect_first(res, port, a, sizeof a, &err);
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(out, len, "addr=%s connect errno=%d", a, err);
        return -1;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char resp[2048];
    char *body = http_exchange(fd, "/", name, resp, sizeof resp);
    if (!body) {
        snprintf(out, len, "addr=%s no-response", a);
        return -1;
    }
    snprintf(out, len, "addr=%s body=%s", a, body);
    return 0;
}

__attribute__((visibility("default"))) int resolver_hostbyname(const char *name, char *out, size_t len)
{
    struct hostent he, *h = NULL;
    char buf[4096], a[INET_ADDRSTRLEN], back[NI_MAXHOST];
    int herr = 0;
    if (gethostbyname_r(name, &he, buf, sizeof buf, &h, &herr) || !h || h->h_addrtype != AF_INET) {
        snprintf(out, len, "gethostbyname_r h_errno=%d", herr);
        return -1;
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, h->h_addr_list[0], 4);
    inet_ntop(AF_INET, &sin.sin_addr, a, sizeof a);
    int rc = getnameinfo((struct sockaddr *)&sin, sizeof sin, back, sizeof back, NULL, 0, NI_NAMEREQD);
    snprintf(out, len, "addr=%s back=%s", a, rc ? gai_strerror(rc) : back);
    return rc ? -1 : 0;
}
