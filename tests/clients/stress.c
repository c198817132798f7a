/* stress: THREADS threads each do ITER lookups + connects, cycling through
 * the given targets, and check which listener answered.
 *
 * usage: stress THREADS ITER [@]NAME:PORT=LISTENER...
 *   e.g. stress 8 200 auth.localhost:80=127.0.0.5:9000 server:9001=127.0.0.5:9001
 *   Each round: getaddrinfo(NAME, NULL, AF_UNSPEC, SOCK_STREAM), connect the
 *   first answer that accepts on PORT, GET /, expect "listener=LISTENER ".
 *   "{}" in NAME is replaced by a number unique to the round, so every round
 *   asks for a new name; a leading "@" also checks that getnameinfo() of the
 *   answer gives NAME back.
 * Output: "ok=N bad=M", then up to 10 "bad ..." lines. exit 0 iff bad=0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client_net.h"

struct spec {
    int reverse;
    char name[256];
    int port;
    char expect[128];
};

static struct spec *specs;
static int nspecs, iters;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int n_ok, n_bad;
static char badlines[10][512];
static unsigned long counter;

static void record(int ok, const char *line)
{
    pthread_mutex_lock(&lock);
    if (ok)
        n_ok++;
    else {
        if (n_bad < 10)
            snprintf(badlines[n_bad], sizeof badlines[n_bad], "%s", line);
        n_bad++;
    }
    pthread_mutex_unlock(&lock);
}

static void one(const struct spec *spec)
{
    char line[512], resp[2048];
    struct spec copy = *spec, *s = &copy;
    char *brace = strstr(spec->name, "{}");
    if (brace) {
        unsigned long n = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
        snprintf(s->name, sizeof s->name, "%.*s%lu%s", (int)(brace - spec->name), spec->name, n, brace + 2);
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(s->name, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(line, sizeof line, "bad %.200s:%d gai rc=%d", s->name, s->port, rc);
        record(0, line);
        return;
    }
    if (s->reverse) {
        char host[NI_MAXHOST];
        int nrc = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, NULL, 0, NI_NAMEREQD);
        if (nrc != 0 || strcasecmp(host, s->name) != 0) {
            snprintf(line, sizeof line, "bad %.200s getnameinfo rc=%d host=%.200s", s->name, nrc,
                     nrc ? "-" : host);
            record(0, line);
            freeaddrinfo(res);
            return;
        }
    }
    char a[INET6_ADDRSTRLEN];
    int err = 0, fd = connect_first(res, s->port, a, sizeof a, &err);
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(line, sizeof line, "bad %.200s:%d connect errno=%d", s->name, s->port, err);
        record(0, line);
        return;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[512];
    int n = snprintf(req, sizeof req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", s->name);
    size_t got = 0;
    ssize_t r;
    if (write(fd, req, n) == n)
        while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
            got += r;
    resp[got] = 0;
    close(fd);
    char want[160];
    snprintf(want, sizeof want, "listener=%s ", s->expect);
    if (strstr(resp, want)) {
        record(1, NULL);
    } else {
        char *body = strstr(resp, "\r\n\r\n");
        body = body ? body + 4 : resp;
        body[strcspn(body, "\r\n")] = 0;
        snprintf(line, sizeof line, "bad %.200s:%d want %.100s got %.150s", s->name, s->port, s->expect, body);
        record(0, line);
    }
}

static void *worker(void *arg)
{
    long t = (long)arg;
    for (int i = 0; i < iters; i++)
        one(&specs[(i + t) % nspecs]);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: stress THREADS ITER NAME:PORT=LISTENER...\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    iters = atoi(argv[2]);
    nspecs = argc - 3;
    specs = calloc(nspecs, sizeof *specs);
    if (!specs || threads < 1 || threads > 64)
        return 2;
    for (int i = 0; i < nspecs; i++) {
        char *eq = strchr(argv[i + 3], '=');
        char *colon = eq ? memrchr(argv[i + 3], ':', eq - argv[i + 3]) : NULL;
        if (!eq || !colon) {
            fprintf(stderr, "stress: bad spec %s\n", argv[i + 3]);
            free(specs);
            return 2;
        }
        const char *name = argv[i + 3];
        if (*name == '@') {
            specs[i].reverse = 1;
            name++;
        }
        snprintf(specs[i].name, sizeof specs[i].name, "%.*s", (int)(colon - name), name);
        specs[i].port = atoi(colon + 1);
        snprintf(specs[i].expect, sizeof specs[i].expect, "%s", eq + 1);
    }
    pthread_t tid[64];
    for (long t = 0; t < threads; t++)
        pthread_create(&tid[t], NULL, worker, (void *)t);
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    printf("ok=%d bad=%d\n", n_ok, n_bad);
    for (int i = 0; i < n_bad && i < 10; i++)
        printf("%s\n", badlines[i]);
    free(specs);
    fflush(stdout);
    return n_bad ? 1 : 0;
}
