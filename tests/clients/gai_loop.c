/* gai_loop: COUNT rounds of getaddrinfo + freeaddrinfo over the given names,
 * cycling through a few hint combinations; for valgrind runs.
 *
 * usage: gai_loop COUNT NAME...
 * Output: "rounds=N ok=N fail=N". exit 0. */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gai_loop COUNT NAME...\n");
        return 2;
    }
    static const struct { int family, socktype, flags; const char *service; } hv[] = {
        { AF_UNSPEC, SOCK_STREAM, AI_ADDRCONFIG, NULL },
        { AF_INET, 0, AI_CANONNAME, "80" },
        { AF_INET6, SOCK_STREAM, AI_V4MAPPED, "https" },
        { AF_UNSPEC, 0, AI_CANONNAME, NULL },
    };
    int count = atoi(argv[1]), names = argc - 2, ok = 0, fail = 0;
    for (int i = 0; i < count; i++) {
        const char *name = argv[2 + i % names];
        int h = (i / names) % 4;
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = hv[h].family;
        hints.ai_socktype = hv[h].socktype;
        hints.ai_flags = hv[h].flags;
        if (getaddrinfo(name, hv[h].service, &hints, &res) == 0) {
            ok++;
            freeaddrinfo(res);
        } else {
            fail++;
        }
    }
    printf("rounds=%d ok=%d fail=%d\n", count, ok, fail);
    return 0;
}
