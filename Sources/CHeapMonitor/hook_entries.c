#define _GNU_SOURCE
#include "CHeapMonitor.h"
#include "hook_entries.h"
#include "hooks_internal.h"

#include <dlfcn.h>

// The hooks: each calls the runtime's function and, when a class is
// tracked or the census is on, records the event in the calling thread's
// log. The common case — nothing to record — is decided from one word and
// the filter cache, with no stack frame of its own; everything else goes to
// an out-of-line function.

hm_entry_points hm_runtime;
int hm_wrapped;

// The hooks' code sits in a section of its own, so that a trace can leave
// out the frames inside it however the compiler inlined or tail-called.
#define HM_HOOK_CODE __attribute__((section("hm_hook_text")))
extern const char __start_hm_hook_text[], __stop_hm_hook_text[];

// MARK: Recording

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

static void hm_drop(uint64_t events) { atomic_fetch_add_explicit(&hm_dropped, events, HM_RELAXED); }

// Records a birth (with its call stack when the class is traced) or a death
// in the calling thread's log, and counts it in the census. `birth` is a
// constant at each call: each hook keeps only its own half.
__attribute__((always_inline)) static inline void hm_record(void *object, const void *metadata, uint32_t flags,
                                                             int census, int birth) {
    hm_log *log = hm_current_log();
    if (!log) { hm_drop(1); return; }
    // No birth was recorded and there is no block to size (jemalloc
    // faults on a stack address, glibc reads garbage as its header).
    if (!birth && hm_on_own_stack(object)) return;
    hm_lock_late(log);
    if (census) hm_census_count(log, object, (uintptr_t)metadata, birth);
    if (flags & (birth ? HM_CLASS_TRACKED : HM_CLASS_DEATHS)) {
        uintptr_t frames[HM_TRACE_EVENTS * 3];
        size_t frame_count =
            birth && (flags & HM_CLASS_TRACED) ? hm_capture_frames(log, frames, HM_TRACE_EVENTS * 3) : 0;
        size_t trace_events = (frame_count + 2) / 3;
        hm_event *event = hm_reserve(log, 1 + trace_events);
        if (!event) {
            hm_drop(1);
        } else {
            *event = (hm_event){hm_event_time(), (uint64_t)object, (uint64_t)metadata,
                                birth ? HM_EVENT_ALLOC : HM_EVENT_DEALLOC, (uint32_t)trace_events};
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

// Records an event of a tracked class in the calling thread's own log, if
// its chunk has room: the common case, inlined into the death hooks and
// the allocation's out-of-line path. Returns 0 for anything else (no log
// yet, the shared late log, a full chunk), which the slower path handles:
// `hm_reserve` here would bring its call to a fresh chunk, and with it
// saved registers, into every hook's frame. A thread's own log always has
// a chunk.
__attribute__((always_inline)) static inline int hm_recorded_quickly(void *object, const void *metadata,
                                                                      uint32_t kind) {
    hm_log *log = hm_thread_log;
    if (__builtin_expect(!log || log == &hm_late_log || log->write_count >= HM_CHUNK_EVENTS, 0)) return 0;
    log->write->events[log->write_count] =
        (hm_event){hm_event_time(), (uint64_t)object, (uint64_t)metadata, kind, 0};
    hm_commit(log, 1);
    return 1;
}

// MARK: Hooks

static inline int hm_active(void) { return atomic_load_explicit(&hm_active_work, HM_RELAXED); }

// Whether the object's class may need recording: the census is on, the
// cache misses, or the cached flags contain `wanted`.
__attribute__((always_inline)) static inline int hm_may_record(const void *metadata, int work, uint32_t wanted) {
    if (hm_census_on(work)) return 1;
    uint64_t entry;
    return !hm_filter_cached(metadata, &entry) || (entry & wanted);
}

// With the census the only work, an event of the class its thread counted
// last is counted here, without the observed path's frame; returns 0 for
// anything else (the late log is shared under a lock).
__attribute__((always_inline)) static inline int hm_counted_quickly(void *object, const void *metadata, int work,
                                                                     int birth) {
    if (work != HM_ACTIVE_CENSUS) return 0;
    hm_log *log = hm_thread_log;
    if (!log || log == &hm_late_log) return 0;
    hm_census_slot *slot = hm_census_last_slot(log, (uintptr_t)metadata);
    if (!slot) return 0;
    if (birth || !hm_on_own_stack(object)) hm_census_add(slot, object, birth);
    return 1;
}

// A tracked class's birth is recorded only when its death will reach a
// hook: its destroyer's, or the free's (class_destroyers.c). A class
// watched only for leak scans is not caught: the free is hooked for those.
__attribute__((always_inline)) static inline int hm_deaths_watched(const void *metadata, uint64_t flags) {
    if (__builtin_expect((flags & HM_CLASS_WATCHED) || hm_destroyer_hooked(metadata), 1)) return 1;
    return hm_catch_deaths(metadata);
}

__attribute__((noinline)) HM_HOOK_CODE static void *hm_alloc_observed(void *object, const void *metadata, int work) {
    uint32_t flags = (work & HM_ACTIVE_CLASSES) ? hm_filter_flags(metadata) : 0;
    int census = hm_census_on(work);
    if ((flags & HM_CLASS_TRACKED) && !hm_deaths_watched(metadata, flags)) flags = 0;
    if ((flags & HM_CLASS_TRACKED) || census) hm_record(object, metadata, flags, census, 1);
    return object;
}

// An allocation the monitor may want: the runtime's, then its record.
// `entry` is the filter cache's for the class, or 0 (a miss, other work).
__attribute__((noinline)) HM_HOOK_CODE static void *hm_alloc_busy(const void *metadata, size_t size,
                                                                  size_t alignment_mask, int work, uint64_t entry) {
    void *object = hm_runtime.alloc(metadata, size, alignment_mask);
    if ((entry & (HM_CLASS_TRACKED | HM_CLASS_TRACED)) == HM_CLASS_TRACKED &&
        hm_destroyer_hooked(metadata) && hm_recorded_quickly(object, metadata, HM_EVENT_ALLOC))
        return object;
    if (!hm_counted_quickly(object, metadata, work, 1) && hm_may_record(metadata, work, HM_CLASS_TRACKED))
        return hm_alloc_observed(object, metadata, work);
    return object;
}

// The hooks' common case, an untracked class, is decided before anything
// else and ends in a jump to the runtime's function: no register saved, no
// frame. The hook of an allocation decides it before the runtime runs,
// from the metadata alone, and hands the cache's entry on.
HM_HOOK_CODE static void *hm_alloc_hook(const void *metadata, size_t size, size_t alignment_mask) {
    int work = hm_active();
    uint64_t entry = 0;
    int cached = work == HM_ACTIVE_CLASSES && hm_filter_cached(metadata, &entry);
    if (__builtin_expect(!work || (cached && !(entry & HM_CLASS_TRACKED)), 1))
        return hm_runtime.alloc(metadata, size, alignment_mask);
    return hm_alloc_busy(metadata, size, alignment_mask, work, cached ? entry : 0);
}

// The runtime's function a death hook ends in.
typedef enum { HM_FREE_CLASS, HM_FREE_PARTIAL, HM_FREE_OBJECT } hm_free_kind;

// Whether a death the free sees was recorded by its class's destroyer hook
// already. A half-made object never reaches its destroyer.
__attribute__((always_inline)) static inline int hm_death_caught(const void *metadata, hm_free_kind kind) {
    return kind != HM_FREE_PARTIAL && hm_destroyer_hooked(metadata);
}

// A death that is more than a cache hit or a quick record, and then the
// runtime's free: its hook ends in a jump here or to the runtime, and
// saves no register.
__attribute__((noinline)) HM_HOOK_CODE static void hm_death_busy(void *object, const void *partial_metadata,
                                                                 size_t size, size_t alignment_mask, int work,
                                                                 hm_free_kind kind) {
    const void *metadata = *(const void *const *)object;
    if (!hm_counted_quickly(object, metadata, work, 0) && hm_may_record(metadata, work, HM_CLASS_DEATHS)) {
        uint32_t flags = (work & HM_ACTIVE_CLASSES) ? hm_filter_flags(metadata) : 0;
        if ((flags & HM_CLASS_DEATHS) && hm_death_caught(metadata, kind)) flags &= ~(uint32_t)HM_CLASS_DEATHS;
        int census = hm_census_on(work);
        if ((flags & HM_CLASS_DEATHS) || census) hm_record(object, metadata, flags, census, 0);
    }
    switch (kind) {
    case HM_FREE_CLASS: hm_runtime.dealloc_class(object, size, alignment_mask); break;
    case HM_FREE_PARTIAL: hm_runtime.dealloc_partial(object, partial_metadata, size, alignment_mask); break;
    case HM_FREE_OBJECT: hm_runtime.dealloc_object(object, size, alignment_mask); break;
    }
}

// Whether a death is done with in the hook itself: no work, or only
// tracked classes and the filter cache's entry alone settles it — not the
// class's, or recorded quickly. (The census's quick count stays out: it
// needs saved registers, which every hook would then pay.)
__attribute__((always_inline)) static inline int hm_death_done(void *object, int work, hm_free_kind kind) {
    if (!work) return 1;
    if (work != HM_ACTIVE_CLASSES) return 0;
    const void *metadata = *(const void *const *)object;
    uint64_t entry;
    if (!hm_filter_cached(metadata, &entry)) return 0;
    if (!(entry & HM_CLASS_DEATHS) || hm_death_caught(metadata, kind)) return 1;
    // A promoted object dies on its thread's stack, never born here.
    if (hm_on_own_stack(object)) return 1;
    return hm_recorded_quickly(object, metadata, HM_EVENT_DEALLOC);
}

HM_HOOK_CODE static void hm_dealloc_class_hook(void *object, size_t size, size_t alignment_mask) {
    int work = hm_active();
    if (__builtin_expect(hm_death_done(object, work, HM_FREE_CLASS), 1))
        hm_runtime.dealloc_class(object, size, alignment_mask);
    else
        hm_death_busy(object, NULL, size, alignment_mask, work, HM_FREE_CLASS);
}

HM_HOOK_CODE static void hm_dealloc_partial_hook(void *object, const void *metadata, size_t size,
                                                 size_t alignment_mask) {
    int work = hm_active();
    if (__builtin_expect(hm_death_done(object, work, HM_FREE_PARTIAL), 1))
        hm_runtime.dealloc_partial(object, metadata, size, alignment_mask);
    else
        hm_death_busy(object, metadata, size, alignment_mask, work, HM_FREE_PARTIAL);
}

HM_HOOK_CODE static void hm_dealloc_object_hook(void *object, size_t size, size_t alignment_mask) {
    int work = hm_active();
    if (__builtin_expect(hm_death_done(object, work, HM_FREE_OBJECT), 1))
        hm_runtime.dealloc_object(object, size, alignment_mask);
    else
        hm_death_busy(object, NULL, size, alignment_mask, work, HM_FREE_OBJECT);
}

// A death of an object of a class caught in its metadata: recorded when
// its class's deaths are wanted (the census counts it at the free), then
// the class's own destroyer, which runs the deinit and frees the object.
__attribute__((noinline)) HM_HOOK_CODE static void hm_destroyed_busy(void *object, const void *metadata) {
    uint32_t flags = hm_filter_flags(metadata);
    if (flags & HM_CLASS_DEATHS) hm_record(object, metadata, flags, 0, 0);
}

HM_HOOK_CODE __attribute__((swiftcall)) void hm_destroy_hook(void *__attribute__((swift_context)) object) {
    const void *metadata = *(const void *const *)object;
    if (hm_active() & HM_ACTIVE_CLASSES) {
        uint64_t entry;
        int cached = hm_filter_cached(metadata, &entry);
        if (!cached) hm_destroyed_busy(object, metadata);
        // A promoted object dies on its thread's stack, never born here.
        else if ((entry & HM_CLASS_DEATHS) && !hm_on_own_stack(object) &&
                 !hm_recorded_quickly(object, metadata, HM_EVENT_DEALLOC))
            hm_destroyed_busy(object, metadata);
    }
    hm_destroyer original = hm_original_destroyer(metadata);
    // Never reached for a class this hook was not put in for; if it were,
    // the object would be left alive rather than ended by a guess.
    if (__builtin_expect(original != NULL, 1)) original(object);
    else atomic_fetch_add_explicit(&hm_destroyers_lost, 1, HM_RELAXED);
}

HM_HOOK_CODE static void *hm_init_stack_hook(const void *metadata, void *object) {
    hm_count_stack_object();
    return hm_runtime.init_stack(metadata, object);
}

// Each hook has its entry point's type: a mismatch fails the build.
#define HM_CHECK_HOOK_TYPE(field, symbol, type)                                              \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&hm_##field##_hook), type),       \
                   "hm_" #field "_hook does not have " #symbol "'s type");
HM_ENTRY_POINTS(HM_CHECK_HOOK_TYPE)
#undef HM_CHECK_HOOK_TYPE

const hm_entry_points hm_hooks = {
#define HM_HOOK_FIELD(field, symbol, type) .field = hm_##field##_hook,
    HM_ENTRY_POINTS(HM_HOOK_FIELD)
#undef HM_HOOK_FIELD
};

static const char *const hm_entry_symbols[HM_ENTRY_POINT_COUNT] = {
#define HM_SYMBOL_NAME(field, symbol, type) #symbol,
    HM_ENTRY_POINTS(HM_SYMBOL_NAME)
#undef HM_SYMBOL_NAME
};

const char *hm_entry_symbol(int index) { return hm_entry_symbols[index]; }

void *hm_entry_hook(int index) {
    void *hooks[HM_ENTRY_POINT_COUNT] = {
#define HM_HOOK_ADDRESS(field, symbol, type) (void *)hm_hooks.field,
        HM_ENTRY_POINTS(HM_HOOK_ADDRESS)
#undef HM_HOOK_ADDRESS
    };
    return hooks[index];
}

int hm_resolve_runtime(void) {
    // The runtime's own definitions, never a GOT's current value: lazy
    // binding would rewrite that.
#define HM_RESOLVE(field, symbol, type) \
    if (!hm_runtime.field && !(hm_runtime.field = (type)dlsym(RTLD_DEFAULT, #symbol))) return -1;
    HM_ENTRY_POINTS(HM_RESOLVE)
#undef HM_RESOLVE
    return 0;
}

// MARK: Linker wrapping (-static-stdlib)

// With the runtime linked in statically there is no GOT entry to patch; an
// executable linked with `-Xlinker --wrap=swift_allocObject` (and the other
// entry points) calls `__wrap_*` instead, and the linker resolves
// `__real_*` to the runtime. Unwrapped executables leave the weak
// references null.
#define HM_DECLARE_REAL(field, symbol, type) extern __typeof__(*(type)0) __real_##symbol __attribute__((weak));
HM_ENTRY_POINTS(HM_DECLARE_REAL)
#undef HM_DECLARE_REAL

__attribute__((constructor)) static void hm_detect_wrapping(void) {
    if (!__real_swift_allocObject || !__real_swift_deallocClassInstance || !__real_swift_deallocObject) return;
#define HM_TAKE_REAL(field, symbol, type) hm_runtime.field = __real_##symbol;
    HM_ENTRY_POINTS(HM_TAKE_REAL)
#undef HM_TAKE_REAL
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
void hm_test_record(void *object, const void *metadata, int birth) {
    if (birth) hm_record(object, metadata, HM_CLASS_TRACKED, 0, 1);
    else hm_record(object, metadata, HM_CLASS_DEATHS, 0, 0);
}

void hm_test_stack_object(const void *metadata, void *buffer, size_t size) {
    hm_dealloc_class_hook(hm_init_stack_hook(metadata, buffer), size, 7);
}

HM_HOOK_CODE void *__wrap_swift_initStackObject(const void *metadata, void *object) {
    return hm_init_stack_hook(metadata, object);
}

#define HM_CHECK_WRAP_TYPE(field, symbol, type)                                              \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&__wrap_##symbol), type),         \
                   "__wrap_" #symbol " does not have " #symbol "'s type");
HM_ENTRY_POINTS(HM_CHECK_WRAP_TYPE)
#undef HM_CHECK_WRAP_TYPE
