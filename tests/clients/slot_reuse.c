/* slot_reuse: a long-running server under a wildcard rule that looks up
 * more names than there are slots, so that a synthetic address handed out
 * for one name is reused for another (issue 14 item 6).
 *
 * usage: slot_reuse FIRST FORMAT COUNT LAST PORT
 *   looks up FIRST, then FORMAT (one %ld) for 0..COUNT-1, then LAST, each
 *   with getaddrinfo(AF_INET, SOCK_STREAM, service NULL), as Node does;
 *   then connects to LAST's answer on PORT and GETs / with LAST in the
 *   Host header.
 * Output: "first name=FIRST addr=A", "fill failed=F", "last name=LAST
 *   addr=A", then "get addr=A body=BODY" or "get addr=A connect
 *   errno=ENAME", or "last gai rc=N".
 * exit: 0 the GET got a body, 3 otherwise, 2 usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client_net.h"

static int lookup(const char *name, struct sockaddr_in *out)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc)
        return rc;
    memcpy(out, res->ai_addr, sizeof *out);
    freeaddrinfo(res);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    long count = atol(argv[3]), failed = 0;
    const char *last = argv[4];
    int port = atoi(argv[5]);
    struct sockaddr_in sa;
    char a[INET_ADDRSTRLEN] = "?", name[256] = "", resp[2048];
    if (lookup(argv[1], &sa) == 0)
        inet_ntop(AF_INET, &sa.sin_addr, a, sizeof a);
    printf("first name=%s addr=%s\n", argv[1], a);
    for (long i = 0; i < count; i++) {
        snprintf(name, sizeof name, argv[2], i);
        failed += lookup(name, &sa) != 0;
    }
    printf("fill failed=%ld\n", failed);
    snprintf(name, sizeof name, "%s", last);
    int rc = lookup(name, &sa);
    if (rc) {
        printf("last gai rc=%d\n", rc);
        return 3;
    }
    inet_ntop(AF_INET, &sa.sin_addr, a, sizeof a);
    printf("last name=%s addr=%s\n", name, a);
    sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        printf("get addr=%s connect errno=%s\n", a, strerrorname_np(errno));
        return 3;
    }
    char *body = http_exchange(fd, "/", name, resp, sizeof resp);
    printf("get addr=%s body=%s\n", a, body ? body : "(none)");
    return body ? 0 : 3;
}
