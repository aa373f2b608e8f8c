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
typedef struct hm_log {
    struct hm_log *next_log;    // immutable once published
    _Atomic int state;
    hm_chunk *write;            // the writer's
    hm_chunk *read;             // the reader's
    size_t read_index;          // the reader's
    _Atomic(hm_chunk *) pool;   // drained chunks, linked by `next`; pushed by the reader, taken whole by the writer
    hm_chunk *private_pool;     // the writer's share of the pool
    _Atomic int pooled;         // chunks in both pools
    _Atomic uint64_t stack_objects;
    _Atomic(hm_census_slot *) census;
    _Atomic int census_overflow;
    uintptr_t stack_low, stack_high;
} hm_log;

extern _Atomic(hm_log *) hm_logs;
extern hm_log hm_late_log;
extern _Atomic uint64_t hm_dropped;
extern _Atomic uint64_t hm_overhead;

void *hm_calloc_counted(size_t bytes);
void hm_free_counted(void *memory, size_t bytes);

#endif
