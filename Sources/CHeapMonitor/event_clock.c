#define _GNU_SOURCE
#include "CHeapMonitor.h"
#include "hooks_internal.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

// No lock: a host that forks while one of its threads wakes the clock
// must leave its child able to track. The clock thread sleeps on a futex
// of `hm_clock_wakes`, which every wake bumps; starting the thread is one
// compare-and-swap of `hm_clock_started`.
static _Atomic uint32_t hm_clock_wakes;
static _Atomic int hm_clock_started;

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

// Ticks while classes are tracked and sleeps otherwise: an untracked
// program pays no wake-ups.
//
// Ordering: `hm_set_active` stores the work bit, then `hm_event_clock_wake`
// bumps `hm_clock_wakes` (release). This thread reads the count (acquire)
// before the bit, so a bit it missed comes with a count it has not read:
// the kernel compares the futex word with it and returns at once.
static void *hm_clock_thread(void *unused) {
    (void)unused;
    prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 µs, not the default 50 µs
    struct timespec period = {0, HM_CLOCK_PERIOD_NS};
    for (;;) {
        uint32_t wakes = atomic_load_explicit(&hm_clock_wakes, HM_ACQUIRE);
        if (!hm_clock_needed()) {
            syscall(SYS_futex, &hm_clock_wakes, FUTEX_WAIT_PRIVATE, wakes, NULL, NULL, 0);
            continue;
        }
        hm_clock_tick();
        clock_nanosleep(CLOCK_MONOTONIC, 0, &period, NULL);
    }
    return NULL;
}

// A forked child has no clock thread: its events keep the fork's time
// until it tracks anew, which starts one.
static void hm_clock_after_fork(void) { atomic_store_explicit(&hm_clock_started, 0, HM_RELAXED); }

__attribute__((constructor)) static void hm_clock_init(void) {
    hm_clock_tick();
    pthread_atfork(NULL, NULL, hm_clock_after_fork);
}

static void hm_clock_start(void) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    // The host's signals go to its own threads, never to this one.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pthread_t thread;
    if (pthread_create(&thread, &attributes, hm_clock_thread, NULL) == 0)
        pthread_setname_np(thread, "hm-clock");
    else
        atomic_store_explicit(&hm_clock_started, 0, HM_RELAXED);  // the next wake tries again
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    pthread_attr_destroy(&attributes);
}

void hm_event_clock_wake(void) {
    hm_clock_tick();  // the first events of a tracking run get the time now
    int started = 0;
    if (atomic_compare_exchange_strong_explicit(&hm_clock_started, &started, 1, HM_RELAXED, HM_RELAXED))
        hm_clock_start();
    atomic_fetch_add_explicit(&hm_clock_wakes, 1, HM_RELEASE);
    syscall(SYS_futex, &hm_clock_wakes, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void hm_test_hold_event_clock(int on) {
    if (on) atomic_store_explicit(&hm_event_clock, hm_clock_ns() + 3600ull * 1000000000u, HM_RELAXED);
    atomic_store_explicit(&hm_clock_held, on, HM_RELAXED);
    if (!on) hm_clock_tick();
}

static _Atomic int hm_test_changing;

// Changes the registry (to what it is), which takes its lock and wakes the
// clock, until told to stop.
static void *hm_test_change_registry(void *unused) {
    (void)unused;
    while (atomic_load_explicit(&hm_test_changing, HM_RELAXED)) hm_watch_all(hm_is_watching_all());
    return NULL;
}

// In the child: 2 if tracking followed the fork; else tracks what the
// parent did (the registry's copy), and waits up to a second for a tick.
static _Noreturn void hm_test_child_tracks(void) {
    if (atomic_load_explicit(&hm_active_work, HM_RELAXED)) _exit(2);
    hm_watch_all(hm_is_watching_all());
    uint64_t start = hm_event_time(), deadline = hm_clock_ns() + 1000000000u;
    struct timespec pause = {0, 1000 * 1000};
    while (hm_event_time() == start && hm_clock_ns() < deadline) nanosleep(&pause, NULL);
    _exit(hm_event_time() != start ? 0 : 1);
}

int hm_test_tracking_after_forks(int forks) {
    atomic_store_explicit(&hm_test_changing, 1, HM_RELAXED);
    pthread_t changer;
    if (pthread_create(&changer, NULL, hm_test_change_registry, NULL) != 0) return -1;
    int ticking = 0;
    for (int i = 0; i < forks; i++) {
        pid_t child = fork();
        if (child == 0) hm_test_child_tracks();
        int status;
        if (child > 0 && hm_isolation_wait(child, hm_clock_ns() + 3000000000u, &status) == 1 &&
            WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ticking++;
    }
    atomic_store_explicit(&hm_test_changing, 0, HM_RELAXED);
    pthread_join(changer, NULL);
    return ticking;
}
