#define _GNU_SOURCE
#include "CHeapMonitor.h"
#include "hooks_internal.h"

#include <pthread.h>
#include <time.h>

// The time events are stamped with. Reading a clock costs 20-45 ns in a
// virtual machine (the time-stamp counter, or the vDSO's clock_gettime) —
// more than the rest of recording an event. So while events are many, a
// clock thread writes the time into one word every millisecond and the
// hooks load it; while they are few, the thread sleeps and the hooks read
// the system clock themselves. Both kinds of value go through one word that
// only grows, which keeps causality (hooks_internal.h, hm_event_time).

enum {
    HM_TICK_NS = 1000 * 1000,
    // The clock thread ticks while at least 50,000 events a second are
    // stamped; below that, stamping from the system clock costs less than
    // its wake-ups. Checked every 100 ticks while ticking.
    HM_TICKING_CHECK_TICKS = 100,
    HM_IDLE_CHECK_NS = 20 * 1000 * 1000,
    // 50,000 events a second, in each mode's check interval.
    HM_BUSY_WHILE_IDLE = 1000,
    HM_BUSY_WHILE_TICKING = 5000,
};

_Atomic uint64_t hm_event_clock;
_Atomic int hm_clock_mode = HM_CLOCK_IDLE;
// Events stamped (by the slow path each, while ticking once per chunk)
// since the clock thread last looked.
static _Atomic uint64_t hm_clock_demand;
static _Atomic int hm_clock_thread_started;

uint64_t hm_clock_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

// Raises the word to `time` unless it is past it already; returns the word.
static uint64_t hm_raise_clock(uint64_t time) {
    uint64_t current = atomic_load_explicit(&hm_event_clock, HM_RELAXED);
    while (current < time &&
           !atomic_compare_exchange_weak_explicit(&hm_event_clock, &current, time, HM_RELAXED, HM_RELAXED)) {}
    return current > time ? current : time;
}

uint64_t hm_event_time_slow(void) {
    atomic_fetch_add_explicit(&hm_clock_demand, 1, HM_RELAXED);
    return hm_raise_clock(hm_clock_ns());
}

void hm_clock_note_events(uint64_t events) {
    atomic_fetch_add_explicit(&hm_clock_demand, events, HM_RELAXED);
}

uint64_t hm_event_clock_now(void) { return hm_raise_clock(hm_clock_ns()); }

static void hm_sleep_ns(uint64_t ns) {
    struct timespec pause = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&pause, &pause) != 0) {}
}

static void *hm_clock_thread(void *unused) {
    (void)unused;
    for (;;) {
        while (atomic_exchange_explicit(&hm_clock_demand, 0, HM_RELAXED) < HM_BUSY_WHILE_IDLE)
            hm_sleep_ns(HM_IDLE_CHECK_NS);
        // The word first, then the mode, so that a hook that sees the mode
        // reads a current word.
        hm_raise_clock(hm_clock_ns());
        atomic_store_explicit(&hm_clock_mode, HM_CLOCK_TICKING, HM_RELEASE);
        do {
            for (int tick = 0; tick < HM_TICKING_CHECK_TICKS; tick++) {
                hm_sleep_ns(HM_TICK_NS);
                hm_raise_clock(hm_clock_ns());
            }
        } while (atomic_exchange_explicit(&hm_clock_demand, 0, HM_RELAXED) >= HM_BUSY_WHILE_TICKING);
        atomic_store_explicit(&hm_clock_mode, HM_CLOCK_IDLE, HM_RELAXED);
    }
    return NULL;
}

// A forked child has no clock thread: it stamps from the system clock
// until its own thread starts.
static void hm_clock_after_fork_in_child(void) {
    atomic_store_explicit(&hm_clock_mode, HM_CLOCK_IDLE, HM_RELAXED);
    atomic_store_explicit(&hm_clock_thread_started, 0, HM_RELAXED);
    atomic_store_explicit(&hm_clock_demand, 0, HM_RELAXED);
}

static void hm_clock_register_fork_handler(void) { pthread_atfork(NULL, NULL, hm_clock_after_fork_in_child); }

void hm_clock_start(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&hm_clock_thread_started, &expected, 1)) return;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, hm_clock_register_fork_handler);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    pthread_t thread;
    if (pthread_create(&thread, &attributes, hm_clock_thread, NULL) != 0)
        atomic_store(&hm_clock_thread_started, 0);  // stamps keep coming from the system clock
    else
        pthread_setname_np(thread, "heapmonitor-clk");
    pthread_attr_destroy(&attributes);
}

int hm_clock_is_ticking(void) {
    return atomic_load_explicit(&hm_clock_mode, HM_ACQUIRE) == HM_CLOCK_TICKING;
}
