#define _GNU_SOURCE
#include "CHeapHooks.h"
#include "CHeapMonitor.h"
#include "hooks_internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

// Everything here runs inside the allocation path of the host: no Swift
// objects, no locks on the hot path, plain calloc for tables (never freed
// while a writer may hold them).

// MARK: Time

static int hm_use_tsc = -1;
static double hm_tick_ns = 0;

static int hm_invariant_tsc(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid(0x80000007, &a, &b, &c, &d)) return (d >> 8) & 1;
#endif
    return 0;
}

__attribute__((constructor)) static void hm_time_init(void) { hm_use_tsc = hm_invariant_tsc(); }

uint64_t hm_now(void) {
#if defined(__x86_64__)
    if (hm_use_tsc > 0) return __rdtsc();
#endif
    return hm_clock_ns();
}

double hm_nanoseconds_per_tick(void) {
    if (hm_tick_ns > 0) return hm_tick_ns;
    if (hm_use_tsc <= 0) return hm_tick_ns = 1;
    uint64_t ns0 = hm_clock_ns(), t0 = hm_now();
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    uint64_t ns1 = hm_clock_ns(), t1 = hm_now();
    return hm_tick_ns = (double)(ns1 - ns0) / (double)(t1 - t0);
}

// MARK: Class registry and the per-metadata filter cache

// Class metadata on Linux: kind word 0, superclass at +8, descriptor at +40.
enum { HM_REGISTRY_CAPACITY = 256, HM_FILTER_SLOTS = 512, HM_MAX_DEPTH = 64 };

typedef struct {
    _Atomic uintptr_t key;  // metadata, or descriptor | 1
    _Atomic uint32_t flags;
} hm_registration;

static hm_registration hm_registry[HM_REGISTRY_CAPACITY];
static _Atomic size_t hm_registry_count;
static pthread_mutex_t hm_registry_lock = PTHREAD_MUTEX_INITIALIZER;
// Bumped on every registry change; cache entries of older generations miss.
static _Atomic uint32_t hm_generation __attribute__((aligned(64))) = 1;
// Cache entry: metadata << 16 | generation (12 bits) << 4 | flags (4 bits).
static _Atomic uint64_t hm_filter[HM_FILTER_SLOTS];
// What the hooks have to do, in one word read on every call.
enum { HM_ACTIVE_CLASSES = 1, HM_ACTIVE_CENSUS = 2 };
static _Atomic int hm_active_work;

static void hm_set_active(int bit, int on) {
    if (on) atomic_fetch_or_explicit(&hm_active_work, bit, HM_RELEASE);
    else atomic_fetch_and_explicit(&hm_active_work, ~bit, HM_RELEASE);
}

static uint32_t hm_registered_flags(uintptr_t key) {
    size_t count = atomic_load_explicit(&hm_registry_count, HM_ACQUIRE);
    for (size_t i = 0; i < count; i++) {
        if (atomic_load_explicit(&hm_registry[i].key, HM_RELAXED) == key)
            return atomic_load_explicit(&hm_registry[i].flags, HM_RELAXED);
    }
    return 0;
}

static uintptr_t hm_core_low, hm_core_high;  // libswiftCore's mapped range
// Every class outside the standard library is watched (for leak scans).
static _Atomic int hm_watching_all;

int hm_is_runtime_class(const void *metadata) {
    uintptr_t descriptor = ((const uintptr_t *)metadata)[5];
    return descriptor >= hm_core_low && descriptor < hm_core_high;
}

static uint32_t hm_compute_flags(const void *metadata) {
    uint32_t result = 0;
    int births_decided = 0;
    const uintptr_t *cls = metadata;
    for (int depth = 0; cls && depth < HM_MAX_DEPTH; depth++) {
        if (cls[0] != 0) break;  // not class metadata
        uint32_t flags = hm_registered_flags((uintptr_t)cls);
        if (!flags && cls[5]) flags = hm_registered_flags(cls[5] | 1);
        if (!flags && !hm_is_runtime_class(cls)) flags = hm_pattern_flags(cls);
        if (flags) result |= HM_CLASS_DEATHS;
        if (!births_decided && (flags & HM_CLASS_TRACKED)) {
            result |= flags & (HM_CLASS_TRACKED | HM_CLASS_TRACED);
            births_decided = 1;
        }
        cls = (const uintptr_t *)cls[1];
    }
    if (!(result & HM_CLASS_TRACKED) && atomic_load_explicit(&hm_watching_all, HM_RELAXED) &&
        ((const uintptr_t *)metadata)[0] == 0 && !hm_is_runtime_class(metadata))
        result |= HM_CLASS_TRACKED | HM_CLASS_DEATHS | HM_CLASS_WATCHED;
    return result;
}

// Kept out of line so that the hit path needs no stack frame.
__attribute__((noinline)) static uint32_t hm_filter_miss(const void *metadata, size_t slot, uint32_t generation) {
    uint32_t flags = hm_compute_flags(metadata);
    atomic_store_explicit(&hm_filter[slot], ((uint64_t)(uintptr_t)metadata << 16) | ((uint64_t)generation << 4) | flags,
                          HM_RELAXED);
    return flags;
}

__attribute__((always_inline)) static inline uint32_t hm_filter_flags(const void *metadata) {
    uintptr_t md = (uintptr_t)metadata;
    size_t slot = ((md >> 4) ^ (md >> 16)) & (HM_FILTER_SLOTS - 1);
    uint64_t entry = atomic_load_explicit(&hm_filter[slot], HM_RELAXED);
    uint32_t generation = atomic_load_explicit(&hm_generation, HM_ACQUIRE) & 0xfff;
    if (__builtin_expect((entry >> 16) == md && ((entry >> 4) & 0xfff) == generation, 1)) return entry & 0xf;
    return hm_filter_miss(metadata, slot, generation);
}

uint32_t hm_class_flags(const void *metadata) { return hm_filter_flags(metadata); }

static void hm_registry_changed(void) {
    int any = 0;
    size_t count = atomic_load_explicit(&hm_registry_count, HM_RELAXED);
    for (size_t i = 0; i < count; i++) any |= atomic_load_explicit(&hm_registry[i].flags, HM_RELAXED) != 0;
    any |= hm_patterns_active();
    hm_set_active(HM_ACTIVE_CLASSES, any || atomic_load_explicit(&hm_watching_all, HM_RELAXED));
    uint32_t next = atomic_load_explicit(&hm_generation, HM_RELAXED) + 1;
    if ((next & 0xfff) == 0) next++;  // generation 0 never matches a fresh slot
    atomic_store_explicit(&hm_generation, next, HM_RELEASE);
}

int hm_register_class(const void *key, int by_descriptor, uint32_t flags) {
    uintptr_t tagged = (uintptr_t)key | (by_descriptor ? 1 : 0);
    int result = 0;
    pthread_mutex_lock(&hm_registry_lock);
    size_t count = atomic_load_explicit(&hm_registry_count, HM_RELAXED), free_slot = count;
    size_t i = 0;
    for (; i < count; i++) {
        uintptr_t existing = atomic_load_explicit(&hm_registry[i].key, HM_RELAXED);
        if (existing == tagged) break;
        if (free_slot == count && atomic_load_explicit(&hm_registry[i].flags, HM_RELAXED) == 0) free_slot = i;
    }
    if (i == count) {  // new key: reuse a removed slot or append
        if (!flags) goto done;
        if (free_slot == count && count == HM_REGISTRY_CAPACITY) { result = -1; goto done; }
        i = free_slot;
        atomic_store_explicit(&hm_registry[i].flags, 0, HM_RELAXED);
        atomic_store_explicit(&hm_registry[i].key, tagged, HM_RELAXED);
        if (i == count) atomic_store_explicit(&hm_registry_count, count + 1, HM_RELEASE);
    }
    atomic_store_explicit(&hm_registry[i].flags, flags, HM_RELAXED);
    hm_registry_changed();
done:
    pthread_mutex_unlock(&hm_registry_lock);
    return result;
}

int hm_register_pattern(const char *pattern, uint32_t flags) {
    pthread_mutex_lock(&hm_registry_lock);
    int slot = hm_pattern_store(pattern, flags);
    hm_registry_changed();
    pthread_mutex_unlock(&hm_registry_lock);
    return slot;
}

int hm_is_watching_all(void) { return atomic_load_explicit(&hm_watching_all, HM_ACQUIRE); }

void hm_watch_all(int on) {
    pthread_mutex_lock(&hm_registry_lock);
    atomic_store_explicit(&hm_watching_all, on != 0, HM_RELAXED);
    hm_registry_changed();
    pthread_mutex_unlock(&hm_registry_lock);
}

void hm_clear_classes(void) {
    pthread_mutex_lock(&hm_registry_lock);
    size_t count = atomic_load_explicit(&hm_registry_count, HM_RELAXED);
    for (size_t i = 0; i < count; i++) atomic_store_explicit(&hm_registry[i].flags, 0, HM_RELAXED);
    hm_patterns_clear();
    hm_registry_changed();
    pthread_mutex_unlock(&hm_registry_lock);
}

// MARK: Per-thread logs

_Atomic(hm_log *) hm_logs;
_Atomic uint64_t hm_dropped;
_Atomic uint64_t hm_overhead;
static pthread_key_t hm_log_key;
static pthread_once_t hm_log_key_once = PTHREAD_ONCE_INIT;
// Initial-exec: in the preloaded agent (a shared library) the default model
// would call __tls_get_addr on every hooked event — 8 % of a small-object
// loop. A library loaded at startup, or linked in, has static TLS room for
// one pointer; one dlopen'ed later still gets it from glibc's surplus.
static __thread hm_log *hm_thread_log __attribute__((tls_model("initial-exec")));
// Events of a thread whose log was retired (after its TLS destructors ran),
// written under a spin lock.
hm_log hm_late_log;
static atomic_flag hm_late_lock = ATOMIC_FLAG_INIT;
// Set (release) once the late log's first chunk is in `read` and `write`:
// the reader, which does not take the spin lock, reads `read` only after
// seeing it (acquire). Before, it would race the writer's lazy set-up.
_Atomic int hm_late_log_ready;

void *hm_calloc_counted(size_t bytes) {
    void *memory = calloc(1, bytes);
    if (memory) atomic_fetch_add_explicit(&hm_overhead, bytes, HM_RELAXED);
    return memory;
}

void hm_free_counted(void *memory, size_t bytes) {
    free(memory);
    atomic_fetch_sub_explicit(&hm_overhead, bytes, HM_RELAXED);
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
            log->stack_low = (uintptr_t)base;
            log->stack_high = (uintptr_t)base + size;
        }
        pthread_attr_destroy(&attr);
    }
}

static hm_log *hm_new_log(void) {
    // Adopt a drained log of an exited thread before allocating a new one.
    for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log; log = log->next_log) {
        int reusable = HM_LOG_REUSABLE;
        if (atomic_compare_exchange_strong(&log->state, &reusable, HM_LOG_ACTIVE)) return log;
    }
    hm_log *log = hm_calloc_counted(sizeof(hm_log));
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

static hm_log *hm_current_log(void) {
    hm_log *log = hm_thread_log;
    if (__builtin_expect(log != NULL, 1)) return log;
    log = hm_new_log();
    if (!log) return NULL;
    hm_find_stack(log);
    pthread_once(&hm_log_key_once, hm_make_key);
    pthread_setspecific(hm_log_key, log);
    return hm_thread_log = log;
}

// Room for `n` events in the writer's chunk (a fresh chunk when it is full).
static hm_event *hm_reserve(hm_log *log, size_t n) {
    hm_chunk *chunk = log->write;
    size_t count = log->write_count;
    if (__builtin_expect(count + n <= HM_CHUNK_EVENTS, 1)) return &chunk->events[count];
    // A drained chunk from the writer's own list, refilled with the whole
    // shared pool at once (one taker: no ABA), else a new one.
    hm_chunk *fresh = log->private_pool;
    if (!fresh) fresh = atomic_exchange_explicit(&log->pool, NULL, HM_ACQUIRE);
    if (fresh) {
        log->private_pool = atomic_load_explicit(&fresh->next, HM_RELAXED);
        atomic_fetch_sub_explicit(&log->pooled, 1, HM_RELAXED);
    } else if ((fresh = malloc(sizeof(hm_chunk)))) {
        atomic_fetch_add_explicit(&hm_overhead, sizeof(hm_chunk), HM_RELAXED);
    } else {
        return NULL;
    }
    atomic_store_explicit(&fresh->count, 0, HM_RELAXED);
    atomic_store_explicit(&fresh->next, NULL, HM_RELAXED);
    log->write = fresh;
    log->write_count = 0;
    atomic_store_explicit(&chunk->next, fresh, HM_RELEASE);  // `chunk` is final now
    return &fresh->events[0];
}

static inline void hm_commit(hm_log *log, size_t n) {
    log->write_count += n;
    atomic_store_explicit(&log->write->count, log->write_count, HM_RELEASE);
}

static inline void hm_lock_late(hm_log *log) {
    if (__builtin_expect(log == &hm_late_log, 0)) {
        while (atomic_flag_test_and_set_explicit(&hm_late_lock, HM_ACQUIRE)) {}
        if (!log->write) {
            log->write = log->read = hm_calloc_counted(sizeof(hm_chunk));
            if (log->write) atomic_store_explicit(&hm_late_log_ready, 1, HM_RELEASE);
        }
    }
}

static inline void hm_unlock_late(hm_log *log) {
    if (__builtin_expect(log == &hm_late_log, 0)) atomic_flag_clear_explicit(&hm_late_lock, HM_RELEASE);
}

__attribute__((constructor)) static void hm_register_late_log(void) {
    hm_late_log.next_log = atomic_load(&hm_logs);
    atomic_store(&hm_logs, &hm_late_log);
}

// MARK: Census

static hm_census_slot *hm_census_slot_for(hm_log *log, uintptr_t metadata) {
    hm_census_slot *table = atomic_load_explicit(&log->census, HM_RELAXED);
    if (!table) {
        table = hm_calloc_counted(sizeof(hm_census_slot) * HM_CENSUS_SLOTS);
        if (!table) return NULL;
        atomic_store_explicit(&log->census, table, HM_RELEASE);
    }
    size_t slot = ((metadata >> 4) ^ (metadata >> 16)) & (HM_CENSUS_SLOTS - 1);
    for (size_t probe = 0; probe < HM_CENSUS_SLOTS; probe++, slot = (slot + 1) & (HM_CENSUS_SLOTS - 1)) {
        uintptr_t key = atomic_load_explicit(&table[slot].metadata, HM_RELAXED);
        if ((key & ~(uintptr_t)1) == metadata) return key & 1 ? NULL : &table[slot];
        if (key == 0) {
            const uintptr_t *cls = (const uintptr_t *)metadata;
            int left_out = cls[0] != 0 || (cls[5] >= hm_core_low && cls[5] < hm_core_high);
            atomic_store_explicit(&table[slot].metadata, metadata | (uintptr_t)left_out, HM_RELEASE);
            return left_out ? NULL : &table[slot];
        }
    }
    atomic_store_explicit(&log->census_overflow, 1, HM_RELAXED);
    return NULL;
}

static inline void hm_add(_Atomic int64_t *counter, int64_t value) {
    atomic_store_explicit(counter, atomic_load_explicit(counter, HM_RELAXED) + value, HM_RELAXED);
}

static void hm_census_count(hm_log *log, const void *object, uintptr_t metadata, int birth) {
    hm_census_slot *slot = hm_census_slot_for(log, metadata);
    if (!slot) return;
    int64_t bytes = (int64_t)hm_block_size(object);
    if (birth) {
        hm_add(&slot->allocations, 1);
        hm_add(&slot->allocated_bytes, bytes);
    } else {
        hm_add(&slot->deallocations, 1);
        hm_add(&slot->deallocated_bytes, bytes);
    }
}

void hm_census_enable(int on) { hm_set_active(HM_ACTIVE_CENSUS, on); }

int hm_census_enabled(void) { return (atomic_load_explicit(&hm_active_work, HM_ACQUIRE) & HM_ACTIVE_CENSUS) != 0; }

// MARK: Recording

// The hooks' code sits in a section of its own, so that a trace can leave
// out the frames inside it however the compiler inlined or tail-called.
#define HM_HOOK_CODE __attribute__((section("hm_hook_text")))
extern const char __start_hm_hook_text[], __stop_hm_hook_text[];

// Return addresses from the frame-pointer chain, bounded by the thread's
// stack, starting with the first outside the hooks: the caller of the
// runtime entry point.
__attribute__((always_inline)) static inline size_t hm_capture_frames(hm_log *log, uintptr_t *frames, size_t capacity) {
    const uintptr_t *fp = __builtin_frame_address(0);
    size_t count = 0;
    while (count < capacity) {
        uintptr_t at = (uintptr_t)fp;
        if ((at & 7) || at < log->stack_low || at + 16 > log->stack_high) break;
        uintptr_t ret = fp[1];
        if (ret < 4096) break;
        if (count > 0 || ret < (uintptr_t)__start_hm_hook_text || ret >= (uintptr_t)__stop_hm_hook_text)
            frames[count++] = ret;
        const uintptr_t *next = (const uintptr_t *)fp[0];
        if (next <= fp) break;
        fp = next;
    }
    return count;
}

__attribute__((always_inline)) static inline void hm_record_birth(void *object, const void *metadata, uint32_t flags) {
    hm_log *log = hm_current_log();
    if (!log) { atomic_fetch_add_explicit(&hm_dropped, 1, HM_RELAXED); return; }
    hm_lock_late(log);
    if (hm_census_enabled()) hm_census_count(log, object, (uintptr_t)metadata, 1);
    if (flags & HM_CLASS_TRACKED) {
        uintptr_t frames[HM_TRACE_EVENTS * 3];
        size_t frame_count = (flags & HM_CLASS_TRACED) ? hm_capture_frames(log, frames, HM_TRACE_EVENTS * 3) : 0;
        size_t trace_events = (frame_count + 2) / 3;
        hm_event *event = hm_reserve(log, 1 + trace_events);
        if (!event) {
            atomic_fetch_add_explicit(&hm_dropped, 1, HM_RELAXED);
        } else {
            *event = (hm_event){hm_now(), (uint64_t)object, (uint64_t)metadata, HM_EVENT_ALLOC, (uint32_t)trace_events};
            for (size_t i = 0; i < trace_events; i++) {
                size_t first = i * 3, valid = frame_count - first < 3 ? frame_count - first : 3;
                uint64_t f[3] = {0, 0, 0};
                for (size_t k = 0; k < valid; k++) f[k] = frames[first + k];
                event[1 + i] = (hm_event){f[0], f[1], f[2], HM_EVENT_TRACE, (uint32_t)valid};
            }
            hm_commit(log, 1 + trace_events);
        }
    }
    hm_unlock_late(log);
}

__attribute__((always_inline)) static inline void hm_record_death(void *object, const void *metadata,
                                                                   uint32_t flags, int census) {
    hm_log *log = hm_current_log();
    if (!log) { atomic_fetch_add_explicit(&hm_dropped, 1, HM_RELAXED); return; }
    hm_lock_late(log);
    if (census) hm_census_count(log, object, (uintptr_t)metadata, 0);
    if (flags & HM_CLASS_DEATHS) {
        hm_event *event = hm_reserve(log, 1);
        if (event) {
            *event = (hm_event){hm_now(), (uint64_t)object, (uint64_t)metadata, HM_EVENT_DEALLOC, 0};
            hm_commit(log, 1);
        } else {
            atomic_fetch_add_explicit(&hm_dropped, 1, HM_RELAXED);
        }
    }
    hm_unlock_late(log);
}

// MARK: Hooks

typedef void *(*hm_alloc_fn)(const void *, size_t, size_t);
typedef void (*hm_dealloc_fn)(void *, size_t, size_t);
typedef void (*hm_dealloc_partial_fn)(void *, const void *, size_t, size_t);
typedef void *(*hm_init_stack_fn)(const void *, void *);

static hm_alloc_fn hm_real_alloc;
static hm_dealloc_fn hm_real_dealloc_class;
static hm_dealloc_partial_fn hm_real_dealloc_partial;
static hm_dealloc_fn hm_real_dealloc_object;
static hm_init_stack_fn hm_real_init_stack;

static inline int hm_active(void) { return atomic_load_explicit(&hm_active_work, HM_RELAXED); }

// The hooks' common case — nothing to record — must need no stack frame of
// its own: it is decided from the filter cache alone, and everything else
// (a cache miss, recording) goes to an out-of-line function.

// Whether the object's class may need recording: the census is on, the
// cache misses, or the cached flags contain `wanted`.
__attribute__((always_inline)) static inline int hm_may_record(const void *metadata, int work, uint32_t wanted) {
    if (work & HM_ACTIVE_CENSUS) return 1;
    uintptr_t md = (uintptr_t)metadata;
    uint64_t entry = atomic_load_explicit(&hm_filter[((md >> 4) ^ (md >> 16)) & (HM_FILTER_SLOTS - 1)], HM_RELAXED);
    uint32_t generation = atomic_load_explicit(&hm_generation, HM_ACQUIRE) & 0xfff;
    return (entry >> 16) != md || ((entry >> 4) & 0xfff) != generation || (entry & wanted);
}

__attribute__((noinline)) HM_HOOK_CODE static void *hm_alloc_slow(void *object, const void *metadata, int work) {
    uint32_t flags = (work & HM_ACTIVE_CLASSES) ? hm_filter_flags(metadata) : 0;
    if ((flags & HM_CLASS_TRACKED) || (work & HM_ACTIVE_CENSUS)) hm_record_birth(object, metadata, flags);
    return object;
}

HM_HOOK_CODE static void *hm_alloc_hook(const void *metadata, size_t size, size_t alignment_mask) {
    void *object = hm_real_alloc(metadata, size, alignment_mask);
    int work = hm_active();
    if (work && hm_may_record(metadata, work, HM_CLASS_TRACKED)) return hm_alloc_slow(object, metadata, work);
    return object;
}

__attribute__((noinline)) HM_HOOK_CODE static void hm_observe_death(void *object, int work) {
    const void *metadata = *(const void *const *)object;
    uint32_t flags = (work & HM_ACTIVE_CLASSES) ? hm_filter_flags(metadata) : 0;
    int census = work & HM_ACTIVE_CENSUS;
    if ((flags & HM_CLASS_DEATHS) || census) hm_record_death(object, metadata, flags, census);
}

__attribute__((always_inline)) static inline int hm_death_may_record(void *object, int work) {
    return work && hm_may_record(*(const void *const *)object, work, HM_CLASS_DEATHS);
}

HM_HOOK_CODE static void hm_dealloc_class_hook(void *object, size_t size, size_t alignment_mask) {
    int work = hm_active();
    if (hm_death_may_record(object, work)) hm_observe_death(object, work);
    hm_real_dealloc_class(object, size, alignment_mask);
}

HM_HOOK_CODE static void hm_dealloc_partial_hook(void *object, const void *metadata, size_t size,
                                                 size_t alignment_mask) {
    int work = hm_active();
    if (hm_death_may_record(object, work)) hm_observe_death(object, work);
    hm_real_dealloc_partial(object, metadata, size, alignment_mask);
}

HM_HOOK_CODE static void hm_dealloc_object_hook(void *object, size_t size, size_t alignment_mask) {
    int work = hm_active();
    if (hm_death_may_record(object, work)) hm_observe_death(object, work);
    hm_real_dealloc_object(object, size, alignment_mask);
}

static void hm_count_stack_object(void) {
    hm_log *log = hm_thread_log;
    if (log && log != &hm_late_log) hm_add((_Atomic int64_t *)&log->stack_objects, 1);
}

HM_HOOK_CODE static void *hm_init_stack_hook(const void *metadata, void *object) {
    hm_count_stack_object();
    return hm_real_init_stack(metadata, object);
}

uint64_t hm_stack_objects(void) {
    uint64_t total = 0;
    for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log; log = log->next_log)
        total += atomic_load_explicit(&log->stack_objects, HM_RELAXED);
    return total;
}

uint64_t hm_dropped_events(void) { return atomic_load_explicit(&hm_dropped, HM_RELAXED); }

uint64_t hm_hooks_overhead_bytes(void) { return atomic_load_explicit(&hm_overhead, HM_RELAXED); }

// MARK: Linker wrapping (-static-stdlib)

// With the runtime linked in statically there is no GOT entry to patch; an
// executable linked with `-Xlinker --wrap=swift_allocObject` (and the other
// entry points) calls these instead, and the linker resolves `__real_*` to
// the runtime. Unwrapped executables leave the weak references null.
extern void *__real_swift_allocObject(const void *, size_t, size_t) __attribute__((weak));
extern void __real_swift_deallocClassInstance(void *, size_t, size_t) __attribute__((weak));
extern void __real_swift_deallocPartialClassInstance(void *, const void *, size_t, size_t) __attribute__((weak));
extern void __real_swift_deallocObject(void *, size_t, size_t) __attribute__((weak));
extern void *__real_swift_initStackObject(const void *, void *) __attribute__((weak));

static int hm_wrapped;

__attribute__((constructor)) static void hm_detect_wrapping(void) {
    if (!__real_swift_allocObject || !__real_swift_deallocClassInstance || !__real_swift_deallocObject) return;
    hm_real_alloc = __real_swift_allocObject;
    hm_real_dealloc_class = __real_swift_deallocClassInstance;
    hm_real_dealloc_object = __real_swift_deallocObject;
    hm_real_dealloc_partial = __real_swift_deallocPartialClassInstance;
    hm_real_init_stack = __real_swift_initStackObject;
    hm_wrapped = 1;
}

HM_HOOK_CODE void *__wrap_swift_allocObject(const void *metadata, size_t size, size_t alignment_mask) {
    return hm_alloc_hook(metadata, size, alignment_mask);
}
HM_HOOK_CODE void __wrap_swift_deallocClassInstance(void *object, size_t size, size_t alignment_mask) {
    hm_dealloc_class_hook(object, size, alignment_mask);
}
HM_HOOK_CODE void __wrap_swift_deallocPartialClassInstance(void *object, const void *metadata, size_t size,
                                                           size_t alignment_mask) {
    hm_dealloc_partial_hook(object, metadata, size, alignment_mask);
}
HM_HOOK_CODE void __wrap_swift_deallocObject(void *object, size_t size, size_t alignment_mask) {
    hm_dealloc_object_hook(object, size, alignment_mask);
}
HM_HOOK_CODE void *__wrap_swift_initStackObject(const void *metadata, void *object) {
    hm_count_stack_object();
    return __real_swift_initStackObject(metadata, object);
}

// MARK: GOT patching

typedef struct {
    const char *name;
    void *hook;
    void **real;
} hm_hooked_symbol;

static hm_hooked_symbol hm_symbols[] = {
    {"swift_allocObject", (void *)hm_alloc_hook, (void **)&hm_real_alloc},
    {"swift_deallocClassInstance", (void *)hm_dealloc_class_hook, (void **)&hm_real_dealloc_class},
    {"swift_deallocPartialClassInstance", (void *)hm_dealloc_partial_hook, (void **)&hm_real_dealloc_partial},
    {"swift_deallocObject", (void *)hm_dealloc_object_hook, (void **)&hm_real_dealloc_object},
    {"swift_initStackObject", (void *)hm_init_stack_hook, (void **)&hm_real_init_stack},
};
enum { HM_SYMBOL_COUNT = sizeof(hm_symbols) / sizeof(hm_symbols[0]) };

typedef struct {
    void **slot;
    void *original;
} hm_patch;

static hm_patch *hm_patches;
static size_t hm_patch_count, hm_patch_capacity;
static pthread_mutex_t hm_patch_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    int saw_runtime;   // libswiftCore is a loaded image
    size_t patched;    // entries patched by this scan
    int skip_main;     // the executable is linked with --wrap: its calls reach the hooks already
} hm_scan;

static int hm_is_runtime(const char *name) { return strstr(name, "libswiftCore.so") != NULL; }

static uintptr_t hm_dynamic_address(const struct dl_phdr_info *info, ElfW(Addr) value) {
    // glibc relocates most d_ptr entries in place; the vDSO and others do not.
    return value < info->dlpi_addr ? info->dlpi_addr + value : value;
}

static int hm_already_patched(void **slot) {
    for (size_t i = 0; i < hm_patch_count; i++)
        if (hm_patches[i].slot == slot) return 1;
    return 0;
}

// Writes `value` to `slot`, making a RELRO page writable for the write.
static int hm_write_slot(const struct dl_phdr_info *info, void **slot, void *value) {
    uintptr_t address = (uintptr_t)slot;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_GNU_RELRO) continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (address < start || address >= end) continue;
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), base = address & ~(page - 1);
        if (mprotect((void *)base, page, PROT_READ | PROT_WRITE) != 0) return -1;
        __atomic_store_n(slot, value, __ATOMIC_RELEASE);
        mprotect((void *)base, page, PROT_READ);
        return 0;
    }
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    return 0;
}

static void hm_patch_relocations(struct dl_phdr_info *info, hm_scan *scan, const ElfW(Rela) *relocations,
                                 size_t count, const ElfW(Sym) *symbols, const char *strings) {
    for (size_t r = 0; r < count; r++) {
        unsigned long type = ELF64_R_TYPE(relocations[r].r_info);
#if defined(__x86_64__)
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
#elif defined(__aarch64__)
        if (type != R_AARCH64_JUMP_SLOT && type != R_AARCH64_GLOB_DAT) continue;
#endif
        const char *name = strings + symbols[ELF64_R_SYM(relocations[r].r_info)].st_name;
        if (strncmp(name, "swift_", 6) != 0) continue;
        for (int s = 0; s < HM_SYMBOL_COUNT; s++) {
            if (strcmp(name, hm_symbols[s].name) != 0) continue;
            void **slot = (void **)(info->dlpi_addr + relocations[r].r_offset);
            if (hm_already_patched(slot)) break;
            if (hm_patch_count == hm_patch_capacity) {
                size_t capacity = hm_patch_capacity ? hm_patch_capacity * 2 : 64;
                hm_patch *grown = realloc(hm_patches, capacity * sizeof(hm_patch));
                if (!grown) return;
                hm_patches = grown;
                hm_patch_capacity = capacity;
            }
            void *original = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
            if (hm_write_slot(info, slot, hm_symbols[s].hook) == 0) {
                hm_patches[hm_patch_count++] = (hm_patch){slot, original};
                scan->patched++;
            }
            break;
        }
    }
}

static int hm_scan_image(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    hm_scan *scan = context;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    // The executable is the image without a name; wrapped, its GOT entries
    // for the entry points are what `__real_*` calls go through.
    if (scan->skip_main && name[0] == 0) return 0;
    if (hm_is_runtime(name)) {
        scan->saw_runtime = 1;
        uintptr_t low = UINTPTR_MAX, high = 0;
        for (int i = 0; i < info->dlpi_phnum; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            if (ph->p_type != PT_LOAD) continue;
            uintptr_t start = info->dlpi_addr + ph->p_vaddr;
            if (start < low) low = start;
            if (start + ph->p_memsz > high) high = start + ph->p_memsz;
        }
        hm_core_low = low;
        hm_core_high = high;
        return 0;  // its internal calls are direct; its GOT is not ours to touch
    }
    if (strstr(name, "linux-vdso") || strstr(name, "ld-linux")) return 0;
    const ElfW(Dyn) *dynamic = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dynamic) return 0;
    const ElfW(Sym) *symbols = NULL;
    const char *strings = NULL;
    const ElfW(Rela) *plt = NULL, *rela = NULL;
    size_t plt_size = 0, rela_size = 0;
    for (const ElfW(Dyn) *d = dynamic; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB: symbols = (const ElfW(Sym) *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_STRTAB: strings = (const char *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_JMPREL: plt = (const ElfW(Rela) *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_PLTRELSZ: plt_size = d->d_un.d_val; break;
        case DT_RELA: rela = (const ElfW(Rela) *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_RELASZ: rela_size = d->d_un.d_val; break;
        }
    }
    if (!symbols || !strings) return 0;
    if (plt) hm_patch_relocations(info, scan, plt, plt_size / sizeof(ElfW(Rela)), symbols, strings);
    if (rela) hm_patch_relocations(info, scan, rela, rela_size / sizeof(ElfW(Rela)), symbols, strings);
    return 0;
}

static int hm_resolve_real_functions(void) {
    for (int s = 0; s < HM_SYMBOL_COUNT; s++) {
        if (*hm_symbols[s].real) continue;
        // The runtime's own definition, never the GOT's current value: lazy
        // binding would rewrite that.
        void *real = dlsym(RTLD_DEFAULT, hm_symbols[s].name);
        if (!real) return -1;
        *hm_symbols[s].real = real;
    }
    return 0;
}

int hm_hooks_install(void) {
    pthread_mutex_lock(&hm_patch_lock);
    hm_scan scan = {0, 0, hm_wrapped};
    int result = HM_INSTALLED;
    if (hm_wrapped) {
        // Linked with --wrap: the executable's calls are hooked; a dynamic
        // runtime's other users (Foundation, Dispatch) are patched as usual.
        // A static executable has no such images: nothing more to do.
        if (hm_resolve_real_functions() == 0) dl_iterate_phdr(hm_scan_image, &scan);
    } else if (hm_resolve_real_functions() != 0) {
        result = HM_STATIC_STDLIB;
    } else {
        dl_iterate_phdr(hm_scan_image, &scan);
        if (!scan.saw_runtime) result = HM_STATIC_STDLIB;
        else if (hm_patch_count == 0) result = HM_NOTHING_TO_PATCH;
    }
    pthread_mutex_unlock(&hm_patch_lock);
    return result;
}

static int hm_restore_image(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    (void)context;
    for (size_t i = 0; i < hm_patch_count; i++) {
        hm_patch *patch = &hm_patches[i];
        if (!patch->slot) continue;
        uintptr_t address = (uintptr_t)patch->slot;
        for (int p = 0; p < info->dlpi_phnum; p++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[p];
            uintptr_t start = info->dlpi_addr + ph->p_vaddr;
            if (ph->p_type != PT_LOAD || address < start || address >= start + ph->p_memsz) continue;
            hm_write_slot(info, patch->slot, patch->original);
            patch->slot = NULL;
            break;
        }
    }
    return 0;
}

void hm_hooks_uninstall(void) {
    pthread_mutex_lock(&hm_patch_lock);
    dl_iterate_phdr(hm_restore_image, NULL);
    hm_patch_count = 0;  // entries of unloaded images are gone with them
    pthread_mutex_unlock(&hm_patch_lock);
}

size_t hm_hooks_patched_entries(void) {
    pthread_mutex_lock(&hm_patch_lock);
    size_t count = hm_patch_count;
    pthread_mutex_unlock(&hm_patch_lock);
    return count;
}
