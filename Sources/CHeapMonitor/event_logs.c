#define _GNU_SOURCE
#include "CHeapHooks.h"
#include "hooks_internal.h"

#include <pthread.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>

// One log of events per thread: a chain of chunks with one writer (the
// thread) and one reader (reader.c). A thread's log is found through an
// initial-exec thread-local pointer; when the thread exits its log is
// orphaned, drained, and adopted by a later thread.

_Atomic(hm_log *) hm_logs;
_Atomic uint64_t hm_dropped;
_Atomic uint64_t hm_overhead;
static pthread_key_t hm_log_key;
static pthread_once_t hm_log_key_once = PTHREAD_ONCE_INIT;
// Initial-exec: in the preloaded agent (a shared library) the default model
// would call __tls_get_addr on every hooked event — 8 % of a small-object
// loop. A library loaded at startup, or linked in, has static TLS room for
// one pointer; one dlopen'ed later still gets it from glibc's surplus.
__thread hm_log *hm_thread_log __attribute__((tls_model("initial-exec")));
__thread uintptr_t hm_thread_stack_low __attribute__((tls_model("initial-exec")));
__thread uintptr_t hm_thread_stack_high __attribute__((tls_model("initial-exec")));
// Events of a thread whose log was retired (after its TLS destructors ran),
// written under a spin lock.
hm_log hm_late_log;
static atomic_flag hm_late_lock = ATOMIC_FLAG_INIT;
// Set (release) once the late log's first chunk is in `read` and `write`:
// the reader, which does not take the spin lock, reads `read` only after
// seeing it (acquire). The writer makes that chunk lazily, on the late
// log's first event.
_Atomic int hm_late_log_ready;

int hm_cpu_prefetches_for_writing;

__attribute__((constructor)) static void hm_detect_prefetch_for_writing(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    hm_cpu_prefetches_for_writing = __get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 8));
#endif
}

static _Atomic int hm_failing_allocations;

void hm_test_fail_allocations(int count) { atomic_store(&hm_failing_allocations, count); }

static int hm_allocation_fails(void) {
    int failing = atomic_load_explicit(&hm_failing_allocations, HM_RELAXED);
    while (failing > 0) {
        if (atomic_compare_exchange_weak(&hm_failing_allocations, &failing, failing - 1)) return 1;
    }
    return 0;
}

void *hm_calloc_counted(size_t bytes) {
    if (hm_allocation_fails()) return NULL;
    void *memory = calloc(1, bytes);
    if (memory) atomic_fetch_add_explicit(&hm_overhead, bytes, HM_RELAXED);
    return memory;
}

// A log on cache-line boundaries, as its `_Alignas(64)` sections need:
// calloc's 16 bytes let the reader's cursor share a line with the writer's
// count (tracked 58-65 -> 42-46 ns per allocation and release).
static hm_log *hm_calloc_log(void) {
    void *memory = NULL;
    if (hm_allocation_fails() || posix_memalign(&memory, _Alignof(hm_log), sizeof(hm_log)) != 0) return NULL;
    memset(memory, 0, sizeof(hm_log));
    atomic_fetch_add_explicit(&hm_overhead, sizeof(hm_log), HM_RELAXED);
    return memory;
}

void hm_free_counted(void *memory, size_t bytes) {
    free(memory);
    atomic_fetch_sub_explicit(&hm_overhead, bytes, HM_RELAXED);
}

void hm_test_use_late_log(int on) {
    static __thread hm_log *own;
    if (on && hm_thread_log != &hm_late_log) {
        own = hm_thread_log;
        hm_thread_log = &hm_late_log;
    } else if (!on && hm_thread_log == &hm_late_log) {
        hm_thread_log = own;
    }
}

size_t hm_test_events_written(const void *address, const void *metadata, uint32_t kind) {
    hm_log *log = hm_thread_log;
    if (!log || log == &hm_late_log || !log->write) return 0;
    size_t count = 0;
    for (size_t i = 0; i < log->write_count; i++) {
        const hm_event *event = &log->write->events[i];
        if (event->kind == kind && event->address == (uint64_t)(uintptr_t)address &&
            event->metadata == (uint64_t)(uintptr_t)metadata)
            count++;
    }
    return count;
}

static void hm_retire_log(void *log) {
    atomic_store_explicit(&((hm_log *)log)->state, HM_LOG_ORPHANED, HM_RELEASE);
    hm_thread_log = &hm_late_log;
}

static void hm_make_key(void) { pthread_key_create(&hm_log_key, hm_retire_log); }

static void hm_find_stack(hm_log *log) {
    pthread_attr_t attr;
    void *base;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &base, &size) == 0) {
            log->stack_low = hm_thread_stack_low = (uintptr_t)base;
            log->stack_high = hm_thread_stack_high = (uintptr_t)base + size;
        }
        pthread_attr_destroy(&attr);
    }
}

// Adopts a drained log of an exited thread, else makes one (its first chunk
// with it, so that `read` is set before the log is published).
static hm_log *hm_adopt_or_make_log(void) {
    for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log; log = log->next_log) {
        int reusable = HM_LOG_REUSABLE;
        if (atomic_compare_exchange_strong(&log->state, &reusable, HM_LOG_ACTIVE)) return log;
    }
    hm_log *log = hm_calloc_log();
    hm_chunk *chunk = hm_calloc_counted(sizeof(hm_chunk));
    if (!log || !chunk) {
        if (log) hm_free_counted(log, sizeof(hm_log));
        if (chunk) hm_free_counted(chunk, sizeof(hm_chunk));
        return NULL;
    }
    log->write = log->read = chunk;
    hm_log *head = atomic_load_explicit(&hm_logs, HM_RELAXED);
    do {
        log->next_log = head;
    } while (!atomic_compare_exchange_weak_explicit(&hm_logs, &head, log, HM_RELEASE, HM_RELAXED));
    return log;
}

hm_log *hm_new_thread_log(void) {
    hm_log *log = hm_adopt_or_make_log();
    if (!log) return NULL;
    hm_find_stack(log);
    pthread_once(&hm_log_key_once, hm_make_key);
    pthread_setspecific(hm_log_key, log);
    return hm_thread_log = log;
}

hm_event *hm_reserve_slow(hm_log *log, size_t n) {
    if (n > HM_CHUNK_EVENTS) return NULL;
    hm_chunk *chunk = log->write;
    if (!chunk) {  // the late log's first event
        chunk = hm_calloc_counted(sizeof(hm_chunk));
        if (!chunk) return NULL;
        log->write = log->read = chunk;
        log->write_count = 0;
        atomic_store_explicit(&hm_late_log_ready, 1, HM_RELEASE);
        return &chunk->events[0];
    }
    // A drained chunk from the writer's own list, refilled with the whole
    // shared pool at once (one taker: no ABA), else a new one.
    hm_chunk *fresh = log->private_pool;
    if (!fresh) fresh = atomic_exchange_explicit(&log->pool, NULL, HM_ACQUIRE);
    if (fresh) {
        log->private_pool = atomic_load_explicit(&fresh->next, HM_RELAXED);
        atomic_fetch_sub_explicit(&log->pooled, 1, HM_RELAXED);
    } else if (!hm_allocation_fails() && (fresh = malloc(sizeof(hm_chunk)))) {
        atomic_fetch_add_explicit(&hm_overhead, sizeof(hm_chunk), HM_RELAXED);
    } else {
        return NULL;
    }
    atomic_store_explicit(&fresh->count, 0, HM_RELAXED);
    atomic_store_explicit(&fresh->next, NULL, HM_RELAXED);
    log->write = fresh;
    log->write_count = 0;
    // The release store makes `chunk` final for the reader: it moves on to
    // `fresh` only after seeing this link (reader.c, hm_peek).
    atomic_store_explicit(&chunk->next, fresh, HM_RELEASE);
    return &fresh->events[0];
}

void hm_lock_late_log(void) {
    while (atomic_flag_test_and_set_explicit(&hm_late_lock, HM_ACQUIRE)) {}
}

void hm_unlock_late_log(void) { atomic_flag_clear_explicit(&hm_late_lock, HM_RELEASE); }

__attribute__((constructor)) static void hm_register_late_log(void) {
    hm_late_log.next_log = atomic_load(&hm_logs);
    atomic_store(&hm_logs, &hm_late_log);
}

uint64_t hm_dropped_events(void) { return atomic_load_explicit(&hm_dropped, HM_RELAXED); }

uint64_t hm_hooks_overhead_bytes(void) { return atomic_load_explicit(&hm_overhead, HM_RELAXED); }

uint64_t hm_stack_objects(void) {
    uint64_t total = 0;
    for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log; log = log->next_log)
        total += (uint64_t)atomic_load_explicit(&log->stack_objects, HM_RELAXED);
    return total;
}

void hm_count_stack_object(void) {
    hm_log *log = hm_thread_log;
    if (log && log != &hm_late_log) hm_add_single_writer(&log->stack_objects, 1);
}
