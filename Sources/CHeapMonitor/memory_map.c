// Readable memory of this process, from /proc/self/maps, and a process-wide
// set of type metadata already checked.
//
// Both exist so that the sizer never dereferences a word it has not proven
// readable when the heap may hold dangling references: objects caught
// mid-deinit or mid-release by a fork, or freed under an in-process reader.

#define _GNU_SOURCE
#include "include/CHeapHooks.h"
#include "include/CHeapIsolation.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uintptr_t hm_parse_hex(const char **cursor, const char *end) {
    uintptr_t value = 0;
    const char *p = *cursor;
    for (; p < end; p++) {
        char c = *p;
        unsigned digit;
        if (c >= '0' && c <= '9') digit = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') digit = (unsigned)(c - 'a' + 10);
        else break;
        value = value * 16 + digit;
    }
    *cursor = p;
    return value;
}

// One line: start-end perms offset dev inode path. Returns where the
// permissions begin.
static const char *hm_parse_mapping(const char *line, const char *eol, uintptr_t *start, uintptr_t *stop) {
    const char *p = line;
    *start = hm_parse_hex(&p, eol);
    if (p < eol && *p == '-') p++;
    *stop = hm_parse_hex(&p, eol);
    if (p < eol && *p == ' ') p++;
    return p;
}

// Reads the whole file with read(2): no stdio, whose locks another thread may
// hold at the instant of a fork.
static char *hm_read_maps(size_t *length) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t capacity = 1 << 16, used = 0;
    char *text = malloc(capacity);
    while (text) {
        if (used == capacity) {
            char *grown = realloc(text, capacity * 2);
            if (!grown) { free(text); text = NULL; break; }
            text = grown;
            capacity *= 2;
        }
        ssize_t got = read(fd, text + used, capacity - used);
        if (got < 0) { free(text); text = NULL; break; }
        if (got == 0) break;
        used += (size_t)got;
    }
    close(fd);
    *length = used;
    return text;
}

// Which mappings a map keeps: readable ones, adjacent ones of one kind
// merged or not, or the heap's (writable, private, of no file).
enum { HM_MAPS_MERGED, HM_MAPS_EACH, HM_MAPS_HEAP };

static int hm_is_heap_mapping(const char *perms, const char *eol) {
    if (eol - perms < 4 || perms[1] != 'w' || perms[3] != 'p') return 0;
    // Anonymous or "[heap]": no file, and not a stack ("[stack]", or a
    // thread's stack that glibc named).
    if (memchr(perms, '/', (size_t)(eol - perms))) return 0;
    const char *name = memchr(perms, '[', (size_t)(eol - perms));
    return !name || !memmem(name, (size_t)(eol - name), "stack", 5);
}

static hm_memory_map *hm_memory_map_parse(int kind) {
    size_t length = 0;
    char *text = hm_read_maps(&length);
    if (!text) return NULL;
    hm_memory_map *map = calloc(1, sizeof *map);
    size_t capacity = 256;
    if (map) map->regions = malloc(capacity * sizeof(hm_region));
    if (!map || !map->regions) { free(map); free(text); return NULL; }
    const char *line = text, *end = text + length;
    uintptr_t guard_end = 0;  // where the last inaccessible mapping ended
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) eol = end;
        uintptr_t start, stop;
        const char *p = hm_parse_mapping(line, eol, &start, &stop);
        int readable = p < eol && *p == 'r';
        // A path after the inode field marks a file-backed mapping (an image).
        const char *path = memchr(p, '/', (size_t)(eol - p));
        if (kind == HM_MAPS_HEAP) readable = readable && hm_is_heap_mapping(p, eol);
        if (eol - p >= 3 && p[0] == '-' && p[1] == '-' && p[2] == '-') guard_end = stop;
        if (readable && stop > start) {
            // Adjacent readable regions of the same kind merge: fewer to search.
            if (kind == HM_MAPS_MERGED && map->count > 0 && map->regions[map->count - 1].end == start &&
                map->regions[map->count - 1].file_backed == (path != NULL)) {
                map->regions[map->count - 1].end = stop;
            } else {
                if (map->count == capacity) {
                    hm_region *grown = realloc(map->regions, capacity * 2 * sizeof(hm_region));
                    if (!grown) break;
                    map->regions = grown;
                    capacity *= 2;
                }
                int program_break = memmem(p, (size_t)(eol - p), "[heap]", 6) != NULL;
                map->regions[map->count++] = (hm_region){start, stop, path != NULL, guard_end == start, program_break};
            }
        }
        line = eol + 1;
    }
    free(text);
    return map;
}

hm_memory_map *hm_memory_map_read(void) { return hm_memory_map_parse(HM_MAPS_MERGED); }

hm_memory_map *hm_memory_map_read_mappings(void) { return hm_memory_map_parse(HM_MAPS_EACH); }

hm_memory_map *hm_memory_map_read_heap(void) { return hm_memory_map_parse(HM_MAPS_HEAP); }

void hm_mapping_protections(const uintptr_t *addresses, int *protections, size_t count) {
    for (size_t i = 0; i < count; i++) protections[i] = 0;
    size_t length = 0;
    char *text = hm_read_maps(&length);
    if (!text) return;
    const char *line = text, *end = text + length;
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) eol = end;
        uintptr_t start, stop;
        const char *p = hm_parse_mapping(line, eol, &start, &stop);
        if (eol - p >= 3) {
            int protection = HM_MAPPED | (p[1] == 'w' ? HM_MAPPED_WRITABLE : 0) |
                             (p[2] == 'x' ? HM_MAPPED_EXECUTABLE : 0);
            for (size_t i = 0; i < count; i++)
                if (addresses[i] >= start && addresses[i] < stop) protections[i] = protection;
        }
        line = eol + 1;
    }
    free(text);
}

void hm_memory_map_free(hm_memory_map *map) {
    if (!map) return;
    free(map->regions);
    free(map);
}

const hm_region *hm_memory_map_find(const hm_memory_map *map, uintptr_t address) {
    if (!map) return NULL;
    size_t low = 0, high = map->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (map->regions[mid].end <= address) low = mid + 1;
        else high = mid;
    }
    if (low < map->count && map->regions[low].start <= address) return &map->regions[low];
    return NULL;
}

int hm_memory_map_contains_slow(hm_memory_map *map, uintptr_t address, uintptr_t end, int file_backed) {
    if (end <= address) return 0;
    const hm_region *region = hm_memory_map_find(map, address);
    if (!region || end > region->end || (file_backed && !region->file_backed)) return 0;
    map->last_start = region->start;
    map->last_end = region->end;
    return 1;
}

// MARK: Metadata checked already

// Insert-only open addressing with compare-and-swap: readers and writers never
// wait, so a fork that catches another thread inside it leaves nothing locked.
// Metadata is never freed, so an entry stays true. When the table is crowded
// an entry is simply not remembered (it is checked again next time).
#define HM_KNOWN_SLOTS 16384
#define HM_KNOWN_PROBES 32
static _Atomic uintptr_t hm_known[HM_KNOWN_SLOTS];

static inline size_t hm_known_slot(uintptr_t metadata) {
    return hm_address_hash(metadata) & (HM_KNOWN_SLOTS - 1);
}

int hm_metadata_is_known(const void *metadata, int role) {
    uintptr_t key = (uintptr_t)metadata | (uintptr_t)(role & 7);
    size_t slot = hm_known_slot(key);
    for (int probe = 0; probe < HM_KNOWN_PROBES; probe++) {
        // Acquire pairs with the release in hm_metadata_remember; the checks
        // that admitted an entry read only immutable metadata, so nothing
        // else needs ordering.
        uintptr_t found = atomic_load_explicit(&hm_known[slot], memory_order_acquire);
        if (found == key) return 1;
        if (found == 0) return 0;
        slot = (slot + 1) & (HM_KNOWN_SLOTS - 1);
    }
    return 0;
}

void hm_metadata_remember(const void *metadata, int role) {
    uintptr_t key = (uintptr_t)metadata | (uintptr_t)(role & 7);
    size_t slot = hm_known_slot(key);
    for (int probe = 0; probe < HM_KNOWN_PROBES; probe++) {
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&hm_known[slot], &expected, key, memory_order_release,
                                                    memory_order_acquire) || expected == key) return;
        slot = (slot + 1) & (HM_KNOWN_SLOTS - 1);
    }
}

int hm_is_mapped(uintptr_t address, size_t length) {
    static uintptr_t page;
    if (!page) page = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (length == 0 || address + length < address) return 0;
    uintptr_t start = address & ~(page - 1);
    uintptr_t end = (address + length + page - 1) & ~(page - 1);
    unsigned char residency[8];
    if ((end - start) / page > sizeof(residency)) return 0;
    // ENOMEM: part of the range is not mapped. Residency does not matter.
    return mincore((void *)start, end - start, residency) == 0;
}

// Flags, parent, name, accessor, fields, superclass, negative size or
// bounds, positive size, immediate members, field count, field vector; then
// the bounds a resilient class's descriptor points at, and its name.
typedef struct {
    uint32_t descriptor[12];
    int64_t bounds;
    char name[8];
} hm_class_descriptor_words;

// The name's relative pointer, at byte 8, reaches `name` at byte 56; the
// bounds', at byte 24, reaches `bounds` at byte 48.
static const hm_class_descriptor_words hm_oversized_class = {{16, 0, 48, 0, 0, 0, 2, 1000, 0, 0, 2}, 0, "Fake"};
static const hm_class_descriptor_words hm_far_resilient_class = {{16u | 1u << 29, 0, 48, 0, 0, 0, 24, 0, 0, 0, 2},
                                                                 1 << 20, "Fake"};

// Numbers that fit, but no name.
static const hm_class_descriptor_words hm_nameless_class = {{16, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2}, 0, ""};

// Behind a resilient superclass whose bounds are the largest number: adding
// the field vector to them overflows.
static const hm_class_descriptor_words hm_boundless_resilient_class = {
    {16u | 1u << 29, 0, 48, 0, 0, 0, 24, 0, 0, 0, 2}, INT64_MAX, "Fake"};

const void *hm_test_class_descriptor(int which) {
    switch (which) {
    case 0: return &hm_oversized_class;
    case 1: return &hm_far_resilient_class;
    case 2: return &hm_nameless_class;
    default: return &hm_boundless_resilient_class;
    }
}
