#include "CHeapMonitor.h"
#include "hooks_internal.h"

#include <string.h>

// Instances counted per class, for live questions (`heapmonitor census`):
// each thread counts its own events in its log's table, a reader sums the
// tables. A table has one writer (the log's thread, or the late log's lock
// holder), so its counters are added with plain loads and stores.

void hm_census_enable(int on) { hm_set_active(HM_ACTIVE_CENSUS, on); }

int hm_census_enabled(void) { return hm_census_on(atomic_load_explicit(&hm_active_work, HM_ACQUIRE)); }

static hm_census_slot *hm_census_table(hm_log *log) {
    hm_census_slot *table = atomic_load_explicit(&log->census, HM_RELAXED);
    if (table) return table;
    table = hm_calloc_counted(sizeof(hm_census_slot) * HM_CENSUS_SLOTS);
    // Release: the reader sees the zeroed table before its address.
    if (table) atomic_store_explicit(&log->census, table, HM_RELEASE);
    return table;
}

hm_census_slot *hm_census_slot_for(hm_log *log, uintptr_t metadata) {
    hm_census_slot *table = hm_census_table(log);
    if (!table) return NULL;
    size_t slot = hm_metadata_hash(metadata) & (HM_CENSUS_SLOTS - 1);
    for (size_t probe = 0; probe < HM_CENSUS_SLOTS; probe++, slot = (slot + 1) & (HM_CENSUS_SLOTS - 1)) {
        uintptr_t key = atomic_load_explicit(&table[slot].metadata, HM_RELAXED);
        if (key == 0) {
            // A class first seen: the low bit leaves it out for good.
            const uintptr_t *cls = (const uintptr_t *)metadata;
            key = metadata | (uintptr_t)(cls[0] != 0 || hm_in_runtime(cls[5]));
            atomic_store_explicit(&table[slot].metadata, key, HM_RELEASE);
        }
        if ((key & ~(uintptr_t)1) != metadata) continue;
        if (key & 1) return NULL;
        log->census_last = metadata;
        log->census_last_slot = &table[slot];
        return &table[slot];
    }
    atomic_store_explicit(&log->census_overflow, 1, HM_RELAXED);
    return NULL;
}

size_t hm_census_table_ranges(hm_range *out, size_t capacity) {
    size_t count = 0;
    for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log && count < capacity; log = log->next_log) {
        uintptr_t table = (uintptr_t)atomic_load_explicit(&log->census, HM_ACQUIRE);
        if (table) out[count++] = (hm_range){table, table + sizeof(hm_census_slot) * HM_CENSUS_SLOTS};
    }
    return count;
}

size_t hm_census_read(hm_census_row *out, size_t capacity) {
    size_t rows = 0;
    for (hm_log *log = atomic_load_explicit(&hm_logs, HM_ACQUIRE); log; log = log->next_log) {
        hm_census_slot *table = atomic_load_explicit(&log->census, HM_ACQUIRE);
        if (!table) continue;
        for (size_t s = 0; s < HM_CENSUS_SLOTS; s++) {
            uintptr_t key = atomic_load_explicit(&table[s].metadata, HM_ACQUIRE);
            if (key == 0 || (key & 1)) continue;
            size_t row = 0;
            while (row < rows && out[row].metadata != (const void *)key) row++;
            if (row == rows) {
                if (rows == capacity) continue;
                memset(&out[rows], 0, sizeof(hm_census_row));
                out[rows++].metadata = (const void *)key;
            }
            out[row].allocations += atomic_load_explicit(&table[s].allocations, HM_RELAXED);
            out[row].deallocations += atomic_load_explicit(&table[s].deallocations, HM_RELAXED);
            out[row].allocated_bytes += atomic_load_explicit(&table[s].allocated_bytes, HM_RELAXED);
            out[row].deallocated_bytes += atomic_load_explicit(&table[s].deallocated_bytes, HM_RELAXED);
        }
    }
    return rows;
}
