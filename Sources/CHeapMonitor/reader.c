#include "CHeapHooks.h"
#include "hooks_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// The reader: merges the threads' logs in time order and cancels each object
// born and freed within one drain, so that churn reaches the monitor as
// counts, not as records. Runs on the monitor's side, one caller at a time.
//
// Times are the event clock's (event_clock.c): an event that happens before
// another never has a later time, but events of different threads often
// have equal times. A thread's own events are in order in its log. So the
// one order left open is that of equal times across threads, and it matters
// where one address is born on one thread and freed on another in the same
// tick: a death read before its birth would leave the birth alive for ever.
// A death that finds no pending birth therefore waits until the merge moves
// past its time; a birth at its address from another thread in that time
// is the object it ends (both are cancelled).

static pthread_mutex_t hm_reader_lock = PTHREAD_MUTEX_INITIALIZER;

// Buffers up to this many events are kept between drains; churn keeps the
// births buffer below it by compacting once this many births are cancelled
// (freeing it every drain would fault its pages in again each time).
enum { HM_KEPT_EVENTS = 1 << 16, HM_COMPACT_AFTER = 1 << 14 };

// MARK: Growable buffers (reader-owned)

typedef struct {
    hm_event *events;
    size_t count, capacity;
} hm_buffer;

static int hm_reserve_buffer(hm_buffer *buffer, size_t more) {
    if (buffer->count + more <= buffer->capacity) return 0;
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->count + more) capacity *= 2;
    hm_event *grown = realloc(buffer->events, capacity * sizeof(hm_event));
    if (!grown) return -1;
    atomic_fetch_add_explicit(&hm_overhead, (capacity - buffer->capacity) * sizeof(hm_event), HM_RELAXED);
    buffer->events = grown;
    buffer->capacity = capacity;
    return 0;
}

static void hm_append(hm_buffer *buffer, const hm_event *group, size_t count) {
    if (hm_reserve_buffer(buffer, count) != 0) {
        atomic_fetch_add_explicit(&hm_dropped, count, HM_RELAXED);
        return;
    }
    memcpy(buffer->events + buffer->count, group, count * sizeof(hm_event));
    buffer->count += count;
}

// MARK: Log cursors

static void hm_recycle(hm_log *log, hm_chunk *chunk) {
    if (atomic_load_explicit(&log->pooled, HM_RELAXED) >= HM_POOLED_CHUNKS) {
        hm_free_counted(chunk, sizeof(hm_chunk));
        return;
    }
    atomic_fetch_add_explicit(&log->pooled, 1, HM_RELAXED);
    hm_chunk *head = atomic_load_explicit(&log->pool, HM_RELAXED);
    do { atomic_store_explicit(&chunk->next, head, HM_RELAXED); }
    while (!atomic_compare_exchange_weak_explicit(&log->pool, &head, chunk, HM_RELEASE, HM_RELAXED));
}

// The log's next unread event group, or NULL; moves past chunks the writer
// has left, handing them back to it.
static const hm_event *hm_peek(hm_log *log) {
    // The late log's first chunk is made by a writer, lazily (hooks.c).
    if (log == &hm_late_log && !atomic_load_explicit(&hm_late_log_ready, HM_ACQUIRE)) return NULL;
    while (log->read) {
        hm_chunk *chunk = log->read;
        if (log->read_index < log->read_limit) return &chunk->events[log->read_index];
        log->read_limit = atomic_load_explicit(&chunk->count, HM_ACQUIRE);
        if (log->read_index < log->read_limit) return &chunk->events[log->read_index];
        hm_chunk *next = atomic_load_explicit(&chunk->next, HM_ACQUIRE);
        if (!next) return NULL;
        // The writer linked `next` after its last write here: look once more.
        log->read_limit = atomic_load_explicit(&chunk->count, HM_ACQUIRE);
        if (log->read_index < log->read_limit) return &chunk->events[log->read_index];
        log->read = next;
        log->read_index = log->read_limit = 0;
        hm_recycle(log, chunk);
    }
    return NULL;
}

static size_t hm_group_size(const hm_event *event) {
    return event->kind == HM_EVENT_ALLOC ? 1 + event->extra : 1;
}

// MARK: Births pending within one drain

// Births in arrival order (with their traces); `kind` 0 marks a cancelled one.
static hm_buffer hm_births;
// Open addressing from address to the birth's position in `hm_births` + 1.
static uint32_t *hm_birth_index;
static size_t hm_birth_slots, hm_birth_used;
static size_t hm_cancelled;
static hm_buffer hm_output;

typedef struct {
    const void *metadata;
    uint64_t count, lifetime;
} hm_short_lived_slot;
static hm_short_lived_slot *hm_short_lived_table;
static size_t hm_short_lived_slots, hm_short_lived_used;

// Events waiting for the merge to move past their time (below).
static hm_buffer hm_waiting;
static const hm_log **hm_waiting_logs;
static size_t hm_waiting_logs_capacity;
static uint32_t *hm_waiting_index;
static size_t hm_waiting_slots;

static size_t hm_hash(uint64_t address, size_t slots) {
    return hm_address_hash((uintptr_t)address) & (slots - 1);
}

static void hm_index_rebuild(size_t slots) {
    uint32_t *index = calloc(slots, sizeof(uint32_t));
    if (!index) return;  // keep the old index: it still works, only fuller
    atomic_fetch_add_explicit(&hm_overhead, (slots - hm_birth_slots) * sizeof(uint32_t), HM_RELAXED);
    free(hm_birth_index);
    hm_birth_index = index;
    hm_birth_slots = slots;
    hm_birth_used = 0;
    for (size_t at = 0; at < hm_births.count; at += hm_group_size(&hm_births.events[at])) {
        if (hm_births.events[at].kind != HM_EVENT_ALLOC) continue;
        size_t slot = hm_hash(hm_births.events[at].address, slots);
        while (index[slot]) slot = (slot + 1) & (slots - 1);
        index[slot] = (uint32_t)(at + 1);
        hm_birth_used++;
    }
}

// The slot holding the pending birth at `address`; else, with `for_insert`,
// the first reusable slot on its probe path (a cancelled birth's, or empty),
// so that an address freed and reused over and over keeps one slot.
static size_t hm_index_find(uint64_t address, int for_insert) {
    size_t slot = hm_hash(address, hm_birth_slots), reusable = SIZE_MAX;
    while (hm_birth_index[slot]) {
        const hm_event *birth = &hm_births.events[hm_birth_index[slot] - 1];
        if (birth->kind == HM_EVENT_ALLOC) {
            if (birth->address == address) return slot;
        } else if (reusable == SIZE_MAX) {
            reusable = slot;
        }
        slot = (slot + 1) & (hm_birth_slots - 1);
    }
    return for_insert && reusable != SIZE_MAX ? reusable : slot;
}

static void hm_count_short_lived(const void *metadata, uint64_t lifetime) {
    if ((hm_short_lived_used + 1) * 2 > hm_short_lived_slots) {
        size_t slots = hm_short_lived_slots ? hm_short_lived_slots * 2 : 256;
        hm_short_lived_slot *grown = calloc(slots, sizeof(hm_short_lived_slot));
        if (!grown) return;
        for (size_t i = 0; i < hm_short_lived_slots; i++) {
            if (!hm_short_lived_table[i].metadata) continue;
            size_t slot = hm_hash((uint64_t)(uintptr_t)hm_short_lived_table[i].metadata, slots);
            while (grown[slot].metadata) slot = (slot + 1) & (slots - 1);
            grown[slot] = hm_short_lived_table[i];
        }
        free(hm_short_lived_table);
        hm_short_lived_table = grown;
        hm_short_lived_slots = slots;
    }
    size_t slot = hm_hash((uint64_t)(uintptr_t)metadata, hm_short_lived_slots);
    while (hm_short_lived_table[slot].metadata && hm_short_lived_table[slot].metadata != metadata)
        slot = (slot + 1) & (hm_short_lived_slots - 1);
    if (!hm_short_lived_table[slot].metadata) {
        hm_short_lived_table[slot].metadata = metadata;
        hm_short_lived_used++;
    }
    hm_short_lived_table[slot].count++;
    hm_short_lived_table[slot].lifetime += lifetime;
}

// Drops cancelled births once they are most of the buffer.
static void hm_compact_births(void) {
    size_t kept = 0;
    for (size_t at = 0; at < hm_births.count;) {
        size_t size = hm_group_size(&hm_births.events[at]);
        if (hm_births.events[at].kind == HM_EVENT_ALLOC) {
            memmove(hm_births.events + kept, hm_births.events + at, size * sizeof(hm_event));
            kept += size;
        }
        at += size;
    }
    hm_births.count = kept;
    hm_cancelled = 0;
    hm_index_rebuild(hm_birth_slots);
}

static void hm_cancel_birth(hm_event *birth, uint64_t death_time) {
    hm_count_short_lived((const void *)(uintptr_t)birth->metadata, death_time - birth->time);
    birth->kind = 0;
    // Leave the slot as a tombstone: its birth is no longer an ALLOC.
    if (++hm_cancelled > HM_COMPACT_AFTER && hm_cancelled * 2 > hm_births.count) hm_compact_births();
}

// MARK: Events waiting for the merge to move past their time

// Events of the current time whose partner may still come from another log
// in that time: deaths that found no pending birth, births that found their
// address still occupied. In arrival order (`kind` 0 once settled), each
// group with its log, chained by address in arrival order from an index.

static uint32_t *hm_waiting_next;  // position + 1 of the next group at the same address

static size_t hm_waiting_find(uint64_t address) {
    size_t slot = hm_hash(address, hm_waiting_slots);
    while (hm_waiting_index[slot] && hm_waiting.events[hm_waiting_index[slot] - 1].address != address)
        slot = (slot + 1) & (hm_waiting_slots - 1);
    return slot;
}

static int hm_waiting_grow(void) {
    size_t slots = hm_waiting_slots ? hm_waiting_slots * 2 : 1024;
    uint32_t *index = calloc(slots, sizeof(uint32_t));
    if (!index) return -1;
    atomic_fetch_add_explicit(&hm_overhead, (slots - hm_waiting_slots) * sizeof(uint32_t), HM_RELAXED);
    free(hm_waiting_index);
    hm_waiting_index = index;
    hm_waiting_slots = slots;
    // Chains keep their links; each head goes into the new index.
    for (size_t at = 0; at < hm_waiting.count; at += hm_group_size(&hm_waiting.events[at])) {
        size_t slot = hm_waiting_find(hm_waiting.events[at].address);
        if (!hm_waiting_index[slot]) hm_waiting_index[slot] = (uint32_t)(at + 1);
    }
    return 0;
}

// The first unsettled waiting group at `address` of `kind` from a log other
// than `not_from` (NULL: any log), or NULL.
static hm_event *hm_waiting_first(uint64_t address, uint32_t kind, const hm_log *not_from) {
    if (hm_waiting.count == 0) return NULL;
    uint32_t link = hm_waiting_index[hm_waiting_find(address)];
    for (; link; link = hm_waiting_next[link - 1]) {
        hm_event *group = &hm_waiting.events[link - 1];
        if (group->kind == kind && hm_waiting_logs[link - 1] != not_from) return group;
    }
    return NULL;
}

// Keeps `group` until the merge moves past its time; 0, or -1 without
// memory (the caller then settles it at once).
static int hm_wait(const hm_event *group, const hm_log *log) {
    size_t size = hm_group_size(group);
    if ((hm_waiting.count + size) * 2 > hm_waiting_slots && hm_waiting_grow() != 0) return -1;
    if (hm_waiting.count + size > hm_waiting_logs_capacity) {
        size_t capacity = hm_waiting_logs_capacity ? hm_waiting_logs_capacity * 2 : 1024;
        while (capacity < hm_waiting.count + size) capacity *= 2;
        const hm_log **logs = realloc(hm_waiting_logs, capacity * sizeof(*logs));
        if (logs) hm_waiting_logs = logs;
        uint32_t *next = realloc(hm_waiting_next, capacity * sizeof(*next));
        if (next) hm_waiting_next = next;
        if (!logs || !next) return -1;
        hm_waiting_logs_capacity = capacity;
    }
    size_t at = hm_waiting.count;
    hm_append(&hm_waiting, group, size);
    if (hm_waiting.count == at) return -1;
    hm_waiting_logs[at] = log;
    hm_waiting_next[at] = 0;
    size_t slot = hm_waiting_find(group->address);
    uint32_t *link = &hm_waiting_index[slot];
    while (*link) link = &hm_waiting_next[*link - 1];
    *link = (uint32_t)(at + 1);
    return 0;
}

// MARK: Processing

// A birth becomes pending; an earlier birth still pending at its address,
// whose death is not in (another thread has not published it), is passed
// on as alive: the monitor ends it.
static void hm_make_pending(const hm_event *group) {
    if ((hm_birth_used + 1) * 2 > hm_birth_slots) hm_index_rebuild(hm_birth_slots ? hm_birth_slots * 2 : 4096);
    size_t slot = hm_index_find(group->address, 1);
    const hm_event *occupant = hm_birth_index[slot] ? &hm_births.events[hm_birth_index[slot] - 1] : NULL;
    if (occupant && occupant->kind == HM_EVENT_ALLOC) {
        uint32_t at = hm_birth_index[slot] - 1;
        hm_append(&hm_output, &hm_births.events[at], hm_group_size(&hm_births.events[at]));
        hm_births.events[at].kind = 0;
        hm_cancelled++;
    } else if (!occupant) {
        hm_birth_used++;
    }
    size_t at = hm_births.count;
    hm_append(&hm_births, group, hm_group_size(group));
    if (hm_births.count > at) hm_birth_index[slot] = (uint32_t)(at + 1);
}

// The pending birth at `address`, or NULL.
static hm_event *hm_pending_at(uint64_t address) {
    if (!hm_birth_slots) return NULL;
    size_t slot = hm_index_find(address, 0);
    if (!hm_birth_index[slot]) return NULL;
    hm_event *birth = &hm_births.events[hm_birth_index[slot] - 1];
    return birth->kind == HM_EVENT_ALLOC ? birth : NULL;
}

// Settles what waits: the merge has moved past its time. A death ends
// what the monitor holds at its address; a birth takes its address over.
static void hm_end_waiting(void) {
    if (hm_waiting.count == 0) return;
    for (size_t at = 0; at < hm_waiting.count; at += hm_group_size(&hm_waiting.events[at])) {
        const hm_event *group = &hm_waiting.events[at];
        if (group->kind == HM_EVENT_DEALLOC) hm_append(&hm_output, group, 1);
        else if (group->kind == HM_EVENT_ALLOC) hm_make_pending(group);
    }
    hm_waiting.count = 0;
    memset(hm_waiting_index, 0, hm_waiting_slots * sizeof(uint32_t));
}

// `log` is the event's thread log; `ties` whether other logs have events
// at or before the cutoff, so that the event's partner may come later in
// the same time. The rules, for one address within one time:
// - a death with no pending birth waits; a birth from another log then is
//   the object the first such death ends (both are settled: short-lived);
// - a birth at an occupied address waits; a death that ends the occupant
//   then makes the first such birth pending.
static void hm_process(const hm_event *group, const hm_log *log, int ties) {
    if (group->kind == HM_EVENT_ALLOC) {
        hm_event *death = hm_waiting_first(group->address, HM_EVENT_DEALLOC, log);
        if (death) {
            // Born on this thread and freed on another in the same time.
            death->kind = 0;
            hm_count_short_lived((const void *)(uintptr_t)group->metadata, 0);
            return;
        }
        const hm_event *occupant = hm_pending_at(group->address);
        if (ties && occupant && hm_wait(group, log) == 0) return;
        hm_make_pending(group);
        return;
    }
    hm_event *birth = hm_pending_at(group->address);
    if (birth && birth->time <= group->time) {
        hm_cancel_birth(birth, group->time);
        // A birth waiting for this address to be freed takes it now.
        hm_event *waiting = hm_waiting_first(group->address, HM_EVENT_ALLOC, NULL);
        if (waiting) {
            hm_make_pending(waiting);
            waiting->kind = 0;
        }
        return;
    }
    if (ties && hm_wait(group, log) == 0) return;
    hm_append(&hm_output, group, 1);
}

size_t hm_drain(uint64_t cutoff, const hm_event **events) {
    pthread_mutex_lock(&hm_reader_lock);
    hm_output.count = 0;
    hm_births.count = 0;
    hm_cancelled = 0;
    if (hm_birth_slots) memset(hm_birth_index, 0, hm_birth_slots * sizeof(uint32_t));
    hm_birth_used = 0;

    hm_log *active[256];
    uint64_t current_time = 0;
    for (;;) {
        // Merge in rounds of up to 256 logs with events (more threads than
        // that are rare; the next round takes the rest).
        size_t count = 0;
        for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log && count < 256; log = log->next_log) {
            const hm_event *next = hm_peek(log);
            if (next && next->time <= cutoff) active[count++] = log;
        }
        if (count == 0) break;
        while (count > 0) {
            size_t best = 0;
            const hm_event *first = hm_peek(active[0]);
            for (size_t i = 1; i < count; i++) {
                const hm_event *candidate = hm_peek(active[i]);
                if (candidate->time < first->time) { first = candidate; best = i; }
            }
            hm_log *log = active[best];
            // A lone log is read straight on.
            do {
                if (first->time != current_time) {
                    hm_end_waiting();
                    current_time = first->time;
                }
                hm_process(first, log, count > 1);
                log->read_index += hm_group_size(first);
                first = hm_peek(log);
            } while (first && first->time <= cutoff && count == 1);
            if (!first || first->time > cutoff) active[best] = active[--count];
        }
    }
    hm_end_waiting();
    // Objects still alive: their births, in order.
    for (size_t at = 0; at < hm_births.count; at += hm_group_size(&hm_births.events[at]))
        if (hm_births.events[at].kind == HM_EVENT_ALLOC)
            hm_append(&hm_output, &hm_births.events[at], hm_group_size(&hm_births.events[at]));
    // Logs of exited threads, read to the end, may be adopted by new threads.
    for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log; log = log->next_log) {
        int orphaned = HM_LOG_ORPHANED;
        if (log != &hm_late_log && atomic_load_explicit(&log->state, HM_ACQUIRE) == HM_LOG_ORPHANED && !hm_peek(log))
            atomic_compare_exchange_strong(&log->state, &orphaned, HM_LOG_REUSABLE);
    }
    *events = hm_output.events;
    size_t result = hm_output.count;
    pthread_mutex_unlock(&hm_reader_lock);
    return result;
}

// Frees a buffer grown past what steady work needs: a drain of a million
// births should not leave the monitor a million births bigger.

static void hm_trim(hm_buffer *buffer) {
    if (buffer->capacity <= HM_KEPT_EVENTS) return;
    atomic_fetch_sub_explicit(&hm_overhead, buffer->capacity * sizeof(hm_event), HM_RELAXED);
    free(buffer->events);
    *buffer = (hm_buffer){NULL, 0, 0};
}

void hm_drain_release(void) {
    pthread_mutex_lock(&hm_reader_lock);
    hm_trim(&hm_output);
    hm_trim(&hm_births);
    hm_trim(&hm_waiting);
    if (hm_birth_slots > 2 * HM_KEPT_EVENTS) {
        atomic_fetch_sub_explicit(&hm_overhead, hm_birth_slots * sizeof(uint32_t), HM_RELAXED);
        free(hm_birth_index);
        hm_birth_index = NULL;
        hm_birth_slots = hm_birth_used = 0;
    }
    pthread_mutex_unlock(&hm_reader_lock);
}

size_t hm_drain_short_lived(hm_short_lived *out, size_t capacity) {
    pthread_mutex_lock(&hm_reader_lock);
    size_t rows = 0;
    for (size_t i = 0; i < hm_short_lived_slots && rows < capacity; i++) {
        if (!hm_short_lived_table[i].metadata) continue;
        const hm_short_lived_slot *row = &hm_short_lived_table[i];
        out[rows++] = (hm_short_lived){row->metadata, row->count, row->lifetime};
    }
    if (hm_short_lived_slots) memset(hm_short_lived_table, 0, hm_short_lived_slots * sizeof(hm_short_lived_slot));
    hm_short_lived_used = 0;
    pthread_mutex_unlock(&hm_reader_lock);
    return rows;
}
