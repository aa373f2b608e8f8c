// Live Swift objects found by reading the heap itself: a census of objects
// that were allocated before any hook counted them. Runs in a forked child,
// where nothing changes the heap under it.
//
// With glibc the walk follows the allocator's own chunk chains: each
// arena's heap from its first chunk to its top (the main arena's `[heap]`,
// the others' heaps on 64 MiB boundaries, led by their `heap_info`), and
// the chunks mapped alone (a page-aligned header marked mmapped). A chain
// counts only if it ends exactly where the heap does, so a block is never
// read from the middle. With another allocator (jemalloc) no such chain
// can be followed after a fork, so every 16-byte boundary of the heap's
// mappings (every block starts on one) is a candidate.
//
// Either way a candidate is an object only if its header holds up:
// - its second word is a live reference count: inline (pure-Swift-dealloc
//   bit set, at least one unowned count, not deiniting, not immortal) or a
//   side table whose first word is the object and whose count is live.
//   Freed objects keep their headers (jemalloc leaves a freed block
//   untouched), but a freed object was deinited first: its count says so;
// - its first word is class metadata (`hm_class_check`, remembered per word);
// - its block has room for the class's instance size.

#define _GNU_SOURCE
#include "CHeapMonitor.h"
#include "hooks_internal.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// `hm_class_check`'s verdicts on words met in a header's first place,
// direct-mapped by word (an empty slot's word, 0, is never a candidate).
#define HM_VERDICT_SLOTS 65536

typedef struct {
    uintptr_t word;
    uintptr_t verdict;
} hm_verdict;

// Reference-count bits of a 64-bit object header.
#define HM_RC_PURE_SWIFT_DEALLOC (UINT64_C(1) << 0)
#define HM_RC_UNOWNED_MASK (UINT64_C(0x7FFFFFFF) << 1)
#define HM_RC_DEINITING (UINT64_C(1) << 32)
#define HM_RC_USE_SLOW_RC (UINT64_C(1) << 63)
#define HM_RC_SIDE_TABLE_MARK (UINT64_C(1) << 62)

static int hm_inline_count_is_live(uint64_t bits) {
    return (bits & HM_RC_PURE_SWIFT_DEALLOC) && (bits & HM_RC_UNOWNED_MASK) && !(bits & HM_RC_DEINITING) &&
           !(bits & HM_RC_USE_SLOW_RC) && (uint32_t)bits != UINT32_MAX;
}

// The header's count word, inline or through its side table (object
// pointer first, the count bits 16 bytes in).
static int hm_count_is_live(const uintptr_t *object, hm_memory_map *readable) {
    uint64_t bits = object[1];
    if (!(bits & HM_RC_USE_SLOW_RC)) return hm_inline_count_is_live(bits);
    if (!(bits & HM_RC_SIDE_TABLE_MARK)) return 0;
    uintptr_t table = (uintptr_t)(bits & (HM_RC_SIDE_TABLE_MARK - 1)) << 3;
    if (!hm_memory_map_contains(readable, table, 24, 0)) return 0;
    const uintptr_t *entry = (const uintptr_t *)table;
    return entry[0] == (uintptr_t)object && hm_inline_count_is_live(entry[2]);
}

#define HM_WINDOW_PAGES 512
#define HM_LARGEST_MAPPING (UINT64_C(256) << 30)

// What one walk carries: its results, the memory it may read, and the
// verdicts on metadata words met so far.
typedef struct {
    hm_heap_census *census;
    hm_memory_map *readable;
    hm_verdict *verdicts;
    hm_class_check check;
    void *context;
    /// Where the last arena heap walked ends: a heap may span mappings.
    uintptr_t covered_end;
    /// The census tables, whose slots (metadata, then a count) read as
    /// headers: never objects.
    hm_range tables[64];
    size_t table_count;
    /// Which pages of the window at `window` are resident (mincore).
    uintptr_t window;
    unsigned char resident[HM_WINDOW_PAGES];
} hm_walk;

// Whether the page at `address` holds anything: a page never written (or
// swapped out) is not resident. Reading it would make the kernel map it, and
// reservations run to terabytes (a sanitizer's allocator and shadow), so
// pages are asked of the kernel in windows of 2 MiB first.
static int hm_is_resident(hm_walk *walk, uintptr_t address) {
    uintptr_t window = address & ~(uintptr_t)(HM_WINDOW_PAGES * 4096 - 1);
    if (window != walk->window) {
        walk->window = window;
        // A window partly unmapped: ask page by page.
        if (mincore((void *)window, HM_WINDOW_PAGES * 4096, walk->resident) != 0)
            for (size_t page = 0; page < HM_WINDOW_PAGES; page++)
                if (mincore((void *)(window + page * 4096), 4096, &walk->resident[page]) != 0)
                    walk->resident[page] = 0;
    }
    return walk->resident[(address - window) / 4096] & 1;
}

static int hm_is_monitor_memory(const hm_walk *walk, uintptr_t at) {
    for (size_t i = 0; i < walk->table_count; i++)
        if (at >= walk->tables[i].start && at < walk->tables[i].end) return 1;
    return 0;
}

static hm_walk_row *hm_walk_row_for(hm_heap_census *census, uintptr_t metadata) {
    size_t mask = census->capacity - 1, slot = hm_metadata_hash(metadata) & mask;
    for (size_t probe = 0; probe < census->capacity / 2; probe++, slot = (slot + 1) & mask) {
        hm_walk_row *row = &census->rows[slot];
        if (row->metadata == metadata) return row;
        if (row->metadata == 0) {
            row->metadata = metadata;
            census->classes++;
            return row;
        }
    }
    return NULL;
}

// The instance size a class's metadata gives (0 for other heap metadata:
// closure contexts and boxes, whose blocks are passed over, not counted).
static size_t hm_instance_size(uintptr_t metadata) {
    const uint32_t *words = (const uint32_t *)metadata;
    return *(const uintptr_t *)metadata == 0 ? words[6] : 0;
}

// Counts the object at `at` if its header holds up (see the top of the
// file) in a block of `capacity` usable bytes; returns whether it did.
static int hm_count_object(hm_walk *walk, uintptr_t at, size_t capacity) {
    const uintptr_t *object = (const uintptr_t *)at;
    uintptr_t metadata = object[0];
    if (capacity < 16 || metadata < 4096 || (metadata & 7) || metadata >> 47 ||
        !hm_count_is_live(object, walk->readable))
        return 0;
    hm_verdict *cached = &walk->verdicts[((metadata >> 3) ^ (metadata >> 17)) & (HM_VERDICT_SLOTS - 1)];
    if (cached->word != metadata) {
        cached->word = metadata;
        cached->verdict = (uintptr_t)walk->check((const void *)metadata, walk->context);
    }
    if (cached->verdict == HM_NOT_AN_OBJECT) return 0;
    size_t instance_size = hm_instance_size(metadata);
    if (instance_size > capacity || hm_is_monitor_memory(walk, at)) return 0;
    // The allocator's size for the block, header included, must fit what
    // is left of the memory walked: else the header before it is not one.
    size_t bytes = hm_block_size(object);
    if (bytes < instance_size || bytes > capacity + 16) return 0;
    walk->census->objects++;
    if (cached->verdict != HM_COUNTED_OBJECT) return 1;
    hm_walk_row *row = hm_walk_row_for(walk->census, metadata);
    if (!row) {
        walk->census->overflow++;
        return 1;
    }
    row->count++;
    row->bytes += bytes;
    return 1;
}

static void hm_scan_range(hm_walk *walk, uintptr_t start, uintptr_t end);

// MARK: glibc's chunks

#define HM_CHUNK_HEADER 16
#define HM_ARENA_HEAP_SIZE (UINT64_C(64) << 20)

// Follows glibc's chunks from `first` and says whether the chain ends
// exactly at `limit` (a heap's top chunk) or at the fenceposts that close
// an arena's earlier heap; with `walk`, counts the objects of the chunks in
// use (the next chunk's header says so) on the way.
static int hm_follow_chunks(hm_walk *walk, uintptr_t first, uintptr_t limit) {
    uintptr_t chunk = first;
    while (chunk + HM_CHUNK_HEADER <= limit) {
        size_t size = ((const uintptr_t *)chunk)[1] & ~(uintptr_t)7;
        // An arena's earlier heap ends in fenceposts, a bare header then
        // none, within its last 64 bytes.
        if (size == 0) return limit - chunk <= 64;
        if (size & 15 || chunk + size > limit) return 0;
        if (chunk + size == limit) return 1;  // the top chunk
        int in_use = ((const uintptr_t *)(chunk + size))[1] & 1;
        if (walk && in_use) hm_count_object(walk, chunk + HM_CHUNK_HEADER, size - 8);
        chunk += size;
    }
    return 0;
}

// The first chunk of the arena heap at `heap` (a `heap_info`: arena,
// previous heap, size, protected size, and more in later glibc versions),
// or 0 if no chain from there ends where the heap does. The first heap of an
// arena holds the arena itself right after `heap_info` (so the arena's
// address gives that structure's size), and its chunks after the arena,
// a structure whose size the chain finds: every offset up to 4 KiB is
// tried. Both sizes found are kept for the other heaps.
static uintptr_t hm_arena_heap_first_chunk(uintptr_t heap, uintptr_t *limit) {
    static size_t info_bytes, arena_bytes;
    const uintptr_t *info = (const uintptr_t *)heap;
    // Read from the heap, not a map: the child's own allocations may have
    // grown its thread's heap since the map was read.
    size_t size = info[2], protected_size = info[3];
    if (size < 4096 || size > HM_ARENA_HEAP_SIZE || (size & 4095) || protected_size < size ||
        protected_size > HM_ARENA_HEAP_SIZE || (info[1] & (HM_ARENA_HEAP_SIZE - 1)) || !info[0] || (info[0] & 15) ||
        !hm_is_mapped(heap + size - 1, 1))
        return 0;
    *limit = heap + size;
    uintptr_t arena = info[0];
    if (arena > heap && arena <= heap + 128 && !(arena & 15)) {
        info_bytes = arena - heap;
        if (arena_bytes && hm_follow_chunks(NULL, arena + arena_bytes, *limit)) return arena + arena_bytes;
        for (size_t bytes = 16; bytes <= 4096; bytes += 16) {
            if (!hm_follow_chunks(NULL, arena + bytes, *limit)) continue;
            arena_bytes = bytes;
            return arena + bytes;
        }
        return 0;
    }
    if (info_bytes) return hm_follow_chunks(NULL, heap + info_bytes, *limit) ? heap + info_bytes : 0;
    for (size_t bytes = 32; bytes <= 128; bytes += 16)
        if (hm_follow_chunks(NULL, heap + bytes, *limit)) return heap + bytes;
    return 0;
}

// Walks the glibc chunks in `mapping` — the main arena's heap, arena
// heaps on 64 MiB boundaries, chunks mapped alone at page boundaries — and
// returns whether it found the heap's chains where it expected them (the
// main arena's, for `[heap]`); if not, the caller scans the mapping.
static int hm_walk_glibc_mapping(hm_walk *walk, hm_region mapping) {
    if (mapping.program_break) {
        // The main arena's heap: its top chunk ends at the program break.
        uintptr_t limit = (uintptr_t)sbrk(0);
        if (limit <= mapping.start || !hm_follow_chunks(NULL, mapping.start, limit)) return 0;
        hm_follow_chunks(walk, mapping.start, limit);
        walk->covered_end = limit;
        return 1;
    }
    uintptr_t at = mapping.start > walk->covered_end ? mapping.start : walk->covered_end;
    while (at + 4096 <= mapping.end) {
        const uintptr_t *words = (const uintptr_t *)at;
        uintptr_t limit = 0, first = 0;
        if (!(at & (HM_ARENA_HEAP_SIZE - 1)) && ((first = hm_arena_heap_first_chunk(at, &limit)) || limit)) {
            // What reads as an arena's heap whose chain does not hold is
            // scanned rather than passed over.
            if (first) hm_follow_chunks(walk, first, limit);
            else hm_scan_range(walk, at, limit);
            at = walk->covered_end = (limit + 4095) & ~(uintptr_t)4095;
            continue;
        }
        if (!hm_is_resident(walk, at)) {
            at += 4096;
            continue;
        }
        // A chunk mapped alone: no previous size, marked mmapped, whole pages.
        size_t size = words[1] & ~(uintptr_t)7;
        if (words[0] == 0 && (words[1] & 2) && size && !(size & 4095) && size <= mapping.end - at) {
            hm_count_object(walk, at + HM_CHUNK_HEADER, size - HM_CHUNK_HEADER);
            at += size;
            continue;
        }
        at += 4096;
    }
    return 1;
}

// MARK: Any allocator

// Scans [start, end) for objects at every 16-byte boundary, even inside an
// object found: stepping over its block would step over real objects after
// a false one, whose block size is the allocator's guess about the middle
// of another block.
static void hm_scan_range(hm_walk *walk, uintptr_t start, uintptr_t end) {
    // With glibc a block's size is in the word before it, which must be
    // in the range too.
    uintptr_t first = (start + (hm_glibc_chunk_headers ? 16 + 15 : 15)) & ~(uintptr_t)15;
    for (uintptr_t at = first; at + 16 <= end; at += 16) {
        if (!(at & 4095) || at == first) {
            if (!hm_is_resident(walk, at)) {
                at = (at | 4095) + 1 - 16;
                continue;
            }
        }
        hm_count_object(walk, at, end - at);
    }
}

static int hm_overlaps(hm_range range, uintptr_t start, uintptr_t end) {
    return range.start < end && start < range.end;
}

// The stack-protector canary, which glibc copies into every thread's TCB.
static uintptr_t hm_stack_guard(void) {
    uintptr_t guard = 0;
#if defined(__x86_64__)
    __asm__("mov %%fs:0x28, %0" : "=r"(guard));
#endif
    return guard;
}

// Where a glibc thread's stack block ends, searched from `from` (in the
// stack) up to `end`: the block's top holds the thread's TCB, whose first
// and third words are its own address (tcbhead_t's tcb and self) and whose
// sixth is the canary every thread shares; the block ends with that page.
// 0 when there is no TCB.
static uintptr_t hm_stack_block_end(uintptr_t from, uintptr_t end) {
    uintptr_t guard = hm_stack_guard();
    if (!guard) return 0;
    for (uintptr_t at = (from + 15) & ~(uintptr_t)15; at + 48 <= end; at += 16) {
        const uintptr_t *words = (const uintptr_t *)at;
        if (words[0] == at && words[2] == at && words[5] == guard) return (at + 4096) & ~(uintptr_t)4095;
    }
    return 0;
}

#define HM_MAX_CUTS 64

// The parts of `mapping` the walk leaves out, sorted by start: a thread's
// stack (above guard pages, or around a blocked thread's stack pointer; up
// to its TCB's page, since the kernel may have merged the stack with heap
// mappings around it), and images' writable data past their files.
static size_t hm_cuts(hm_region mapping, const hm_heap_walk_exclusions *exclusions, hm_range *cuts) {
    size_t count = 0;
    // A glibc heap of its own arena may follow another's reserve too, but
    // starts on a 64 MiB boundary.
    if (mapping.guarded && (mapping.start & (HM_ARENA_HEAP_SIZE - 1))) {
        uintptr_t top = hm_stack_block_end(mapping.start, mapping.end);
        if (top) cuts[count++] = (hm_range){mapping.start, top};
    }
    for (size_t i = 0; i < exclusions->stack_count && count < HM_MAX_CUTS; i++) {
        hm_range stack = exclusions->stacks[i];
        if (!hm_overlaps(stack, mapping.start, mapping.end)) continue;
        uintptr_t top = hm_stack_block_end(stack.start, mapping.end);
        cuts[count++] = (hm_range){mapping.start, top ? top : mapping.end};
    }
    for (size_t i = 0; i < exclusions->segment_count && count < HM_MAX_CUTS; i++)
        if (hm_overlaps(exclusions->segments[i], mapping.start, mapping.end)) cuts[count++] = exclusions->segments[i];
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && cuts[j].start < cuts[j - 1].start; j--) {
            hm_range swap = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = swap;
        }
    return count;
}

// Scans one mapping but the parts `hm_cuts` leaves out.
static void hm_scan_mapping(hm_walk *walk, hm_region mapping, const hm_heap_walk_exclusions *exclusions) {
    hm_range cuts[HM_MAX_CUTS];
    size_t count = hm_cuts(mapping, exclusions, cuts);
    uintptr_t at = mapping.start;
    for (size_t i = 0; i <= count && at < mapping.end; i++) {
        uintptr_t stop = i < count && cuts[i].start < mapping.end ? cuts[i].start : mapping.end;
        if (stop > at) hm_scan_range(walk, at, stop);
        if (i < count && cuts[i].end > at) at = cuts[i].end;
    }
}

static int hm_scans_every_boundary;

void hm_test_scan_every_boundary(int on) { hm_scans_every_boundary = on; }

int hm_heap_walk(hm_heap_census *census, const hm_heap_walk_exclusions *exclusions, hm_class_check check,
                 void *context) {
    memset(census, 0, sizeof *census);
    census->capacity = 1 << 16;
    // Mapped apart from the heap, and left out of the walk: the rows hold
    // metadata words next to counts, like a header.
    size_t bytes = census->capacity * sizeof(hm_walk_row) + HM_VERDICT_SLOTS * sizeof(hm_verdict);
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return -1;
    census->rows = memory;
    census->mapped_bytes = bytes;
    hm_memory_map *heap = hm_memory_map_read_heap(), *readable = hm_memory_map_read();
    if (!heap || !readable) {
        hm_memory_map_free(heap);
        hm_memory_map_free(readable);
        hm_heap_census_free(census);
        return -1;
    }
    hm_walk walk = {census, readable, (hm_verdict *)(census->rows + census->capacity), check, context, 0, {{0}}, 0,
                    1, {0}};
    walk.table_count = hm_census_table_ranges(walk.tables, sizeof walk.tables / sizeof walk.tables[0]);
    int chains = hm_glibc_chunk_headers && !hm_scans_every_boundary;
    hm_range own = {(uintptr_t)memory, (uintptr_t)memory + bytes};
    for (size_t i = 0; i < heap->count; i++) {
        hm_region mapping = heap->regions[i];
        // A reservation of terabytes (a sanitizer's allocator and shadow)
        // would take minutes even page by page; no allocator's heap is one.
        if (hm_overlaps(own, mapping.start, mapping.end) || mapping.end - mapping.start > HM_LARGEST_MAPPING) continue;
        census->regions++;
        census->scanned_bytes += mapping.end - mapping.start;
        if (!chains || !hm_walk_glibc_mapping(&walk, mapping)) hm_scan_mapping(&walk, mapping, exclusions);
    }
    hm_memory_map_free(heap);
    hm_memory_map_free(readable);
    return 0;
}

void hm_heap_census_free(hm_heap_census *census) {
    if (census->rows) munmap(census->rows, census->mapped_bytes);
    census->rows = NULL;
}
