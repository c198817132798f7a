/* fd2: a program that closes or reuses file descriptor 2 (stderr) and then
 * makes the library want to warn, at lookup time and at connect time.
 *
 * usage: fd2 MODE NAME PORT BADNAME PORTONLY
 *   MODE  keep       leave fd 2 as it is (it may have been closed by the
 *                    parent: then the first socket below takes fd 2)
 *         closed     close(2) first
 *         file:PATH  open PATH (create, truncate) onto fd 2
 *         socket     close(2), then a socketpair whose first end is fd 2;
 *                    what arrives at the other end is printed at the end
 *   Steps, one output line each:
 *   1. "request fd=N body=BODY": look NAME up, connect a TCP socket on PORT
 *      (with fd 2 closed it becomes fd 2), look BADNAME up (a name whose
 *      target does not resolve: a lookup-time warning) *before* sending the
 *      GET, then send "GET / HTTP/1.0" with Host: NAME and read the body.
 *   2. "bad gai rc=N": the BADNAME lookup's result.
 *   3. "portonly errno=E": look PORTONLY up (a name with a port-specific
 *      rule only and no address of its own) and connect to PORT, which no
 *      rule takes: the connect fails with EHOSTUNREACH and a connect-time
 *      warning; errno must still say EHOSTUNREACH.
 *   4. "fd2 bytes=N hostshim-lines=N" (socket mode): what reached fd 2.
 * exit: 0 when the request got a body and nothing crashed, 3 otherwise. */
#define _GNU_SOURCE
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
#include <unistd.h>

static int lookup(const char *name, int port, struct sockaddr_storage *out, socklen_t *len)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc)
        return rc;
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    ((struct sockaddr_in *)out)->sin_port = htons(port);
    freeaddrinfo(res);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: fd2 MODE NAME PORT BADNAME PORTONLY\n");
        return 2;
    }
    const char *mode = argv[1], *name = argv[2], *bad = argv[4], *portonly = argv[5];
    int port = atoi(argv[3]), other = -1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "closed")) {
        close(2);
    } else if (!strncmp(mode, "file:", 5)) {
        int fd = open(mode + 5, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 2) != 2)
            return 3;
        if (fd != 2)
            close(fd);
    } else if (!strcmp(mode, "socket")) {
        int sv[2];
        close(2);
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || sv[0] != 2) {
            printf("socketpair did not land on fd 2\n");
            return 3;
        }
        other = sv[1];
    } else if (strcmp(mode, "keep")) {
        fprintf(stderr, "fd2: unknown mode %s\n", mode);
        return 2;
    }

    int ok = 0;
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = lookup(name, port, &ss, &len);
    int badrc = -1;
    if (rc) {
        printf("request gai rc=%d\n", rc);
    } else {
        int fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len)) {
            printf("request fd=%d connect errno=%s\n", fd, strerrorname_np(errno));
        } else {
            struct sockaddr_storage dummy;
            socklen_t dlen;
            badrc = lookup(bad, port, &dummy, &dlen); /* warns, fd 2 may be our socket */
            struct timeval tv = { 5, 0 };
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            char req[512], resp[4096];
            int n = snprintf(req, sizeof req, "GET /fd2 HTTP/1.0\r\nHost: %s\r\n\r\n", name);
            size_t got = 0;
            ssize_t r;
            if (write(fd, req, n) == n)
                while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
                    got += (size_t)r;
            resp[got] = 0;
            char *body = strstr(resp, "\r\n\r\n");
            if (body) {
                body += 4;
                body[strcspn(body, "\r\n")] = 0;
                printf("request fd=%d body=%s\n", fd, body);
                ok = 1;
            } else {
                printf("request fd=%d no-response\n", fd);
            }
        }
        if (fd >= 0)
            close(fd);
    }
    if (badrc == -1) {
        struct sockaddr_storage dummy;
        socklen_t dlen;
        badrc = lookup(bad, port, &dummy, &dlen);
    }
    printf("bad gai rc=%d\n", badrc);

    if (lookup(portonly, port, &ss, &len)) {
        printf("portonly gai failed\n");
        ok = 0;
    } else {
        int fd = socket(ss.ss_family, SOCK_STREAM, 0);
        errno = 0;
        int c = connect(fd, (struct sockaddr *)&ss, len);
        printf("portonly errno=%s\n", c ? strerrorname_np(errno) : "0");
        close(fd);
    }

    if (other >= 0) {
        char buf[8192];
        size_t got = 0;
        ssize_t r;
        struct pollfd p = { other, POLLIN, 0 };
        while (got < sizeof buf - 1 && poll(&p, 1, 0) == 1 && (r = read(other, buf + got, sizeof buf - 1 - got)) > 0)
            got += (size_t)r;
        buf[got] = 0;
        int lines = 0;
        for (char *s = buf; (s = strstr(s, "hostshim: ")); s++)
            lines++;
        printf("fd2 bytes=%zu hostshim-lines=%d\n", got, lines);
    }
    return ok ? 0 : 3;
}
