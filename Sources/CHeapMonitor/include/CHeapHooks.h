#ifndef CHEAPHOOKS_H
#define CHEAPHOOKS_H

#include <stddef.h>
#include <stdint.h>

/// The hash of a heap address for the open-addressing tables, in C and in
/// Swift: the low four bits are alignment, and a Fibonacci multiply mixes
/// the rest best in the product's middle bits. Mask it to a power-of-two
/// table size.
static inline size_t hm_address_hash(uintptr_t address) {
    return (size_t)(((uint64_t)address >> 4) * 0x9E3779B97F4A7C15ull >> 20);
}

// Allocation hooks: the runtime's allocation entry points are observed by
// patching the GOT entries of every loaded image (never the runtime's own
// `_swift_allocObject` slot, which crashes string handling on Swift 6.3 Linux).
// Events go to per-thread logs with a single writer each, merged when read.

/// What an event records.
enum hm_event_kind {
    HM_EVENT_ALLOC = 1,
    HM_EVENT_DEALLOC = 2,
    /// Continuation of the preceding allocation: up to three return addresses.
    HM_EVENT_TRACE = 3,
};

/// One event: 32 bytes. An allocation's `extra` counts the trace events that
/// follow it; a trace's `time`, `address` and `metadata` hold return
/// addresses and its `extra` how many of them are valid.
typedef struct {
    uint64_t time;
    uint64_t address;
    uint64_t metadata;
    uint32_t kind;
    uint32_t extra;
} hm_event;

/// Flags of a class registered with the hooks.
enum hm_class_flags {
    /// Record allocations of it and of its subclasses.
    HM_CLASS_TRACKED = 1,
    /// Also capture the allocating call stack.
    HM_CLASS_TRACED = 2,
    /// Record deallocations of it and of its subclasses (set for every
    /// registered class: instances tracked earlier must see their death).
    HM_CLASS_DEATHS = 4,
    /// Recorded only because every class is watched (`hm_watch_all`).
    HM_CLASS_WATCHED = 8,
};

/// Result codes of `hm_hooks_install`.
enum hm_install_result {
    HM_INSTALLED = 0,
    /// The Swift runtime is linked statically: there is no GOT entry to patch.
    HM_STATIC_STDLIB = -1,
    /// No image calls the runtime's allocation entry points through the GOT.
    HM_NOTHING_TO_PATCH = -2,
};

/// Patches every loaded image that is not patched yet (call it again after
/// `dlopen`). Returns an `hm_install_result`.
int hm_hooks_install(void);
/// Restores every patched entry.
void hm_hooks_uninstall(void);
/// Number of GOT entries currently patched.
size_t hm_hooks_patched_entries(void);

/// Registers a class (`by_descriptor` 0: this metadata; 1: `key` is a nominal
/// type descriptor, matching every generic specialisation) with `flags`,
/// replacing earlier flags; 0 flags removes it. Returns 0, or -1 when full.
int hm_register_class(const void *key, int by_descriptor, uint32_t flags);
/// Registers a class-name pattern (`*` any run, `?` one character, matched
/// against `Module.Outer.Type`) with `flags`; 0 flags removes it. Returns the
/// pattern's slot, or -1 when the table (32) is full or the text too long.
int hm_register_pattern(const char *pattern, uint32_t flags);
/// The slot of the first registered pattern the class's name matches, or -1.
int hm_pattern_matching(const void *metadata);
/// Writes the class's qualified name (`Module.Outer.Type`, generic arguments
/// and private contexts left out) into `buffer`; its length, or -1.
int hm_class_qualified_name(const void *metadata, char *buffer, size_t capacity);
/// Whether `text` matches the glob `pattern` (`*`, `?`; case-sensitive).
int hm_glob_match(const char *pattern, const char *text);
/// Removes every registered class and pattern.
void hm_clear_classes(void);
/// Records births and deaths of every class outside the standard library
/// (flagged `HM_CLASS_WATCHED` unless registered), for leak scans.
void hm_watch_all(int on);
/// Whether every class is watched.
int hm_is_watching_all(void);
/// The flags the hooks apply to instances of `metadata`: the tracked and traced
/// bits of the most specialised registered ancestor that is tracked, and the
/// deaths bit if any ancestor is registered.
uint32_t hm_class_flags(const void *metadata);

/// Whether the monitor holds a live object at `address` (its records from
/// earlier drains), asked by `hm_drain` to order one address's events of one
/// time on different threads.
typedef int (*hm_liveness_check)(uint64_t address, void *context);

/// Reads every thread's events up to time `cutoff` (UINT64_MAX: all), merged
/// in time order; one address's events of one time on different threads in
/// the order their kinds alternate (births and deaths), starting from
/// whether `is_live` says the address holds an object. An object born and
/// freed within one drain is not returned but counted (see
/// `hm_drain_short_lived`). Returns the other events — in time order, except
/// that births of objects still alive come last; each birth followed by its
/// trace events — in a buffer valid until the next call. One reader at a time.
size_t hm_drain(uint64_t cutoff, const hm_event **events, hm_liveness_check is_live, void *context);
/// Ends the use of the last drain's events, giving back memory a large drain took.
void hm_drain_release(void);

/// Objects of one class born and freed within a drain.
typedef struct {
    const void *metadata;
    uint64_t count;
    /// Their lifetimes summed, in nanoseconds.
    uint64_t lifetime;
} hm_short_lived;
/// Moves the short-lived counts gathered since the last call into `out` (at
/// most `capacity` classes) and returns how many.
size_t hm_drain_short_lived(hm_short_lived *out, size_t capacity);
/// Events dropped because memory for a log could not be allocated.
uint64_t hm_dropped_events(void);

/// Counting of class instances by class (a census) on or off. Classes of the
/// standard library are left out (their storage is freed inside it, unseen).
void hm_census_enable(int on);
/// Whether the census is on.
int hm_census_enabled(void);
/// Whether any hook has work to do (classes tracked or watched, or the
/// census on): when none has, the hooks can come out of the GOT.
int hm_hooks_have_work(void);
/// One census row: instances of `metadata` allocated and freed so far while
/// the census was on, and their bytes as the allocator holds them.
typedef struct {
    const void *metadata;
    int64_t allocations;
    int64_t deallocations;
    int64_t allocated_bytes;
    int64_t deallocated_bytes;
} hm_census_row;
/// Sums every thread's census into `out` (at most `capacity` distinct classes,
/// unordered) and returns the number of rows written.
size_t hm_census_read(hm_census_row *out, size_t capacity);

/// Whether the class is defined in libswiftCore (known once hooks are
/// installed): its instances are freed inside the runtime, unseen.
int hm_is_runtime_class(const void *metadata);

/// Whether deaths of the class's instances are caught in its metadata
/// (its destroyer points at the monitor's hook): so for a tracked class
/// once an instance was recorded, while anything is tracked.
int hm_class_deaths_caught(const void *metadata);
/// Whether the runtime's free (`swift_deallocClassInstance`) is hooked
/// now: only while the census is on, every class is watched, or a tracked
/// class's deaths could not be caught in its metadata.
int hm_frees_hooked_now(void);
/// Objects whose destroyer hook found no destroyer to call on, left alive
/// (0 unless something is badly wrong).
uint64_t hm_objects_left_undestroyed(void);

/// Objects the runtime placed on the stack (`swift_initStackObject`) so far.
uint64_t hm_stack_objects(void);
/// Bytes the hooks hold for their logs and tables.
uint64_t hm_hooks_overhead_bytes(void);

/// The monitor's time now, in nanoseconds (CLOCK_MONOTONIC): the clock
/// events are stamped with, to the millisecond (the clock thread's tick).
uint64_t hm_now(void);
/// The time new events are stamped with now: behind `hm_now` by up to a
/// millisecond, more when the clock thread is kept waiting.
uint64_t hm_event_clock_now(void);

// MARK: Test points

/// Makes the next `count` allocations of the recording core's own memory
/// (logs, chunks, tables) fail, as if the process were out of memory.
void hm_test_fail_allocations(int count);
/// Holds the event clock an hour ahead (1): every event has that one time,
/// which only a drain of everything reads, and the reader orders them all
/// by alternation; 0 lets it go (drain everything first: a log's times must
/// not go back).
void hm_test_hold_event_clock(int on);
/// Forks `forks` children while a thread of the caller's changes the class
/// registry (taking its lock and waking the event clock) over and over.
/// Each child checks that tracking did not follow the fork, tracks what
/// the parent tracked, and waits a second for its clock to tick. Returns
/// how many children did all that (each killed after 3 s), or -1 when no
/// changing thread could be made.
int hm_test_tracking_after_forks(int forks);
/// Makes the calling thread record into the late log, the one shared by
/// threads whose own log was retired at exit (1), or its own again (0).
void hm_test_use_late_log(int on);
/// Records a birth (1) or a death (0) of an object of `metadata` at `object`
/// in the calling thread's log, as the hooks do for a tracked class.
void hm_test_record(void *object, const void *metadata, int birth);
/// Tests: makes an object of `metadata` in `buffer` (the caller's stack) as
/// the optimiser does, and lets it die, both through the hooks.
void hm_test_stack_object(const void *metadata, void *buffer, size_t size);
/// Events of `kind` about an object of `metadata` at `address` in the
/// calling thread's current chunk (a log's 2,040 latest at most), read or not.
size_t hm_test_events_written(const void *address, const void *metadata, uint32_t kind);
/// Takes (1) or gives back (0) the lock under which a class's destroyer
/// is written: a first birth of a tracked class waits meanwhile.
void hm_test_hold_destroyer_lock(int on);
/// Treats every class first seen from now as if its metadata were not
/// writable (1): its deaths are not caught there, and the free is hooked
/// for them. A class refused stays refused.
void hm_test_refuse_destroyers(int on);
/// The class filter's generation (bumped by every registry change).
uint32_t hm_filter_generation(void);
/// The number of symbols a GNU hash table (DT_GNU_HASH) covers.
size_t hm_gnu_hash_symbol_count(const uint32_t *table);
/// The name of dynamic symbol `index` (`Elf64_Sym` entries), or NULL when
/// the index or its name is outside the tables' bounds.
const char *hm_symbol_name(const void *symbols, size_t symbol_count, const char *strings, size_t string_size,
                           size_t index);

#endif
