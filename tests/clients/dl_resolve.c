/* dl_resolve: dlopen() a library that resolves names (resolver_lib.so) at
 * run time and call it, from the main thread and from threads.
 *
 * usage: dl_resolve MODE LIB NAME PORT [THREADS]
 *   main     dlopen, resolver_get + resolver_hostbyname, dlclose
 *   before   THREADS threads (default 4) start first and wait at a barrier;
 *            then the main thread dlopens LIB and releases them: the first
 *            lookups of the process run in the threads, all at once
 *   after    the main thread dlopens LIB and calls it first, then the threads
 *   each     every thread dlopens LIB itself, calls it and dlcloses it
 *   reopen   dlopen, call, dlclose, three times over
 * Output: "TAG get addr=A body=BODY" and "TAG hostbyname addr=A back=NAME",
 * TAG "main" or "tN"; "dlopen error=..." when LIB does not load.
 * exit: 0 every call worked, 3 otherwise, 2 usage. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*get_fn)(const char *, int, char *, size_t);
typedef int (*hbn_fn)(const char *, char *, size_t);

static const char *lib, *name;
static int port;
static atomic_int bad;
static pthread_barrier_t barrier;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static void *shared_handle;

static void *open_lib(void)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen error=%s\n", dlerror());
        fflush(stdout);
        atomic_fetch_add(&bad, 1);
    }
    return h;
}

static void call(void *h, const char *tag)
{
    char out[1024], out2[1024];
    get_fn get = h ? (get_fn)dlsym(h, "resolver_get") : NULL;
    hbn_fn hbn = h ? (hbn_fn)dlsym(h, "resolver_hostbyname") : NULL;
    if (!get || !hbn) {
        atomic_fetch_add(&bad, 1);
        return;
    }
    int rc = get(name, port, out, sizeof out);
    rc |= hbn(name, out2, sizeof out2);
    if (rc)
        atomic_fetch_add(&bad, 1);
    pthread_mutex_lock(&out_lock);
    printf("%s get %s\n%s hostbyname %s\n", tag, out, tag, out2);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void *thread_shared(void *arg)
{
    char tag[16];
    snprintf(tag, sizeof tag, "t%ld", (long)(intptr_t)arg);
    pthread_barrier_wait(&barrier);
    call(shared_handle, tag);
    return NULL;
}

static void *thread_own(void *arg)
{
    char tag[16];
    snprintf(tag, sizeof tag, "t%ld", (long)(intptr_t)arg);
    pthread_barrier_wait(&barrier);
    void *h = open_lib();
    call(h, tag);
    if (h)
        dlclose(h);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: dl_resolve main|before|after|each|reopen LIB NAME PORT [THREADS]\n");
        return 2;
    }
    const char *mode = argv[1];
    lib = argv[2];
    name = argv[3];
    port = atoi(argv[4]);
    int n = argc > 5 ? atoi(argv[5]) : 4;
    if (n < 1 || n > 64)
        return 2;
    pthread_t th[64];
    if (!strcmp(mode, "main") || !strcmp(mode, "reopen")) {
        for (int i = 0; i < (mode[0] == 'r' ? 3 : 1); i++) {
            void *h = open_lib();
            call(h, "main");
            if (h)
                dlclose(h);
        }
    } else if (!strcmp(mode, "before") || !strcmp(mode, "after")) {
        int before = mode[0] == 'b';
        pthread_barrier_init(&barrier, NULL, (unsigned)n + (before ? 1 : 0));
        if (before)
            for (long i = 0; i < n; i++)
                pthread_create(&th[i], NULL, thread_shared, (void *)(intptr_t)i);
        shared_handle = open_lib();
        if (!before) {
            call(shared_handle, "main");
            for (long i = 0; i < n; i++)
                pthread_create(&th[i], NULL, thread_shared, (void *)(intptr_t)i);
        } else {
            pthread_barrier_wait(&barrier);
        }
        for (int i = 0; i < n; i++)
            pthread_join(th[i], NULL);
        if (shared_handle)
            dlclose(shared_handle);
    } else if (!strcmp(mode, "each")) {
        pthread_barrier_init(&barrier, NULL, (unsigned)n);
        for (long i = 0; i < n; i++)
            pthread_create(&th[i], NULL, thread_own, (void *)(intptr_t)i);
        for (int i = 0; i < n; i++)
            pthread_join(th[i], NULL);
    } else {
        fprintf(stderr, "dl_resolve: unknown mode %s\n", mode);
        return 2;
    }
    return atomic_load(&bad) ? 3 : 0;
}
