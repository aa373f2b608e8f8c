#include "CHeapHooks.h"
#include "hooks_internal.h"

#include <pthread.h>

// Which classes the hooks record: a registry of classes (by metadata or by
// nominal type descriptor) and name patterns, written under a lock, and a
// lock-free cache of each metadata's flags that the hooks read on every call.

// Class metadata on Linux: kind word 0, superclass at +8, descriptor at +40.
enum { HM_REGISTRY_CAPACITY = 256, HM_MAX_DEPTH = 64 };

typedef struct {
    _Atomic uintptr_t key;  // metadata, or descriptor | 1
    _Atomic uint32_t flags;
} hm_registration;

static hm_registration hm_registry[HM_REGISTRY_CAPACITY];
static _Atomic size_t hm_registry_count;
static pthread_mutex_t hm_registry_lock = PTHREAD_MUTEX_INITIALIZER;
// Bumped on every registry change, before the cache is emptied.
_Atomic uint32_t hm_generation __attribute__((aligned(64))) = 1;
_Atomic uint64_t hm_filter[HM_FILTER_SLOTS];
_Atomic int hm_active_work;
// Every class outside the standard library is watched (for leak scans).
static _Atomic int hm_watching_all;
static uintptr_t hm_core_low, hm_core_high;  // libswiftCore's mapped range

void hm_set_runtime_range(uintptr_t low, uintptr_t high) {
    hm_core_low = low;
    hm_core_high = high;
}

int hm_in_runtime(uintptr_t address) { return address >= hm_core_low && address < hm_core_high; }

int hm_is_runtime_class(const void *metadata) { return hm_in_runtime(((const uintptr_t *)metadata)[5]); }

int hm_hooks_have_work(void) { return atomic_load_explicit(&hm_active_work, HM_ACQUIRE) != 0; }

void hm_set_active(int bit, int on) {
    if (on) atomic_fetch_or_explicit(&hm_active_work, bit, HM_RELEASE);
    else atomic_fetch_and_explicit(&hm_active_work, ~bit, HM_RELEASE);
    if (on && bit == HM_ACTIVE_CLASSES) hm_event_clock_wake();
    // Nothing tracked: classes end through their own destroyers again.
    if (!on && bit == HM_ACTIVE_CLASSES) hm_restore_destroyers();
    hm_route_frees();
}

static uint32_t hm_registered_flags(uintptr_t key) {
    size_t count = atomic_load_explicit(&hm_registry_count, HM_ACQUIRE);
    for (size_t i = 0; i < count; i++) {
        if (atomic_load_explicit(&hm_registry[i].key, HM_RELAXED) == key)
            return atomic_load_explicit(&hm_registry[i].flags, HM_RELAXED);
    }
    return 0;
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

// Kept out of line so that the hit path needs no stack frame. The flags
// are computed from the registry as of `before` (acquire: a change's
// registry writes come before its generation). An entry stored while a
// change empties the cache could outlive it, so after storing it the miss
// looks at the generation again and takes the entry back if it moved. The
// two sequentially consistent fences — here, and in the change between its
// generation and its emptying — make that look see the change whenever
// the emptying came before the store.
__attribute__((noinline)) uint32_t hm_filter_miss(const void *metadata, size_t slot) {
    uint32_t before = atomic_load_explicit(&hm_generation, HM_ACQUIRE);
    uint32_t flags = hm_compute_flags(metadata);
    uint64_t entry = ((uint64_t)(uintptr_t)metadata << 16) | flags;
    atomic_store_explicit(&hm_filter[slot], entry, HM_RELAXED);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&hm_generation, HM_RELAXED) != before)
        atomic_compare_exchange_strong_explicit(&hm_filter[slot], &entry, 0, HM_RELAXED, HM_RELAXED);
    return flags;
}

uint32_t hm_class_flags(const void *metadata) { return hm_filter_flags(metadata); }

// Every change empties the cache: a hook then misses and computes the
// flags afresh (see `hm_filter_miss` for a miss that races with it).
static void hm_registry_changed(void) {
    int any = 0;
    size_t count = atomic_load_explicit(&hm_registry_count, HM_RELAXED);
    for (size_t i = 0; i < count; i++) any |= atomic_load_explicit(&hm_registry[i].flags, HM_RELAXED) != 0;
    any |= hm_patterns_active();
    any |= atomic_load_explicit(&hm_watching_all, HM_RELAXED);
    hm_set_active(HM_ACTIVE_CLASSES, any);
    atomic_fetch_add_explicit(&hm_generation, 1, HM_RELEASE);
    atomic_thread_fence(memory_order_seq_cst);
    for (size_t slot = 0; slot < HM_FILTER_SLOTS; slot++) atomic_store_explicit(&hm_filter[slot], 0, HM_RELAXED);
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

// Tracking does not follow a fork: a child has no drains (its events would
// pile up for good) and no control channel, so its hooks pass everything
// through until it tracks anew. The registry's, patch and destroyer locks
// (taken in that order, as a registry change does) are held around the
// fork, so that they are free in the child for that.
static void hm_registry_before_fork(void) {
    pthread_mutex_lock(&hm_registry_lock);
    pthread_mutex_lock(&hm_patch_lock);
    pthread_mutex_lock(&hm_destroyer_lock);
}
static void hm_registry_after_fork(void) {
    pthread_mutex_unlock(&hm_destroyer_lock);
    pthread_mutex_unlock(&hm_patch_lock);
    pthread_mutex_unlock(&hm_registry_lock);
}
static void hm_registry_in_child(void) {
    atomic_store_explicit(&hm_active_work, 0, HM_RELAXED);
    hm_registry_after_fork();
}

__attribute__((constructor)) static void hm_registry_init(void) {
    pthread_atfork(hm_registry_before_fork, hm_registry_after_fork, hm_registry_in_child);
}

uint32_t hm_filter_generation(void) { return atomic_load_explicit(&hm_generation, HM_ACQUIRE); }
