#include "CHeapHooks.h"
#include "hooks_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// The reader: merges the threads' logs in time order and cancels each object
// born and freed within one drain, so that churn reaches the monitor as
// counts, not as records. Runs on the monitor's side, one caller at a time.

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
    // The late log's first chunk is made by a writer, lazily (event_logs.c).
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

static void hm_process(const hm_event *group) {
    if (group->kind == HM_EVENT_ALLOC) {
        if ((hm_birth_used + 1) * 2 > hm_birth_slots) hm_index_rebuild(hm_birth_slots ? hm_birth_slots * 2 : 4096);
        size_t slot = hm_index_find(group->address, 1);
        const hm_event *occupant = hm_birth_index[slot] ? &hm_births.events[hm_birth_index[slot] - 1] : NULL;
        if (occupant && occupant->kind == HM_EVENT_ALLOC) {
            // An earlier birth here whose death is not in yet (another thread
            // has not published it): pass it on; the monitor ends it.
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
        return;
    }
    if (hm_birth_slots) {
        size_t slot = hm_index_find(group->address, 0);
        if (hm_birth_index[slot]) {
            hm_event *birth = &hm_births.events[hm_birth_index[slot] - 1];
            if (birth->time <= group->time) {
                hm_count_short_lived((const void *)(uintptr_t)birth->metadata, group->time - birth->time);
                birth->kind = 0;
                // Leave the slot as a tombstone: its birth is no longer an ALLOC.
                if (++hm_cancelled > HM_COMPACT_AFTER && hm_cancelled * 2 > hm_births.count) hm_compact_births();
                return;
            }
        }
    }
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
                hm_process(first);
                log->read_index += hm_group_size(first);
                first = hm_peek(log);
            } while (first && first->time <= cutoff && count == 1);
            if (!first || first->time > cutoff) active[best] = active[--count];
        }
    }
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
