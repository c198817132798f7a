/* getaddrinfo_a: glibc's asynchronous lookups answer like getaddrinfo.
 *
 * glibc runs each request on a thread of its own that calls its internal
 * alias of getaddrinfo, which no preload can stand in front of. So the
 * requests are run here instead: on threads of ours, each calling the
 * hooked getaddrinfo (a mapped name gets its synthetic addresses, any other
 * name libc's answer), and completed as glibc would: __return set (what
 * gai_error reads), then the notification the caller asked for once the
 * whole list is done (SIGEV_SIGNAL, SIGEV_THREAD), and gai_suspend woken.
 * GAI_NOWAIT returns at once: no DNS on the caller's thread. gai_suspend,
 * gai_error and gai_cancel are ours too, since the requests are not in
 * glibc's own queue. Every request of the process comes here, mapped or
 * not, so that one list never mixes the two implementations.
 *
 * Waiting (GAI_WAIT, gai_suspend) is on a futex that counts completions:
 * a signal interrupts gai_suspend with EAI_INTR, as glibc's does, and no
 * lock is held while waiting.
 *
 * Threads: at most WORKERS of ours at once, started on need with every
 * signal blocked (the program's signals are for its threads), detached,
 * gone when the queue is empty. pthread_create is found at run time: on
 * glibc before 2.34 it is in libpthread, which a program calling
 * getaddrinfo_a has loaded (through libanl), and the library must load
 * in programs that have not. Without it requests run on the caller's
 * thread.
 *
 * glibc only: musl has no getaddrinfo_a. */
#define _GNU_SOURCE
#include <netdb.h>

#if defined(__GLIBC__) && defined(GAI_NOWAIT)
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* As in real.c: the pre-2.34 version, so the library loads on older glibc. */
#if defined(__x86_64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.17");
#endif

#define WORKERS 8

/* The requests of one getaddrinfo_a call: notified when all are done. */
struct batch {
	unsigned left;
	bool waiter; /* GAI_WAIT: the caller waits, and frees the batch */
	bool notify; /* GAI_NOWAIT with a notification */
	struct sigevent sev;
};

struct job {
	struct gaicb *cb;
	struct batch *batch;
	bool running;
	struct job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct job *jobs; /* queued and running, oldest first */
static unsigned workers;
static _Atomic int completions; /* the futex: moves on each completion */

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *,
			 void *(*)(void *), void *);

static create_fn thread_create(void)
{
	static _Atomic(create_fn) fn;
	create_fn f = atomic_load_explicit(&fn, memory_order_acquire);
	if (!f) {
		f = (create_fn)dlsym(RTLD_DEFAULT, "pthread_create");
		atomic_store_explicit(&fn, f, memory_order_release);
	}
	return f;
}

/* ---- waiting -------------------------------------------------------- */

static void completed(void)
{
	atomic_fetch_add_explicit(&completions, 1, memory_order_release);
	syscall(SYS_futex, &completions, FUTEX_WAKE_PRIVATE, INT_MAX, NULL,
		NULL, 0);
}

/* Waits until `seen` is not the count any more, a signal, or `deadline`
 * (CLOCK_MONOTONIC; NULL: none). Returns 0, EINTR or ETIMEDOUT. */
static int wait_completion(int seen, const struct timespec *deadline)
{
	struct timespec left, now;
	if (deadline) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline->tv_sec - now.tv_sec;
		left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000;
			left.tv_sec--;
		}
		if (left.tv_sec < 0)
			return ETIMEDOUT;
	}
	if (syscall(SYS_futex, &completions, FUTEX_WAIT_PRIVATE, seen,
		    deadline ? &left : NULL, NULL, 0) == -1 &&
	    (errno == EINTR || errno == ETIMEDOUT))
		return errno;
	return 0;
}

static int request_state(const struct gaicb *cb)
{
	return __atomic_load_n(&cb->__return, __ATOMIC_ACQUIRE);
}

/* ---- notifying ------------------------------------------------------ */

struct call {
	void (*fn)(union sigval);
	union sigval value;
};

static void *notify_thread(void *arg)
{
	struct call c = *(struct call *)arg;
	sigset_t none;
	free(arg);
	/* Started with every signal blocked (see start_thread); glibc runs the
	 * callback with none blocked. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* this thread's: pthread_sigmask
						 * is libpthread's before 2.32 */
	c.fn(c.value);
	return NULL;
}

static void start_thread(void *(*fn)(void *), void *arg,
			 const pthread_attr_t *attr_in, bool *started)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	create_fn create = thread_create();
	*started = false;
	if (!create)
		return;
	if (!attr_in) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	*started = create(&t, attr_in ? attr_in : &attr, fn, arg) == 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!attr_in)
		pthread_attr_destroy(&attr);
}

/* The caller's notification, once its whole list is done. */
static void notify(const struct sigevent *sev)
{
	if (sev->sigev_notify == SIGEV_SIGNAL) {
		sigqueue(getpid(), sev->sigev_signo, sev->sigev_value);
	} else if (sev->sigev_notify == SIGEV_THREAD) {
		struct call *c = malloc(sizeof *c);
		bool started = false;
		if (!c)
			return;
		c->fn = sev->sigev_notify_function;
		c->value = sev->sigev_value;
		start_thread(notify_thread, c, sev->sigev_notify_attributes,
			     &started);
		if (!started) /* no thread to be had: call it from here */
			notify_thread(c);
	}
}

/* ---- running -------------------------------------------------------- */

/* The oldest queued job, marked running; NULL when none. Under the lock. */
static struct job *next_job(void)
{
	for (struct job *j = jobs; j; j = j->next)
		if (!j->running) {
			j->running = true;
			return j;
		}
	return NULL;
}

static void unlink_job(struct job *j)
{
	struct job **p = &jobs;
	while (*p != j)
		p = &(*p)->next;
	*p = j->next;
}

/* Ends a job with `rc` (and `res`): under the lock. Returns the batch to
 * notify (and free), now that it is done, or NULL. */
static struct batch *finish(struct job *j, int rc, struct addrinfo *res)
{
	struct batch *b = j->batch;
	j->cb->ar_result = res;
	__atomic_store_n(&j->cb->__return, rc, __ATOMIC_RELEASE);
	unlink_job(j);
	free(j);
	if (--b->left || b->waiter)
		return NULL;
	if (!b->notify) {
		free(b);
		return NULL;
	}
	return b;
}

static void run_one(struct job *j)
{
	struct addrinfo *res = NULL;
	/* The hooked getaddrinfo (ours, or a preload's in front of us). */
	int rc = getaddrinfo(j->cb->ar_name, j->cb->ar_service,
			     j->cb->ar_request, &res);
	pthread_mutex_lock(&lock);
	struct batch *done = finish(j, rc, rc ? NULL : res);
	pthread_mutex_unlock(&lock);
	completed();
	if (done) {
		notify(&done->sev);
		free(done);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (struct job *j; (j = next_job());) {
		pthread_mutex_unlock(&lock);
		run_one(j);
		pthread_mutex_lock(&lock);
	}
	workers--;
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Threads for what is queued; false when none could be started and none
 * runs: the caller then runs the queue itself, counted as a worker. Under
 * the lock. */
static bool staff(void)
{
	unsigned queued = 0;
	for (struct job *j = jobs; j; j = j->next)
		queued += !j->running;
	while (workers < WORKERS && queued--) {
		bool started;
		workers++;
		start_thread(worker, NULL, NULL, &started);
		if (!started) {
			workers--;
			break;
		}
	}
	if (workers)
		return true;
	workers++;
	return false;
}

/* The requests in flight are the parent's: its threads answer and notify
 * them there. The child forgets them, as glibc's does (its queue is the
 * parent's memory, never run in the child). */
static void before_fork(void)
{
	pthread_mutex_lock(&lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void after_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	workers = 0;
	while (jobs) {
		struct job *j = jobs;
		jobs = j->next;
		if (!--j->batch->left) /* its waiter, if any, is not in the child */
			free(j->batch);
		free(j);
	}
}

static struct job *queue(struct gaicb *cb, struct batch *b)
{
	struct job *j = malloc(sizeof *j), **p = &jobs;
	if (!j)
		return NULL;
	*j = (struct job){.cb = cb, .batch = b};
	while (*p)
		p = &(*p)->next;
	*p = j;
	return j;
}

SHIM_EXPORT int getaddrinfo_a(int mode, struct gaicb *list[], int nitems,
			      struct sigevent *sev)
{
	static atomic_bool registered;
	struct batch *b;
	unsigned queued = 0;
	int rc = 0;
	if (mode != GAI_WAIT && mode != GAI_NOWAIT) {
		errno = EINVAL;
		return EAI_SYSTEM;
	}
	if (!(b = calloc(1, sizeof *b)))
		return EAI_AGAIN;
	if (!atomic_exchange(&registered, true))
		pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	b->waiter = mode == GAI_WAIT;
	b->notify = !b->waiter && sev && sev->sigev_notify != SIGEV_NONE;
	if (b->notify)
		b->sev = *sev;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < nitems; i++) {
		if (!list[i])
			continue;
		list[i]->__return = EAI_INPROGRESS;
		if (!queue(list[i], b)) {
			list[i]->__return = EAI_MEMORY;
			rc = EAI_AGAIN; /* the ones queued still run */
			break;
		}
		queued++;
	}
	b->left = queued;
	bool staffed = staff();
	pthread_mutex_unlock(&lock);
	if (!queued) {
		if (b->notify)
			notify(&b->sev);
		free(b);
		return rc;
	}
	if (!staffed) /* no thread to be had: the caller's own, then */
		worker(NULL);
	if (mode == GAI_WAIT) {
		for (;;) {
			int seen = atomic_load_explicit(&completions,
							memory_order_acquire);
			pthread_mutex_lock(&lock);
			bool all_done = b->left == 0;
			pthread_mutex_unlock(&lock);
			if (all_done)
				break;
			wait_completion(seen, NULL);
		}
		free(b);
	}
	return rc;
}

SHIM_EXPORT int gai_error(struct gaicb *req)
{
	return request_state(req);
}

SHIM_EXPORT int gai_cancel(struct gaicb *req)
{
	struct batch *done = NULL;
	int rc = EAI_ALLDONE;
	pthread_mutex_lock(&lock);
	for (struct job *j = jobs; j; j = j->next) {
		if (j->cb != req)
			continue;
		if (j->running) {
			rc = EAI_NOTCANCELED;
		} else {
			done = finish(j, EAI_CANCELED, NULL);
			rc = EAI_CANCELED;
		}
		break;
	}
	pthread_mutex_unlock(&lock);
	if (rc == EAI_CANCELED)
		completed();
	if (done) {
		notify(&done->sev);
		free(done);
	}
	return rc;
}

SHIM_EXPORT int gai_suspend(const struct gaicb *const list[], int nitems,
			    const struct timespec *timeout)
{
	struct timespec deadline;
	if (timeout) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout->tv_sec;
		deadline.tv_nsec += timeout->tv_nsec;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_nsec -= 1000000000;
			deadline.tv_sec++;
		}
	}
	for (;;) {
		int seen = atomic_load_explicit(&completions,
						memory_order_acquire);
		bool any = false;
		for (int i = 0; i < nitems; i++) {
			if (!list[i])
				continue;
			any = true;
			if (request_state(list[i]) != EAI_INPROGRESS)
				return 0;
		}
		if (!any)
			return EAI_ALLDONE;
		int w = wait_completion(seen, timeout ? &deadline : NULL);
		if (w == EINTR)
			return EAI_INTR;
		if (w == ETIMEDOUT)
			return EAI_AGAIN;
	}
}

#endif
