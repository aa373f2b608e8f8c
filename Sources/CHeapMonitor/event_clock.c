#define _GNU_SOURCE
#include "CHeapMonitor.h"
#include "hooks_internal.h"

#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

// The time events are stamped with: the CPU's invariant time-stamp counter
// (one clock for all cores), else CLOCK_MONOTONIC. A stamp must order one
// address's birth and death across threads (a free before the malloc that
// reuses the block): a coarser clock shared by the threads gives them equal
// times, which the reader cannot order without knowing what the monitor
// holds (docs/Design.md, "Time").

int hm_use_tsc = -1;
static double hm_tick_ns = 0;

static int hm_invariant_tsc(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid(0x80000007, &a, &b, &c, &d)) return (d >> 8) & 1;
#endif
    return 0;
}

__attribute__((constructor)) static void hm_time_init(void) { hm_use_tsc = hm_invariant_tsc(); }

uint64_t hm_clock_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

uint64_t hm_now(void) { return hm_event_time(); }

double hm_nanoseconds_per_tick(void) {
    if (hm_tick_ns > 0) return hm_tick_ns;
    if (hm_use_tsc <= 0) return hm_tick_ns = 1;
    uint64_t ns0 = hm_clock_ns(), t0 = hm_now();
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    uint64_t ns1 = hm_clock_ns(), t1 = hm_now();
    return hm_tick_ns = (double)(ns1 - ns0) / (double)(t1 - t0);
}
