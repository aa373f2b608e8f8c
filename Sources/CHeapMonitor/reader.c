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
static hm_short_lived_slot *hm_short_lived_last;  // the slot counted last

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
    // Churn is mostly of one class at a time.
    hm_short_lived_slot *last = hm_short_lived_last;
    if (last && last->metadata == metadata) {
        last->count++;
        last->lifetime += lifetime;
        return;
    }
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
        hm_short_lived_last = NULL;
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
    hm_short_lived_last = &hm_short_lived_table[slot];
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

// MARK: Deaths passed on within one drain

// Addresses whose death this drain passed on (the monitor ends their record
// after the drain): an address here without a pending birth is empty,
// whatever the monitor's records still say. Open addressing; 0 is empty.
static uint64_t *hm_dead;
static size_t hm_dead_slots, hm_dead_used;

static void hm_note_death(uint64_t address) {
    if ((hm_dead_used + 1) * 2 > hm_dead_slots) {
        size_t slots = hm_dead_slots ? hm_dead_slots * 2 : 4096;
        uint64_t *grown = calloc(slots, sizeof(uint64_t));
        if (!grown) return;  // then the records are asked, as before the drain
        for (size_t i = 0; i < hm_dead_slots; i++) {
            if (!hm_dead[i]) continue;
            size_t slot = hm_hash(hm_dead[i], slots);
            while (grown[slot]) slot = (slot + 1) & (slots - 1);
            grown[slot] = hm_dead[i];
        }
        atomic_fetch_add_explicit(&hm_overhead, (slots - hm_dead_slots) * sizeof(uint64_t), HM_RELAXED);
        free(hm_dead);
        hm_dead = grown;
        hm_dead_slots = slots;
    }
    size_t slot = hm_hash(address, hm_dead_slots);
    while (hm_dead[slot] && hm_dead[slot] != address) slot = (slot + 1) & (hm_dead_slots - 1);
    if (!hm_dead[slot]) {
        hm_dead[slot] = address;
        hm_dead_used++;
    }
}

static int hm_died_this_drain(uint64_t address) {
    if (!hm_dead_slots) return 0;
    size_t slot = hm_hash(address, hm_dead_slots);
    while (hm_dead[slot]) {
        if (hm_dead[slot] == address) return 1;
        slot = (slot + 1) & (hm_dead_slots - 1);
    }
    return 0;
}

// MARK: Applying one event

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
    hm_note_death(group->address);
    hm_append(&hm_output, group, 1);
}

// MARK: Events of one time on several threads

// Events stamped with one time on different threads have no order of their
// own (the clock is coarse: event_clock.c). Only one address's events need
// one — a free before the allocation that reuses the block, a birth before
// the death of the object handed over — and those alternate: a birth, its
// death, the next birth. So the reader puts each address's events of that
// time in alternating order, from whether the address held an object; other
// addresses' events keep their own log's order.

enum { HM_MERGED_AT_FIRST = 256, HM_NO_GROUP = UINT32_MAX };

// The logs merged at once: every log with events, so that one time's
// events on any number of threads are ordered together. Grown with the
// logs; without memory to grow, the logs past the arrays' room merge in
// later rounds (one time split over two rounds loses its ordering).
static hm_log *hm_merge_first[2][HM_MERGED_AT_FIRST];
static hm_log **hm_merge_active = hm_merge_first[0], **hm_merge_at_time = hm_merge_first[1];
static size_t hm_merge_room = HM_MERGED_AT_FIRST;

static void hm_grow_merge(void) {
    size_t logs = 0;
    for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log; log = log->next_log) logs++;
    if (logs <= hm_merge_room) return;
    size_t room = hm_merge_room;
    while (room < logs) room *= 2;
    hm_log **active = hm_calloc_counted(room * sizeof(hm_log *));
    hm_log **at_time = hm_calloc_counted(room * sizeof(hm_log *));
    if (!active || !at_time) {
        if (active) hm_free_counted(active, room * sizeof(hm_log *));
        if (at_time) hm_free_counted(at_time, room * sizeof(hm_log *));
        return;
    }
    if (hm_merge_active != hm_merge_first[0]) {
        hm_free_counted(hm_merge_active, hm_merge_room * sizeof(hm_log *));
        hm_free_counted(hm_merge_at_time, hm_merge_room * sizeof(hm_log *));
    }
    hm_merge_active = active;
    hm_merge_at_time = at_time;
    hm_merge_room = room;
}

// One address among the tick's events: its chain of groups (`hm_tick_next`,
// in buffer order, so log after log), the log of its last group, and
// whether more than one log has it.
typedef struct {
    uint64_t address;
    uint32_t first, last, last_log, several;
} hm_tick_address;

static hm_buffer hm_tick;        // the tick's groups, log after log
static uint32_t *hm_tick_log;    // per event: its log's number in the merge
static uint32_t *hm_tick_next;   // per event: the next group of its address
static uint32_t *hm_tick_slot;   // per event: its address's table slot
static uint32_t *hm_tick_order;  // scratch: one address's groups, reordered
static size_t hm_tick_room;      // events the four arrays have room for
static hm_tick_address *hm_tick_table;
static size_t hm_tick_slots;

static hm_liveness_check hm_is_live;
static void *hm_is_live_context;

static int hm_grow_tick_arrays(void) {
    if (hm_tick_room >= hm_tick.capacity) return 0;
    size_t room = hm_tick.capacity;
    uint32_t **arrays[] = {&hm_tick_log, &hm_tick_next, &hm_tick_slot, &hm_tick_order};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) {
        uint32_t *grown = realloc(*arrays[i], room * sizeof(uint32_t));
        if (!grown) return -1;  // the grown ones are kept; room is not
        *arrays[i] = grown;
    }
    atomic_fetch_add_explicit(&hm_overhead, (room - hm_tick_room) * 4 * sizeof(uint32_t), HM_RELAXED);
    hm_tick_room = room;
    return 0;
}

// Copies the log's groups of time `time` into the tick buffer.
static int hm_take_tick(hm_log *log, uint32_t number, uint64_t time) {
    for (const hm_event *group = hm_peek(log); group && group->time == time; group = hm_peek(log)) {
        size_t size = hm_group_size(group), at = hm_tick.count;
        if (hm_reserve_buffer(&hm_tick, size) != 0 || hm_grow_tick_arrays() != 0) return -1;
        memcpy(hm_tick.events + at, group, size * sizeof(hm_event));
        hm_tick.count += size;
        hm_tick_log[at] = number;
        log->read_index += size;
    }
    return 0;
}

// Chains the tick's groups by address; returns -1 without memory.
static int hm_chain_tick(void) {
    size_t slots = hm_tick_slots ? hm_tick_slots : 1024;
    while (slots < hm_tick.count * 2) slots *= 2;
    if (slots != hm_tick_slots) {
        hm_tick_address *table = realloc(hm_tick_table, slots * sizeof(hm_tick_address));
        if (!table) return -1;
        atomic_fetch_add_explicit(&hm_overhead, (slots - hm_tick_slots) * sizeof(hm_tick_address), HM_RELAXED);
        hm_tick_table = table;
        hm_tick_slots = slots;
    }
    memset(hm_tick_table, 0, slots * sizeof(hm_tick_address));
    for (size_t at = 0; at < hm_tick.count; at += hm_group_size(&hm_tick.events[at])) {
        uint64_t address = hm_tick.events[at].address;
        size_t slot = hm_hash(address, slots);
        while (hm_tick_table[slot].address && hm_tick_table[slot].address != address) slot = (slot + 1) & (slots - 1);
        hm_tick_address *entry = &hm_tick_table[slot];
        if (!entry->address) {
            *entry = (hm_tick_address){address, (uint32_t)at, (uint32_t)at, hm_tick_log[at], 0};
        } else {
            hm_tick_next[entry->last] = (uint32_t)at;
            entry->last = (uint32_t)at;
            entry->several |= entry->last_log != hm_tick_log[at];
            entry->last_log = hm_tick_log[at];
        }
        hm_tick_next[at] = HM_NO_GROUP;
        hm_tick_slot[at] = (uint32_t)slot;
    }
    return 0;
}

// Whether `address` held an object before the events now being ordered: a
// birth pending in this drain, a death passed on in it, else the monitor's
// records.
static int hm_held_before(uint64_t address) {
    if (hm_birth_slots && hm_birth_index[hm_index_find(address, 0)]) return 1;
    if (hm_died_this_drain(address)) return 0;
    return hm_is_live ? hm_is_live(address, hm_is_live_context) : 0;
}

// The next of `order[*cursor..<end]` other than `skip`, or HM_NO_GROUP.
static uint32_t hm_take(const uint32_t *order, size_t *cursor, size_t end, uint32_t skip) {
    if (*cursor < end && order[*cursor] == skip) ++*cursor;
    return *cursor < end ? order[(*cursor)++] : HM_NO_GROUP;
}

// With the address empty as far as the monitor knows, a death of a class
// none of the births has is not a hand-off: it ends an object made before
// tracking, before those births. The first such death, else none.
static uint32_t hm_death_of_unseen(const uint32_t *order, size_t births, size_t deaths) {
    for (size_t d = births; d < births + deaths; d++) {
        uint64_t metadata = hm_tick.events[order[d]].metadata;
        size_t b = 0;
        while (b < births && hm_tick.events[order[b]].metadata != metadata) b++;
        if (b == births) return order[d];
    }
    return HM_NO_GROUP;
}

// Applies one address's groups of one time, from several logs. Their order
// matters only through what it leaves: the times are equal, so lifetimes
// are 0 and any birth-death pairing counts the same short-lived objects.
// Alternation fixes the rest: a held address's first event is a death (of
// the object held), the last is a birth when births outnumber the other
// deaths (the object that stays), and the events between pair up. That
// first death starts its log's run and that last birth ends its own.
// Deaths beyond the births end objects the monitor never saw born (made
// before tracking); so does a death no birth's class matches, first.
static void hm_resolve_address(const hm_tick_address *entry) {
    // `order`: the births, then the deaths, each in chain order.
    uint32_t *order = hm_tick_order, lead = HM_NO_GROUP, survivor = HM_NO_GROUP;
    size_t births = 0, deaths = 0, born = 0;
    for (uint32_t at = entry->first; at != HM_NO_GROUP; at = hm_tick_next[at])
        births += hm_tick.events[at].kind == HM_EVENT_ALLOC;
    for (uint32_t at = entry->first, previous = HM_NO_GROUP; at != HM_NO_GROUP;
         previous = at, at = hm_tick_next[at]) {
        uint32_t next = hm_tick_next[at];
        if (hm_tick.events[at].kind == HM_EVENT_ALLOC) {
            order[born++] = at;
            if (next == HM_NO_GROUP || hm_tick_log[next] != hm_tick_log[at]) survivor = at;
        } else {
            if (lead == HM_NO_GROUP && (previous == HM_NO_GROUP || hm_tick_log[previous] != hm_tick_log[at]))
                lead = at;
            order[births + deaths++] = at;
        }
    }
    size_t leads = deaths > 0 && hm_held_before(entry->address);
    if (!leads) lead = hm_death_of_unseen(order, births, deaths);
    else if (lead == HM_NO_GROUP) lead = order[births];
    leads = lead != HM_NO_GROUP;
    if (births + leads <= deaths) survivor = HM_NO_GROUP;
    else if (survivor == HM_NO_GROUP) survivor = order[births - 1];

    size_t next_birth = 0, next_death = births, end = births + deaths;
    if (lead != HM_NO_GROUP) hm_process(&hm_tick.events[lead]);
    for (size_t extra = deaths - leads > births ? deaths - leads - births : 0; extra > 0; extra--)
        hm_process(&hm_tick.events[hm_take(order, &next_death, end, lead)]);
    for (uint32_t birth; (birth = hm_take(order, &next_birth, births, survivor)) != HM_NO_GROUP;) {
        hm_process(&hm_tick.events[birth]);
        uint32_t death = hm_take(order, &next_death, end, lead);
        if (death != HM_NO_GROUP) hm_process(&hm_tick.events[death]);
    }
    if (survivor != HM_NO_GROUP) hm_process(&hm_tick.events[survivor]);
}

// Applies the events of time `time` from `count` logs (each has some).
static void hm_resolve_tick(hm_log **logs, size_t count, uint64_t time) {
    hm_tick.count = 0;
    for (size_t i = 0; i < count; i++) {
        if (hm_take_tick(logs[i], (uint32_t)i, time) != 0) {
            // Without memory the rest of the tick is applied as it comes.
            for (size_t at = 0; at < hm_tick.count; at += hm_group_size(&hm_tick.events[at]))
                hm_process(&hm_tick.events[at]);
            for (size_t j = i; j < count; j++) {
                for (const hm_event *group = hm_peek(logs[j]); group && group->time == time;
                     group = hm_peek(logs[j])) {
                    hm_process(group);
                    logs[j]->read_index += hm_group_size(group);
                }
            }
            return;
        }
    }
    int chained = hm_chain_tick() == 0;
    for (size_t at = 0; at < hm_tick.count; at += hm_group_size(&hm_tick.events[at])) {
        const hm_tick_address *entry = chained ? &hm_tick_table[hm_tick_slot[at]] : NULL;
        if (!entry || !entry->several) hm_process(&hm_tick.events[at]);
        else if (entry->first == at) hm_resolve_address(entry);
    }
}

// MARK: Draining

// Whether `next`, the group after `group` in one log, is the death of the
// object `group` gives birth to, in the time being read.
static int hm_dies_at_once(const hm_event *group, const hm_event *next, uint64_t before, uint64_t cutoff) {
    return group->kind == HM_EVENT_ALLOC && next->kind == HM_EVENT_DEALLOC && next->address == group->address &&
           next->time < before && next->time <= cutoff;
}

size_t hm_drain(uint64_t cutoff, const hm_event **events, hm_liveness_check is_live, void *context) {
    pthread_mutex_lock(&hm_reader_lock);
    hm_is_live = is_live;
    hm_is_live_context = context;
    hm_output.count = 0;
    hm_births.count = 0;
    hm_cancelled = 0;
    if (hm_birth_slots) memset(hm_birth_index, 0, hm_birth_slots * sizeof(uint32_t));
    hm_birth_used = 0;
    if (hm_dead_slots) memset(hm_dead, 0, hm_dead_slots * sizeof(uint64_t));
    hm_dead_used = 0;

    hm_grow_merge();
    hm_log **active = hm_merge_active, **at_time = hm_merge_at_time;
    for (;;) {
        // One round, unless logs were added since `hm_grow_merge` counted
        // them or it had no memory: the next round takes the rest.
        size_t count = 0;
        for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log && count < hm_merge_room;
             log = log->next_log) {
            const hm_event *next = hm_peek(log);
            if (next && next->time <= cutoff) active[count++] = log;
        }
        if (count == 0) break;
        while (count > 0) {
            // The earliest time at the logs' heads, the logs that have it,
            // and the next time after it.
            uint64_t time = UINT64_MAX, after = UINT64_MAX;
            size_t having = 0;
            for (size_t i = 0; i < count; i++) {
                uint64_t head = hm_peek(active[i])->time;
                if (head < time) {
                    after = time;
                    time = head;
                    having = 0;
                }
                if (head == time) at_time[having++] = active[i];
                else if (head < after) after = head;
            }
            if (having == 1) {
                // Alone at this time: read on up to the next log's time.
                hm_log *log = at_time[0];
                for (const hm_event *group = hm_peek(log); group && group->time < after && group->time <= cutoff;
                     group = hm_peek(log)) {
                    size_t size = hm_group_size(group);
                    const hm_event *next = log->read_index + size < log->read_limit ? group + size : NULL;
                    if (next && hm_dies_at_once(group, next, after, cutoff)) {
                        // Freed before anything else of its thread's: short-lived
                        // without a look at the index.
                        hm_count_short_lived((const void *)(uintptr_t)group->metadata, next->time - group->time);
                        size += 1;
                    } else {
                        hm_process(group);
                    }
                    log->read_index += size;
                }
            } else {
                hm_resolve_tick(at_time, having, time);
            }
            for (size_t i = 0; i < count;) {
                const hm_event *next = hm_peek(active[i]);
                if (!next || next->time > cutoff) active[i] = active[--count];
                else i++;
            }
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
    hm_is_live = NULL;
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

// A table grown past what steady work needs goes too; it is made again,
// empty, on next need.
static void hm_trim_table(void **table, size_t *slots, size_t slot_size) {
    if (*slots <= 2 * HM_KEPT_EVENTS) return;
    atomic_fetch_sub_explicit(&hm_overhead, *slots * slot_size, HM_RELAXED);
    free(*table);
    *table = NULL;
    *slots = 0;
}

void hm_drain_release(void) {
    pthread_mutex_lock(&hm_reader_lock);
    hm_trim(&hm_output);
    hm_trim(&hm_births);
    hm_trim(&hm_tick);
    if (hm_tick_room > hm_tick.capacity) {
        atomic_fetch_sub_explicit(&hm_overhead, hm_tick_room * 4 * sizeof(uint32_t), HM_RELAXED);
        free(hm_tick_log), free(hm_tick_next), free(hm_tick_slot), free(hm_tick_order);
        hm_tick_log = hm_tick_next = hm_tick_slot = hm_tick_order = NULL;
        hm_tick_room = 0;
    }
    hm_trim_table((void **)&hm_birth_index, &hm_birth_slots, sizeof(uint32_t));
    hm_trim_table((void **)&hm_dead, &hm_dead_slots, sizeof(uint64_t));
    hm_trim_table((void **)&hm_tick_table, &hm_tick_slots, sizeof(hm_tick_address));
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
