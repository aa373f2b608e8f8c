#define _GNU_SOURCE
#include "CHeapMonitor.h"
#include "hooks_internal.h"

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>

// The time events are stamped with: one word, set to CLOCK_MONOTONIC every
// millisecond by a thread of the monitor's while classes are tracked. A
// hook loads it (about a nanosecond) where reading the time-stamp counter
// cost 10-20 ns on the CPUs measured. Events of one tick keep no order
// across threads; the reader restores each address's order by alternation
// (reader.c, docs/Design.md "Time").

// At the start of a cache line: every hook loads it.
_Alignas(64) _Atomic uint64_t hm_event_clock;
static _Atomic int hm_clock_held;

enum { HM_CLOCK_PERIOD_NS = 1000 * 1000 };

static pthread_mutex_t hm_clock_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hm_clock_wake = PTHREAD_COND_INITIALIZER;
static int hm_clock_started;

uint64_t hm_clock_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

uint64_t hm_now(void) { return hm_clock_ns(); }

uint64_t hm_event_clock_now(void) { return hm_event_time(); }

static void hm_clock_tick(void) {
    if (!atomic_load_explicit(&hm_clock_held, HM_RELAXED))
        atomic_store_explicit(&hm_event_clock, hm_clock_ns(), HM_RELAXED);
}

static int hm_clock_needed(void) { return atomic_load_explicit(&hm_active_work, HM_RELAXED) & HM_ACTIVE_CLASSES; }

// Ticks while classes are tracked and sleeps on `hm_clock_wake` otherwise:
// an untracked program pays no wake-ups.
static void *hm_clock_thread(void *unused) {
    (void)unused;
    prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 µs, not the default 50 µs
    struct timespec period = {0, HM_CLOCK_PERIOD_NS};
    for (;;) {
        if (!hm_clock_needed()) {
            // Checked again under the lock that `hm_event_clock_wake` signals under.
            pthread_mutex_lock(&hm_clock_lock);
            while (!hm_clock_needed()) pthread_cond_wait(&hm_clock_wake, &hm_clock_lock);
            pthread_mutex_unlock(&hm_clock_lock);
        }
        hm_clock_tick();
        clock_nanosleep(CLOCK_MONOTONIC, 0, &period, NULL);
    }
    return NULL;
}

// A forked child has no clock thread: its events keep the fork's time
// until it tracks anew, which starts one.
static void hm_clock_after_fork(void) { hm_clock_started = 0; }

__attribute__((constructor)) static void hm_clock_init(void) {
    hm_clock_tick();
    pthread_atfork(NULL, NULL, hm_clock_after_fork);
}

void hm_event_clock_wake(void) {
    hm_clock_tick();  // the first events of a tracking run get the time now
    pthread_mutex_lock(&hm_clock_lock);
    if (!hm_clock_started) {
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attributes, 64 * 1024);
        // The host's signals go to its own threads, never to this one.
        sigset_t all, previous;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &previous);
        pthread_t thread;
        if (pthread_create(&thread, &attributes, hm_clock_thread, NULL) == 0) {
            pthread_setname_np(thread, "hm-clock");
            hm_clock_started = 1;
        }
        pthread_sigmask(SIG_SETMASK, &previous, NULL);
        pthread_attr_destroy(&attributes);
    }
    pthread_cond_signal(&hm_clock_wake);
    pthread_mutex_unlock(&hm_clock_lock);
}

void hm_test_hold_event_clock(int on) {
    if (on) atomic_store_explicit(&hm_event_clock, hm_clock_ns() + 3600ull * 1000000000u, HM_RELAXED);
    atomic_store_explicit(&hm_clock_held, on, HM_RELAXED);
    if (!on) hm_clock_tick();
}
