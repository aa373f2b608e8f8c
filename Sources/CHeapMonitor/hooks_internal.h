#ifndef HM_HOOKS_INTERNAL_H
#define HM_HOOKS_INTERNAL_H

// Shared between the writer side (hooks.c, inside the host's allocation path)
// and the reader side (reader.c, on the monitor's thread).

#include "CHeapHooks.h"

#include <stdatomic.h>
#include <stdint.h>

#define HM_RELAXED memory_order_relaxed
#define HM_ACQUIRE memory_order_acquire
#define HM_RELEASE memory_order_release

// 64 KiB chunks stay below glibc's mmap threshold: recycled, never unmapped.
enum { HM_CHUNK_EVENTS = 2040, HM_TRACE_EVENTS = 5, HM_CENSUS_SLOTS = 2048, HM_POOLED_CHUNKS = 32 };

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
    _Atomic uint64_t stack_objects;
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

void *hm_calloc_counted(size_t bytes);
void hm_free_counted(void *memory, size_t bytes);

// Class-name patterns (class_patterns.c); writers hold the registry lock.
int hm_pattern_store(const char *text, uint32_t flags);
void hm_patterns_clear(void);
int hm_patterns_active(void);
uint32_t hm_pattern_flags(const void *metadata);

#endif
