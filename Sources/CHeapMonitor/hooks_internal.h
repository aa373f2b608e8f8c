#ifndef HM_HOOKS_INTERNAL_H
#define HM_HOOKS_INTERNAL_H

// The recording core's parts, shared between the writer side (the hooks,
// inside the host's allocation path) and the reader side (reader.c, on the
// monitor's thread):
//   event_clock.c    the time an event is stamped with
//   class_filter.c   which classes to record, cached per metadata
//   event_logs.c     one log of events per thread
//   census.c         instances counted per class
//   hook_entries.c   the hooks themselves, and the linker's wraps
//   got_patching.c   putting the hooks into the loaded images' GOTs
//   class_destroyers.c  catching tracked classes' deaths in their metadata
// Everything on the writer side runs inside the host's allocation path: no
// Swift objects, no locks on the hot path, plain calloc for tables (never
// freed while a writer may hold them).

#include "CHeapHooks.h"
#include "CHeapMonitor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

// Everything declared here is the library's own: hidden, so that calls and
// loads on the hot path go straight to it rather than through the PLT and
// the GOT (which let another image interpose a public symbol).
#pragma GCC visibility push(hidden)

#define HM_RELAXED memory_order_relaxed
#define HM_ACQUIRE memory_order_acquire
#define HM_RELEASE memory_order_release

// MARK: Event clock (event_clock.c)

extern _Atomic uint64_t hm_event_clock;

/// The time of an event now: CLOCK_MONOTONIC nanoseconds as of the clock
/// thread's last tick (at most a millisecond old while it keeps up).
///
/// A relaxed load orders what the reader needs: when one event happens
/// before another (a free before the allocation that reuses the block, a
/// birth before the hand-off of its object), the allocator or the program
/// synchronised the two threads, and a load that happens before another
/// load of the same atomic never sees a later value (read-read coherence).
/// So such events have non-decreasing times; equal ones are ordered by the
/// reader (reader.c, `hm_resolve_tick`).
static inline uint64_t hm_event_time(void) { return atomic_load_explicit(&hm_event_clock, HM_RELAXED); }

/// Starts the clock thread, or wakes it: classes are tracked from now.
void hm_event_clock_wake(void);

// MARK: Class filter (class_filter.c)

enum { HM_FILTER_SLOTS = 512 };
// What the hooks have to do, in one word read on every call.
enum { HM_ACTIVE_CLASSES = 1, HM_ACTIVE_CENSUS = 2 };

extern _Atomic int hm_active_work;
extern _Atomic uint64_t hm_filter[HM_FILTER_SLOTS];
extern _Atomic uint32_t hm_generation;

/// Turns one kind of work (`HM_ACTIVE_…`) on or off for every hook.
void hm_set_active(int bit, int on);
uint32_t hm_filter_miss(const void *metadata, size_t slot);

/// The hash of class metadata for the filter cache and the census tables
/// (the low four bits vary little); mask it to the table's size.
static inline size_t hm_metadata_hash(uintptr_t metadata) { return (metadata >> 4) ^ (metadata >> 16); }

static inline size_t hm_filter_slot(uintptr_t metadata) { return hm_metadata_hash(metadata) & (HM_FILTER_SLOTS - 1); }

/// Whether the cache holds `metadata`'s flags; its entry into `*entry`
/// either way. (A flag result, not a zero entry: the hooks would test both.)
///
/// An entry is metadata << 16 | flags (4 bits); 0 is empty. A relaxed load
/// suffices: an entry is one word, never torn, and every registry change
/// empties the cache (class_filter.c, `hm_registry_changed`), while a miss
/// that raced with a change takes its own entry back (`hm_filter_miss`).
static inline int hm_filter_cached(const void *metadata, uint64_t *entry) {
    uintptr_t md = (uintptr_t)metadata;
    *entry = atomic_load_explicit(&hm_filter[hm_filter_slot(md)], HM_RELAXED);
    return (*entry >> 16) == md;
}

__attribute__((always_inline)) static inline uint32_t hm_filter_flags(const void *metadata) {
    uint64_t entry;
    if (__builtin_expect(hm_filter_cached(metadata, &entry), 1)) return entry & 0xf;
    return hm_filter_miss(metadata, hm_filter_slot((uintptr_t)metadata));
}

/// Records libswiftCore's mapped range (found while patching): its classes
/// are freed inside it, unseen, and stay out of tracking and the census.
void hm_set_runtime_range(uintptr_t low, uintptr_t high);
int hm_in_runtime(uintptr_t address);

// Class-name patterns (class_patterns.c); writers hold the registry lock.
int hm_pattern_store(const char *text, uint32_t flags);
void hm_patterns_clear(void);
int hm_patterns_active(void);
uint32_t hm_pattern_flags(const void *metadata);

// MARK: Event logs (event_logs.c)

// 64 KiB chunks stay below glibc's mmap threshold: recycled, never unmapped.
// The writer asks for the line it will write `HM_PREFETCH_EVENTS` events on
// (hm_commit), a kilobyte ahead.
enum {
    HM_CHUNK_EVENTS = 2040,
    HM_TRACE_EVENTS = 5,
    HM_CENSUS_SLOTS = 2048,
    HM_POOLED_CHUNKS = 32,
    HM_PREFETCH_EVENTS = 32,
};

typedef struct hm_chunk {
    _Atomic(struct hm_chunk *) next;
    _Atomic size_t count;
    hm_event events[HM_CHUNK_EVENTS];
} hm_chunk;

typedef struct {
    _Atomic uintptr_t metadata;  // low bit: left out of the census
    _Atomic int64_t allocations, deallocations, allocated_bytes, deallocated_bytes;
} hm_census_slot;

enum hm_log_state { HM_LOG_ACTIVE = 0, HM_LOG_ORPHANED = 1, HM_LOG_REUSABLE = 2 };

/// One thread's events: a chain of chunks with one writer (the thread) and one
/// reader (the monitor). Drained chunks go back to the writer through `pool`.
/// Each side keeps its own copy of the count it last wrote or read, so that
/// the shared count's cache line moves between cores once per batch of
/// events, not once per event.
typedef struct hm_log {
    // Shared, read-mostly.
    struct hm_log *next_log;    // immutable once published
    _Atomic int state;
    uintptr_t stack_low, stack_high;
    _Atomic(hm_census_slot *) census;
    _Atomic int census_overflow;
    // The writer's.
    _Alignas(64) hm_chunk *write;
    size_t write_count;         // the writer's copy of `write->count`
    hm_chunk *private_pool;     // the writer's share of the pool
    _Atomic int64_t stack_objects;
    uintptr_t census_last;      // the class the writer counted last, and its slot
    hm_census_slot *census_last_slot;
    // The reader's, and the pool both push to.
    _Alignas(64) hm_chunk *read;
    size_t read_index;
    size_t read_limit;          // the reader's last look at `read->count`
    _Atomic(hm_chunk *) pool;   // drained chunks, linked by `next`; pushed by the reader, taken whole by the writer
    _Atomic int pooled;         // chunks in both pools
} hm_log;

extern _Atomic(hm_log *) hm_logs;
extern hm_log hm_late_log;
extern _Atomic int hm_late_log_ready;
extern _Atomic uint64_t hm_dropped;
extern _Atomic uint64_t hm_overhead;
extern __thread hm_log *hm_thread_log __attribute__((tls_model("initial-exec")));
/// The calling thread's stack, found when its first log was made; kept
/// after the log is retired, for the thread's last events in the late log.
extern __thread uintptr_t hm_thread_stack_low __attribute__((tls_model("initial-exec")));
extern __thread uintptr_t hm_thread_stack_high __attribute__((tls_model("initial-exec")));

void *hm_calloc_counted(size_t bytes);
void hm_free_counted(void *memory, size_t bytes);

hm_log *hm_new_thread_log(void);
hm_event *hm_reserve_slow(hm_log *log, size_t n);

/// The calling thread's log, made on its first event; NULL without memory.
static inline hm_log *hm_current_log(void) {
    hm_log *log = hm_thread_log;
    if (__builtin_expect(log != NULL, 1)) return log;
    return hm_new_thread_log();
}

/// Whether `object` lies in the calling thread's stack: an object the
/// runtime promoted there (`swift_initStackObject`), which dies through the
/// same entry points as a heap object but was never allocated. The runtime
/// promotes an object only within one thread's frames, so its last release
/// runs on that thread. The bounds are the thread's own, kept past its log
/// (a late-log event comes from a thread whose log was retired).
static inline int hm_on_own_stack(const void *object) {
    uintptr_t at = (uintptr_t)object;
    return at >= hm_thread_stack_low && at < hm_thread_stack_high;
}

/// Room for `n` events in the writer's chunk (a fresh chunk when it is
/// full), or NULL without memory: the caller drops the event and counts it.
static inline hm_event *hm_reserve(hm_log *log, size_t n) {
    if (__builtin_expect(log->write != NULL && log->write_count + n <= HM_CHUNK_EVENTS, 1))
        return &log->write->events[log->write_count];
    return hm_reserve_slow(log, n);
}

/// Whether the CPU has PREFETCHW (CPUID 0x80000001, ECX bit 8): every x86
/// CPU since Intel's Broadwell and AMD's first 64-bit ones. Set once at load.
extern int hm_cpu_prefetches_for_writing;

/// Asks for the cache line at `address` in a state the caller may write.
/// Without PREFETCHW, nothing: a read prefetch won about half as much
/// (hm_commit).
static inline void hm_prefetch_for_writing(const void *address) {
#if defined(__x86_64__)
    if (__builtin_expect(hm_cpu_prefetches_for_writing, 1))
        __asm__ volatile("prefetchw %0" : : "m"(*(const char *)address));
#else
    __builtin_prefetch(address, 1, 3);
#endif
}

/// Publishes the reserved events: the release store orders their contents
/// before the count the reader loads with acquire (reader.c, hm_peek).
///
/// Then asks for the line a kilobyte on. A chunk comes back from the
/// reader, whose core read it last, or fresh from the allocator; a store
/// to a line elsewhere waits for it, and the hooks' stores did so on
/// every other event (tracked 1.29-1.40x -> 1.20-1.25x of no hooks, with a
/// read prefetch 1.25-1.30x, in alternated runs).
static inline void hm_commit(hm_log *log, size_t n) {
    log->write_count += n;
    atomic_store_explicit(&log->write->count, log->write_count, HM_RELEASE);
    // Near the chunk's end, its last line: never another allocation's.
    size_t ahead = log->write_count + HM_PREFETCH_EVENTS - 1;
    hm_prefetch_for_writing(&log->write->events[ahead < HM_CHUNK_EVENTS ? ahead : HM_CHUNK_EVENTS - 1]);
}

// The late log is shared by threads whose own log was retired (their TLS
// destructors ran): its writers take a spin lock; its reader does not.
void hm_lock_late_log(void);
void hm_unlock_late_log(void);

static inline void hm_lock_late(hm_log *log) {
    if (__builtin_expect(log == &hm_late_log, 0)) hm_lock_late_log();
}

static inline void hm_unlock_late(hm_log *log) {
    if (__builtin_expect(log == &hm_late_log, 0)) hm_unlock_late_log();
}

/// Adds to a counter that only one thread writes at a time (the log's owner,
/// or the holder of the late log's lock), while readers load it at any
/// time: a relaxed load and store, not a read-modify-write, which would lock
/// the bus on every event. Two concurrent writers would lose counts.
static inline void hm_add_single_writer(_Atomic int64_t *counter, int64_t value) {
    atomic_store_explicit(counter, atomic_load_explicit(counter, HM_RELAXED) + value, HM_RELAXED);
}

// MARK: Class destroyers (class_destroyers.c)

/// What a class's metadata holds to end its objects (the deallocating
/// deinit): Swift's calling convention, the object in the context register.
typedef __attribute__((swiftcall)) void (*hm_destroyer)(void *__attribute__((swift_context)) object);

/// Where the destroyer lies before a class metadata's address point.
enum { HM_DESTROYER_OFFSET = 16 };

/// Records the death of an object of a class caught in its metadata and
/// calls on to the class's own destroyer (hook_entries.c).
__attribute__((swiftcall)) void hm_destroy_hook(void *__attribute__((swift_context)) object);

/// The destroyer `metadata` holds now.
static inline hm_destroyer hm_class_destroyer(const void *metadata) {
    return __atomic_load_n((hm_destroyer *)((uintptr_t)metadata - HM_DESTROYER_OFFSET), __ATOMIC_RELAXED);
}

/// Whether the class's deaths reach `hm_destroy_hook`, which records them:
/// the hooks on the runtime's free leave them alone.
static inline int hm_destroyer_hooked(const void *metadata) {
    return hm_class_destroyer(metadata) == hm_destroy_hook;
}

/// Points the class's destroyer at `hm_destroy_hook` before its first
/// recorded birth, or else hooks the runtime's free if it can without
/// waiting; whether the class's deaths reach a hook now (a birth is not
/// recorded otherwise).
int hm_catch_deaths(const void *metadata);
/// Held while a class's destroyer is written, and around a RELRO page's
/// unprotected moment; never while waiting for another lock.
extern pthread_mutex_t hm_destroyer_lock;

enum { HM_DESTROYER_SLOTS = 4096 };

/// A caught class and the destroyer it held (class_destroyers.c).
typedef struct {
    _Atomic uintptr_t metadata;  // 0: empty
    _Atomic(hm_destroyer) original;  // NULL: refused
} hm_destroyer_slot;

extern hm_destroyer_slot hm_destroyers[HM_DESTROYER_SLOTS];

/// Where the class's slot is looked for first (open addressing on from it).
static inline size_t hm_destroyer_home(uintptr_t metadata) {
    return hm_metadata_hash(metadata) & (HM_DESTROYER_SLOTS - 1);
}

hm_destroyer hm_original_destroyer_slowly(const void *metadata);

/// The destroyer a class held before it was caught, or NULL. Mostly the
/// class's first slot, looked at inline by the hook.
static inline hm_destroyer hm_original_destroyer(const void *metadata) {
    hm_destroyer_slot *slot = &hm_destroyers[hm_destroyer_home((uintptr_t)metadata)];
    if (__builtin_expect(atomic_load_explicit(&slot->metadata, HM_ACQUIRE) == (uintptr_t)metadata, 1))
        return atomic_load_explicit(&slot->original, HM_RELAXED);
    return hm_original_destroyer_slowly(metadata);
}
/// Puts back every destroyer still caught (nothing is tracked any more).
void hm_restore_destroyers(void);
/// Whether every tracked class's deaths were caught in its metadata.
int hm_destroyers_all_caught(void);
/// Objects whose destroyer hook found no destroyer to call on (never, so
/// far): left alive rather than ended by a guess.
extern _Atomic uint64_t hm_destroyers_lost;

// MARK: GOT patching (got_patching.c)

/// Held while writing the loaded images' GOTs or classes' destroyers.
extern pthread_mutex_t hm_patch_lock;

/// Hooks the runtime's free (`swift_deallocClassInstance`) where the work
/// needs it — the census, every class watched, a tracked class whose deaths
/// are not caught in its metadata — and passes it by otherwise.
void hm_route_frees(void);
/// As `hm_route_frees` from a hook, which must not wait for the patch lock
/// (its holder may wait for the loader's lock, which the hook's caller may
/// hold); whether the free is hooked now.
int hm_try_route_frees(void);

// MARK: Census (census.c)

static inline int hm_census_on(int work) { return (work & HM_ACTIVE_CENSUS) != 0; }

/// `metadata`'s slot in the log's census table, made on first need and
/// kept as the log's last; NULL for a class left out or without memory.
hm_census_slot *hm_census_slot_for(hm_log *log, uintptr_t metadata);

/// The log's census slot of the class it counted last, if that is
/// `metadata`'s: a thread mostly makes and frees objects of one class in a
/// row. Kept by the writer only (a slot never moves).
static inline hm_census_slot *hm_census_last_slot(hm_log *log, uintptr_t metadata) {
    return log->census_last == metadata ? log->census_last_slot : NULL;
}

/// Adds a birth or a death of the object at `object` to its class's slot.
static inline void hm_census_add(hm_census_slot *slot, const void *object, int birth) {
    int64_t bytes = (int64_t)hm_block_size(object);
    if (birth) {
        hm_add_single_writer(&slot->allocations, 1);
        hm_add_single_writer(&slot->allocated_bytes, bytes);
    } else {
        hm_add_single_writer(&slot->deallocations, 1);
        hm_add_single_writer(&slot->deallocated_bytes, bytes);
    }
}

/// Counts a birth or a death in the calling thread's census table: on every
/// event while the census is on, so inlined into the hooks.
static inline void hm_census_count(hm_log *log, const void *object, uintptr_t metadata, int birth) {
    hm_census_slot *slot = hm_census_last_slot(log, metadata);
    if (__builtin_expect(!slot, 0) && !(slot = hm_census_slot_for(log, metadata))) return;
    hm_census_add(slot, object, birth);
}

void hm_count_stack_object(void);

/// Where the census tables lie, at most `capacity` of them into `out`: the
/// heap walk must not take their slots for objects.
size_t hm_census_table_ranges(hm_range *out, size_t capacity);

#pragma GCC visibility pop

#endif
