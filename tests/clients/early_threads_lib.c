/* early_threads_lib: a preloaded shared object whose constructor starts
 * threads that resolve and connect at once, so that threads exist and call
 * hostshim's hooks while the libraries are still being initialised (maybe
 * before hostshim's own constructor ran, depending on the LD_PRELOAD order),
 * and race each other to load its configuration.  The constructor joins
 * them before it returns.
 *
 * env: EARLY_NAME (default auth.localhost), EARLY_PORT (80),
 *      EARLY_THREADS (4, at most 32)
 * prints on stdout: "early tN: body=BODY" or "early tN: gai rc=N" /
 * "early tN: connect errno=N"
 * (the Makefile builds every tests/clients/NAME_lib.c as NAME_lib.so) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *name;
static int port;
static pthread_barrier_t start;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void report(long id, const char *text)
{
    pthread_mutex_lock(&out_lock);
    printf("early t%ld: %s\n", id, text);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void *early(void *arg)
{
    long id = (long)(intptr_t)arg;
    char line[2100], resp[2048];
    pthread_barrier_wait(&start);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc) {
        snprintf(line, sizeof line, "gai rc=%d", rc);
        report(id, line);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t len = res->ai_addrlen;
    memcpy(&ss, res->ai_addr, len);
    freeaddrinfo(res);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
        snprintf(line, sizeof line, "connect errno=%d", errno);
        report(id, line);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[512];
    int n = snprintf(req, sizeof req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", name);
    size_t got = 0;
    ssize_t r;
    if (write(fd, req, n) == n)
        while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
            got += (size_t)r;
    resp[got] = 0;
    close(fd);
    char *body = strstr(resp, "\r\n\r\n");
    body = body ? body + 4 : resp;
    body[strcspn(body, "\r\n")] = 0;
    snprintf(line, sizeof line, "body=%s", body);
    report(id, line);
    return NULL;
}

__attribute__((constructor)) static void start_early_threads(void)
{
    const char *ports = getenv("EARLY_PORT"), *count = getenv("EARLY_THREADS");
    name = getenv("EARLY_NAME");
    if (!name)
        name = "auth.localhost";
    port = ports ? atoi(ports) : 80;
    int n = count ? atoi(count) : 4;
    if (n < 1 || n > 32)
        n = 4;
    pthread_t th[32];
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (long i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, early, (void *)(intptr_t)i)) {
            report(i, "pthread_create failed");
            return;
        }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
}
