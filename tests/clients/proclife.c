/* proclife: lookups and connects across fork, vfork, posix_spawn and signal
 * handlers.  Every request is an HTTP/1.0 GET; each answer line carries
 * the listener's body, which names the listener and the Host header.
 *
 * usage: proclife MODE ARGS...
 *   fork NAME PORT NAME2
 *       the parent looks NAME up and GETs ("parent: "), then forks; the child
 *       GETs the parent's answer without a lookup ("child-inherited: "), then
 *       looks NAME2 up and GETs ("child-new: "); meanwhile the parent looks
 *       NAME2 up and GETs ("parent-new: ").  Then "child exit=N".
 *   fork-first NAME PORT
 *       forks before any lookup; parent and child each look NAME up and GET.
 *   fork-threads NAME PORT PATTERN COUNT LISTENER
 *       4 threads look up fresh names (PATTERN with {} replaced by a number
 *       below 3000) and connect to PORT; meanwhile the main thread forks COUNT children.
 *       Each child connects to NAME's answer (looked up before the threads
 *       started), looks up a fresh name and connects, checks with
 *       getpeername() that it reached LISTENER (ADDR:PORT), and exits within
 *       10 s (SIGALRM otherwise).  "fork-threads children=N ok=N bad=N
 *       threads-ok=N threads-bad=N".
 *   vfork PROG ARG...  /  spawn PROG ARG...
 *       vfork()+execv(), or posix_spawnp() with this environment; prints
 *       "vfork child exit=N" / "spawn child exit=N".
 *   signal NAME PORT UDPNAME UDPPORT
 *       looks both names up, then raise(SIGALRM); the handler connects a TCP
 *       socket to NAME and GETs ("handler: connect body=...") and sendto()s a
 *       datagram to UDPNAME ("handler: udp reply=...").  Only async-signal-
 *       safe calls in the handler.
 *   signal-during NAME PORT SLOWNAME
 *       looks NAME up, arms a 200 ms timer, then looks SLOWNAME up (a name
 *       whose target answers late): the handler runs while the lookup is
 *       inside the library and GETs NAME's answer; "handler: in-lookup=1 ...".
 *   signal-storm NAME PORT PATTERN COUNT LISTENER
 *       a 1 ms interval timer; the main thread does COUNT lookups of fresh
 *       names while the handler connects to NAME's answer each time and
 *       checks the peer with getpeername().  "storm lookups=N lookup-fail=N
 *       signals=N ok=N bad=N".
 * exit: 0 when every step worked, 3 otherwise, 2 usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- async-signal-safe output -------------------------------------- */

struct buf {
    char text[1024];
    size_t len;
};

static void b_str(struct buf *b, const char *s)
{
    while (*s && b->len < sizeof b->text - 2)
        b->text[b->len++] = *s++;
}

static void b_num(struct buf *b, long v)
{
    char d[24];
    int n = 0;
    if (v < 0) {
        b_str(b, "-");
        v = -v;
    }
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 23);
    while (n && b->len < sizeof b->text - 2)
        b->text[b->len++] = d[--n];
}

static void b_line(struct buf *b)
{
    b->text[b->len++] = '\n';
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(1, b->text + off, b->len - off);
        if (n <= 0 && errno != EINTR)
            break;
        if (n > 0)
            off += (size_t)n;
    }
    b->len = 0;
}

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case EINPROGRESS: return "EINPROGRESS";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    default: return "E?";
    }
}

/* ---- requests, async-signal-safe ----------------------------------- */

static void set_port(struct sockaddr_storage *ss, int port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* connect, GET with Host: host, one line "PREFIXconnect body=..." */
static int get_line(const char *prefix, const struct sockaddr_storage *dst, const char *host)
{
    struct buf b = { .len = 0 };
    char resp[2048];
    b_str(&b, prefix);
    int fd = socket(dst->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)dst, sa_len(dst)) != 0) {
        b_str(&b, "connect errno=");
        b_str(&b, ename(errno));
        b_line(&b);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[300];
    size_t n = 0;
    const char *parts[] = { "GET / HTTP/1.0\r\nHost: ", host, "\r\n\r\n" };
    for (int i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p && n < sizeof req; p++)
            req[n++] = *p;
    size_t got = 0;
    ssize_t r;
    struct pollfd pf = { fd, POLLIN, 0 };
    if (write(fd, req, n) == (ssize_t)n)
        while (got < sizeof resp - 1) {
            if (poll(&pf, 1, 5000) != 1)
                break;
            r = read(fd, resp + got, sizeof resp - 1 - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    close(fd);
    resp[got] = 0;
    char *body = NULL;
    for (size_t i = 0; i + 3 < got; i++)
        if (!memcmp(resp + i, "\r\n\r\n", 4)) {
            body = resp + i + 4;
            break;
        }
    if (!body) {
        b_str(&b, "connect no-response");
        b_line(&b);
        return -1;
    }
    body[strcspn(body, "\r\n")] = 0;
    b_str(&b, "connect body=");
    b_str(&b, body);
    b_line(&b);
    return 0;
}

/* getaddrinfo(name, NULL, AF_UNSPEC, SOCK_STREAM); first answer, port set */
static int lookup(const char *name, int port, struct sockaddr_storage *out)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    memcpy(out, res->ai_addr, res->ai_addrlen);
    set_port(out, port);
    freeaddrinfo(res);
    return 0;
}

static int lookup_get(const char *prefix, const char *name, int port)
{
    struct sockaddr_storage ss;
    int rc = lookup(name, port, &ss);
    if (rc) {
        printf("%sgai rc=%d (%s)\n", prefix, rc, gai_strerror(rc));
        fflush(stdout);
        return -1;
    }
    return get_line(prefix, &ss, name);
}

static int wait_child(const char *what, pid_t pid)
{
    int st = 0;
    if (pid < 0) {
        printf("%s fork errno=%s\n", what, ename(errno));
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st))
        printf("%s child exit=%d\n", what, WEXITSTATUS(st));
    else
        printf("%s child signal=%d\n", what, WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    fflush(stdout);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* ---- fork ------------------------------------------------------------ */

static int mode_fork(char **a)
{
    const char *name = a[0], *name2 = a[2];
    int port = atoi(a[1]), bad = 0;
    struct sockaddr_storage ss;
    if (lookup(name, port, &ss)) {
        printf("parent: gai failed\n");
        return 3;
    }
    bad |= get_line("parent: ", &ss, name);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int cbad = get_line("child-inherited: ", &ss, name);
        cbad |= lookup_get("child-new: ", name2, port);
        fflush(stdout);
        _exit(cbad ? 3 : 0);
    }
    bad |= lookup_get("parent-new: ", name2, port);
    bad |= get_line("parent-again: ", &ss, name);
    bad |= wait_child("fork", pid);
    return bad ? 3 : 0;
}

static int mode_fork_first(char **a)
{
    const char *name = a[0];
    int port = atoi(a[1]), bad = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int cbad = lookup_get("child: ", name, port);
        fflush(stdout);
        _exit(cbad ? 3 : 0);
    }
    bad |= lookup_get("parent: ", name, port);
    bad |= wait_child("fork-first", pid);
    return bad ? 3 : 0;
}

/* ---- fork while threads look names up -------------------------------- */

static const char *pattern;
static int ft_port;
static atomic_int ft_counter, ft_stop, ft_ok, ft_bad;
static struct sockaddr_storage expect_peer;

static void fresh_name(char *out, size_t len)
{
    /* names repeat after 3000: the 65535 synthetic addresses are not the point */
    int n = atomic_fetch_add(&ft_counter, 1) % 3000;
    const char *brace = strstr(pattern, "{}");
    if (brace)
        snprintf(out, len, "%.*s%d%s", (int)(brace - pattern), pattern, n, brace + 2);
    else
        snprintf(out, len, "%s", pattern);
}

/* connect a UDP socket to dst (no packet is sent) and compare getpeername()
 * with expect_peer: where the library sent the connect, cheaply */
static int connect_check(const struct sockaddr_storage *dst)
{
    int fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int ok = -1;
    if (connect(fd, (const struct sockaddr *)dst, sa_len(dst)) == 0) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        memset(&peer, 0, sizeof peer);
        if (getpeername(fd, (struct sockaddr *)&peer, &pl) == 0) {
            /* the expected listener is IPv4; an IPv6 socket sees it v4-mapped */
            const struct sockaddr_in *e = (const struct sockaddr_in *)&expect_peer;
            if (peer.ss_family == AF_INET) {
                const struct sockaddr_in *p = (const struct sockaddr_in *)&peer;
                ok = p->sin_port == e->sin_port && p->sin_addr.s_addr == e->sin_addr.s_addr ? 0 : -1;
            } else if (peer.ss_family == AF_INET6) {
                const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)&peer;
                ok = p->sin6_port == e->sin_port && IN6_IS_ADDR_V4MAPPED(&p->sin6_addr) &&
                     !memcmp(p->sin6_addr.s6_addr + 12, &e->sin_addr, 4) ? 0 : -1;
            }
        }
    }
    close(fd);
    return ok;
}

static void *ft_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&ft_stop)) {
        char name[300];
        struct sockaddr_storage ss;
        fresh_name(name, sizeof name);
        if (lookup(name, ft_port, &ss) == 0 && connect_check(&ss) == 0)
            atomic_fetch_add(&ft_ok, 1);
        else
            atomic_fetch_add(&ft_bad, 1);
    }
    return NULL;
}

static int parse_listener(const char *text, struct sockaddr_storage *out)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || colon - text >= (long)sizeof host)
        return -1;
    memcpy(host, text, colon - text);
    host[colon - text] = 0;
    memset(out, 0, sizeof *out);
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    in->sin_family = AF_INET;
    in->sin_port = htons(atoi(colon + 1));
    return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -1;
}

static int mode_fork_threads(char **a)
{
    const char *name = a[0];
    ft_port = atoi(a[1]);
    pattern = a[2];
    int count = atoi(a[3]);
    if (parse_listener(a[4], &expect_peer)) {
        fprintf(stderr, "proclife: bad LISTENER %s\n", a[4]);
        return 2;
    }
    struct sockaddr_storage known;
    if (lookup(name, ft_port, &known)) {
        printf("gai %s failed\n", name);
        return 3;
    }
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, ft_thread, NULL);
    int ok = 0, bad = 0;
    fflush(stdout);
    for (int i = 0; i < count; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10); /* a deadlock in the child ends as SIGALRM */
            char fresh[300];
            struct sockaddr_storage ss;
            fresh_name(fresh, sizeof fresh);
            int rc = connect_check(&known);
            if (rc == 0)
                rc = lookup(fresh, ft_port, &ss) == 0 && connect_check(&ss) == 0 ? 0 : 1;
            _exit(rc ? 3 : 0);
        }
        int st = 0;
        if (pid < 0) {
            bad++;
            continue;
        }
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            ok++;
        } else {
            bad++;
            if (WIFSIGNALED(st))
                printf("child %d signal=%d\n", i, WTERMSIG(st));
            else
                printf("child %d exit=%d\n", i, WEXITSTATUS(st));
        }
        usleep(2000);
    }
    atomic_store(&ft_stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    printf("fork-threads children=%d ok=%d bad=%d threads-ok=%d threads-bad=%d\n", count, ok, bad,
           atomic_load(&ft_ok), atomic_load(&ft_bad));
    return bad || atomic_load(&ft_bad) || !atomic_load(&ft_ok) ? 3 : 0;
}

/* ---- vfork, posix_spawn ----------------------------------------------- */

static int mode_vfork(char **a)
{
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0) {
        execv(a[0], a);
        _exit(127);
    }
    return wait_child("vfork", pid) ? 3 : 0;
}

static int mode_spawn(char **a)
{
    pid_t pid;
    fflush(stdout);
    int rc = posix_spawnp(&pid, a[0], NULL, NULL, a, environ);
    if (rc) {
        printf("spawn rc=%d\n", rc);
        return 3;
    }
    return wait_child("spawn", pid) ? 3 : 0;
}

/* ---- signal handlers -------------------------------------------------- */

static struct sockaddr_storage h_tcp, h_udp;
static const char *h_name;
static volatile sig_atomic_t in_lookup, handler_runs, handler_bad;

static void udp_in_handler(void)
{
    struct buf b = { .len = 0 };
    b_str(&b, "handler: udp ");
    int fd = socket(h_udp.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, "from-handler", 12, 0, (struct sockaddr *)&h_udp, sa_len(&h_udp)) != 12) {
        b_str(&b, "sendto errno=");
        b_str(&b, ename(errno));
        handler_bad = 1;
    } else {
        struct pollfd p = { fd, POLLIN, 0 };
        char reply[512];
        ssize_t n = poll(&p, 1, 3000) == 1 ? recv(fd, reply, sizeof reply - 1, 0) : -1;
        if (n < 0) {
            b_str(&b, "no-reply");
            handler_bad = 1;
        } else {
            reply[n] = 0;
            b_str(&b, "reply=");
            b_str(&b, reply);
        }
    }
    if (fd >= 0)
        close(fd);
    b_line(&b);
}

static void on_alarm(int sig)
{
    int saved = errno;
    (void)sig;
    handler_runs++;
    struct buf b = { .len = 0 };
    b_str(&b, "handler: in-lookup=");
    b_num(&b, in_lookup);
    b_line(&b);
    if (get_line("handler: ", &h_tcp, h_name))
        handler_bad = 1;
    if (h_udp.ss_family)
        udp_in_handler();
    errno = saved;
}

static int mode_signal(char **a)
{
    h_name = a[0];
    if (lookup(a[0], atoi(a[1]), &h_tcp)) {
        printf("gai %s failed\n", a[0]);
        return 3;
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(a[2], NULL, &hints, &res)) {
        printf("gai %s failed\n", a[2]);
        return 3;
    }
    memcpy(&h_udp, res->ai_addr, res->ai_addrlen);
    set_port(&h_udp, atoi(a[3]));
    freeaddrinfo(res);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    fflush(stdout);
    raise(SIGALRM);
    printf("after-raise runs=%d\n", (int)handler_runs);
    return handler_runs == 1 && !handler_bad ? 0 : 3;
}

static int mode_signal_during(char **a)
{
    h_name = a[0];
    if (lookup(a[0], atoi(a[1]), &h_tcp)) {
        printf("gai %s failed\n", a[0]);
        return 3;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    fflush(stdout);
    struct itimerval it = { { 0, 0 }, { 0, 200000 } };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    in_lookup = 1;
    setitimer(ITIMER_REAL, &it, NULL);
    struct sockaddr_storage slow;
    int rc = lookup(a[2], 80, &slow);
    in_lookup = 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("slow lookup rc=%d ms=%ld runs=%d\n", rc, ms, (int)handler_runs);
    return handler_runs == 1 && !handler_bad && rc == 0 ? 0 : 3;
}

static volatile sig_atomic_t storm_ok, storm_bad;

static void on_storm(int sig)
{
    int saved = errno;
    (void)sig;
    handler_runs++;
    if (connect_check(&h_tcp) == 0)
        storm_ok++;
    else
        storm_bad++;
    errno = saved;
}

static int mode_signal_storm(char **a)
{
    int port = atoi(a[1]);
    pattern = a[2];
    int count = atoi(a[3]);
    if (parse_listener(a[4], &expect_peer)) {
        fprintf(stderr, "proclife: bad LISTENER %s\n", a[4]);
        return 2;
    }
    if (lookup(a[0], port, &h_tcp)) {
        printf("gai %s failed\n", a[0]);
        return 3;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_storm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    int fails = 0;
    for (int i = 0; i < count; i++) {
        char name[300];
        struct sockaddr_storage ss;
        fresh_name(name, sizeof name);
        if (lookup(name, port, &ss))
            fails++;
    }
    /* make sure the handler also ran after the last lookup */
    while (handler_runs < 20)
        pause();
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    printf("storm lookups=%d lookup-fail=%d signals=%d ok=%d bad=%d\n", count, fails, (int)handler_runs,
           (int)storm_ok, (int)storm_bad);
    return fails || storm_bad || !storm_ok ? 3 : 0;
}

int main(int argc, char **argv)
{
    static const struct { const char *mode; int nargs; int (*fn)(char **); } modes[] = {
        { "fork", 3, mode_fork },
        { "fork-first", 2, mode_fork_first },
        { "fork-threads", 5, mode_fork_threads },
        { "vfork", -1, mode_vfork },
        { "spawn", -1, mode_spawn },
        { "signal", 4, mode_signal },
        { "signal-during", 3, mode_signal_during },
        { "signal-storm", 5, mode_signal_storm },
    };
    if (argc >= 2)
        for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
            if (!strcmp(argv[1], modes[i].mode) &&
                (modes[i].nargs < 0 ? argc >= 3 : argc == 2 + modes[i].nargs)) {
                int rc = modes[i].fn(argv + 2);
                fflush(stdout);
                return rc;
            }
    fprintf(stderr, "usage: proclife fork|fork-first|fork-threads|vfork|spawn|signal|signal-during|"
                    "signal-storm ARGS... (see the top of proclife.c)\n");
    return 2;
}
