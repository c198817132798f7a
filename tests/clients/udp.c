/* udp: send one datagram to NAME:PORT and print the reply.
 *
 * usage: udp [-f unspec|inet|inet6] MODE NAME PORT [MESSAGE]
 *   MODE: connect-send  connect(), then send()
 *         connect-write connect(), then write()
 *         sendto        sendto() with the destination
 *         sendmsg       sendmsg() with msg_name set
 *   NAME is resolved with getaddrinfo(NAME, NULL, SOCK_DGRAM); first answer.
 * Output: "reply from=A:P data=..." or "send errno=E" / "reply timeout".
 * exit: 0 a reply came, 1 lookup failed, 2 usage, 3 send/recv failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int opt, family = AF_UNSPEC;
    while ((opt = getopt(argc, argv, "f:")) != -1) {
        if (opt == 'f')
            family = !strcmp(optarg, "inet") ? AF_INET : !strcmp(optarg, "inet6") ? AF_INET6 : AF_UNSPEC;
        else
            return 2;
    }
    if (argc - optind < 3) {
        fprintf(stderr, "usage: udp [-f fam] MODE NAME PORT [MESSAGE]\n");
        return 2;
    }
    const char *mode = argv[optind], *name = argv[optind + 1];
    int port = atoi(argv[optind + 2]);
    const char *msg = argc - optind > 3 ? argv[optind + 3] : "ping";

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0) {
        printf("gai rc=%d (%s)\n", rc, gai_strerror(rc));
        return 1;
    }
    struct sockaddr_storage dst;
    socklen_t dlen = res->ai_addrlen;
    memcpy(&dst, res->ai_addr, dlen);
    freeaddrinfo(res);
    if (dst.ss_family == AF_INET)
        ((struct sockaddr_in *)&dst)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&dst)->sin6_port = htons(port);

    int fd = socket(dst.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return 3;
    ssize_t n = -1;
    size_t len = strlen(msg);
    if (!strcmp(mode, "connect-send") || !strcmp(mode, "connect-write")) {
        if (connect(fd, (struct sockaddr *)&dst, dlen) != 0) {
            printf("connect errno=%s\n", strerrorname_np(errno));
            close(fd);
            return 3;
        }
        n = mode[8] == 's' ? send(fd, msg, len, 0) : write(fd, msg, len);
    } else if (!strcmp(mode, "sendto")) {
        n = sendto(fd, msg, len, 0, (struct sockaddr *)&dst, dlen);
    } else if (!strcmp(mode, "sendmsg")) {
        struct iovec iov = { (void *)msg, len };
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        mh.msg_name = &dst;
        mh.msg_namelen = dlen;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        n = sendmsg(fd, &mh, 0);
    } else {
        fprintf(stderr, "udp: unknown mode %s\n", mode);
        close(fd);
        return 2;
    }
    if (n != (ssize_t)len) {
        printf("send errno=%s\n", strerrorname_np(errno));
        close(fd);
        return 3;
    }
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, 3000) != 1) {
        printf("reply timeout\n");
        close(fd);
        return 3;
    }
    char buf[2048], a[INET6_ADDRSTRLEN];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    n = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &flen);
    close(fd);
    if (n < 0) {
        printf("recv errno=%s\n", strerrorname_np(errno));
        return 3;
    }
    buf[n] = 0;
    int fport;
    if (from.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, a, sizeof a);
        fport = ntohs(((struct sockaddr_in *)&from)->sin_port);
    } else {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, a, sizeof a);
        fport = ntohs(((struct sockaddr_in6 *)&from)->sin6_port);
    }
    printf("reply from=%s:%d data=%s\n", a, fport, buf);
    fflush(stdout);
    return 0;
}
