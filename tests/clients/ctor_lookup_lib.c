/* ctor_lookup_lib: a shared object whose constructor resolves and connects,
 * to check that hostshim's hooks work when called from another preloaded
 * library's constructor (possibly before hostshim's own constructor ran).
 *
 * build: cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -shared -fPIC \
 *           -o build/tests/ctor_lookup_lib.so tests/clients/ctor_lookup_lib.c
 * env:   CTOR_LOOKUP_NAME (default auth.localhost), CTOR_LOOKUP_PORT (80)
 * prints on stdout: "ctor: connect addr=A port=P body=BODY" or "ctor: ..."
 * (the Makefile builds every tests/clients/NAME_lib.c as NAME_lib.so) */
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

__attribute__((constructor)) static void ctor_lookup(void)
{
    const char *name = getenv("CTOR_LOOKUP_NAME");
    const char *ports = getenv("CTOR_LOOKUP_PORT");
    int port = ports ? atoi(ports) : 80;
    if (!name)
        name = "auth.localhost";
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0) {
        printf("ctor: gai rc=%d (%s)\n", rc, gai_strerror(rc));
        fflush(stdout);
        return;
    }
    char a[INET6_ADDRSTRLEN] = "?", resp[2048];
    int fd = -1, err = 0;
    fd = connect_first(res, port, a, sizeof a, &err);
    freeaddrinfo(res);
    if (fd < 0) {
        printf("ctor: connect addr=%s port=%d errno=%s\n", a, port, strerrorname_np(err));
        fflush(stdout);
        return;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char *body = http_exchange(fd, "/", name, resp, sizeof resp);
    if (!body)
        body = resp;
    printf("ctor: connect addr=%s port=%d body=%s\n", a, port, body);
    fflush(stdout);
}
