// Live Swift objects found by reading the heap itself: a census of objects
// that were allocated before any hook counted them. Runs in a forked child,
// where nothing changes the heap under it.
//
// No allocator offers a walk of its blocks that is safe after a fork, so
// every 16-byte-aligned address of the heap's mappings (every block starts
// on one, with glibc and with jemalloc) is a candidate, and a candidate is
// an object only if its header holds up:
// - its second word is a live reference count: inline (pure-Swift-dealloc
//   bit set, at least one unowned count, not deiniting, not immortal) or a
//   side table whose first word is the object and whose count is live.
//   Freed objects keep their headers (jemalloc leaves a block untouched, a
//   block glibc merged keeps its old words inside), but a freed object was
//   deinited first: its count says so;
// - its first word is class metadata (`hm_class_check`, remembered per word);
// - with glibc, the chunk header before it is a block's, in use, with room
//   for the class's instance size.
// Once an object is found, the walk goes on after its block, so no word
// inside it is taken for a header.

#define _GNU_SOURCE
#include "CHeapMonitor.h"

#include <string.h>
#include <sys/mman.h>

// The first class-metadata verdict for each word met as a first word,
// direct-mapped: 0 unknown, else 1 + verdict.
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

// Whether glibc's chunk header before `object` makes it a block in use
// whose chunk ends within `end`: its size sane, the next chunk's header
// saying this one is in use; or a chunk of its own mapping.
static int hm_glibc_chunk_in_use(const uintptr_t *object, uintptr_t end, size_t instance_size) {
    uintptr_t chunk = (uintptr_t)object - 16, header = object[-1];
    size_t size = header & ~(uintptr_t)7;
    if (size < instance_size + 8 || size & 15 || chunk + size > end) return 0;
    if (header & 2) return (chunk & 4095) == 0 && (size & 4095) == 0;
    if (chunk + size + 16 > end) return 0;
    return ((const uintptr_t *)(chunk + size))[1] & 1;
}

static hm_walk_row *hm_walk_row_for(hm_heap_census *census, uintptr_t metadata) {
    size_t mask = census->capacity - 1, slot = ((metadata >> 4) ^ (metadata >> 16)) & mask;
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

// The object at `at`'s block size if its header holds up (see the top of
// the file), else 0; `*verdict` says whether its class is counted.
static size_t hm_object_at(uintptr_t at, uintptr_t start, uintptr_t end, hm_memory_map *readable,
                           hm_verdict *verdicts, hm_class_check check, void *context, int *verdict) {
    const uintptr_t *object = (const uintptr_t *)at;
    uintptr_t metadata = object[0];
    if (metadata < 4096 || (metadata & 7) || metadata >> 47 || !hm_count_is_live(object, readable)) return 0;
    hm_verdict *cached = &verdicts[((metadata >> 3) ^ (metadata >> 17)) & (HM_VERDICT_SLOTS - 1)];
    if (cached->word != metadata) {
        cached->word = metadata;
        cached->verdict = (uintptr_t)check((const void *)metadata, context);
    }
    *verdict = (int)cached->verdict;
    if (*verdict == HM_NOT_AN_OBJECT) return 0;
    size_t instance_size = hm_instance_size(metadata);
    if (hm_glibc_chunk_headers && (at < start + 16 || !hm_glibc_chunk_in_use(object, end, instance_size))) return 0;
    size_t bytes = hm_block_size(object);
    if (bytes < instance_size || bytes > end - at + (hm_glibc_chunk_headers ? 16 : 0)) return 0;
    return bytes;
}

// Walks [start, end) of one mapping, which spans [low, high).
static void hm_walk_range(hm_heap_census *census, uintptr_t start, uintptr_t end, uintptr_t low, uintptr_t high,
                          hm_memory_map *readable, hm_verdict *verdicts, hm_class_check check, void *context) {
    census->scanned_bytes += end - start;
    uintptr_t at = (start + 15) & ~(uintptr_t)15;
    while (at + 16 <= end) {
        int verdict = HM_NOT_AN_OBJECT;
        size_t bytes = hm_object_at(at, low, high, readable, verdicts, check, context, &verdict);
        if (!bytes) {
            at += 16;
            continue;
        }
        census->objects++;
        if (verdict == HM_COUNTED_OBJECT) {
            hm_walk_row *row = hm_walk_row_for(census, *(const uintptr_t *)at);
            if (row) {
                row->count++;
                row->bytes += bytes;
            } else {
                census->overflow++;
            }
        }
        // glibc's next block starts where this one's usable bytes end.
        size_t span = hm_glibc_chunk_headers ? bytes - 8 : bytes;
        at += (span + 15) & ~(size_t)15;
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
    if (mapping.guarded && (mapping.start & ((UINT64_C(64) << 20) - 1))) {
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

// Walks one mapping but the parts `hm_cuts` leaves out.
static void hm_walk_mapping(hm_heap_census *census, hm_region mapping, const hm_heap_walk_exclusions *exclusions,
                            hm_memory_map *readable, hm_verdict *verdicts, hm_class_check check, void *context) {
    hm_range cuts[HM_MAX_CUTS];
    size_t count = hm_cuts(mapping, exclusions, cuts);
    census->regions++;
    uintptr_t at = mapping.start;
    for (size_t i = 0; i <= count && at < mapping.end; i++) {
        uintptr_t stop = i < count && cuts[i].start < mapping.end ? cuts[i].start : mapping.end;
        if (stop > at) hm_walk_range(census, at, stop, mapping.start, mapping.end, readable, verdicts, check, context);
        if (i < count && cuts[i].end > at) at = cuts[i].end;
    }
}

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
    hm_verdict *verdicts = (hm_verdict *)(census->rows + census->capacity);
    hm_memory_map *heap = hm_memory_map_read_heap(), *readable = hm_memory_map_read();
    if (!heap || !readable) {
        hm_memory_map_free(heap);
        hm_memory_map_free(readable);
        hm_heap_census_free(census);
        return -1;
    }
    hm_range own = {(uintptr_t)memory, (uintptr_t)memory + bytes};
    for (size_t i = 0; i < heap->count; i++) {
        if (hm_overlaps(own, heap->regions[i].start, heap->regions[i].end)) continue;
        hm_walk_mapping(census, heap->regions[i], exclusions, readable, verdicts, check, context);
    }
    hm_memory_map_free(heap);
    hm_memory_map_free(readable);
    return 0;
}

void hm_heap_census_free(hm_heap_census *census) {
    if (census->rows) munmap(census->rows, census->mapped_bytes);
    census->rows = NULL;
}
