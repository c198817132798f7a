/* mem_one: what a process that loaded the library and did one lookup
 * commits (issue 14 item 6: 200 processes under strict overcommit).
 *
 * usage: mem_one NAME
 * Output: "gai rc=N vmdata_kb=D vmrss_kb=R" (VmData and VmRSS of
 * /proc/self/status after one getaddrinfo of NAME). exit: 0, 2 usage. */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <string.h>

static long status_kb(const char *key)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)))
            sscanf(line + strlen(key), " %ld", &kb);
    if (f)
        fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(argv[1], NULL, &hints, &res);
    if (!rc)
        freeaddrinfo(res);
    printf("gai rc=%d vmdata_kb=%ld vmrss_kb=%ld\n", rc, status_kb("VmData:"), status_kb("VmRSS:"));
    return 0;
}
