#ifndef CHEAPMONITOR_H
#define CHEAPMONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "CHeapHooks.h"
#include "CHeapIsolation.h"
#include "CHeapControl.h"

/// Whether the allocator is glibc's, whose chunk header holds the block size
/// (checked once at load time against `malloc_usable_size`).
extern int hm_glibc_chunk_headers;

/// Bytes the allocator holds for the heap block at `ptr`, header included, so
/// sums compare with `hm_allocator_in_use`. With glibc this is the chunk size,
/// read from the chunk header; with another allocator, the usable size.
static inline size_t hm_block_size(const void *ptr) {
    if (hm_glibc_chunk_headers) return ((const size_t *)ptr)[-1] & ~(size_t)7;
    extern size_t hm_usable_size(const void *ptr);
    return hm_usable_size(ptr);
}

/// The block size at `ptr` when `ptr` looks like the start of a glibc block
/// of at least `capacity` usable bytes (header plausible, within the
/// allocator's rounding), else 0. Reads only the word before `ptr`, and only
/// when it is on `ptr`'s own page: the page before may not be mapped.
size_t hm_plausible_block_size(const void *ptr, size_t capacity);

/// Whether the allocator is glibc's (`hm_glibc_chunk_headers`), for Swift callers.
int hm_allocator_is_glibc(void);

/// The allocator in use: "glibc", "jemalloc", "tcmalloc" or "unknown allocator".
const char *hm_allocator_name(void);

/// Asks the CPU to start loading the cache line at `ptr`.
static inline void hm_prefetch(const void *ptr) { __builtin_prefetch(ptr); }

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t hm_clock_ns(void);

/// Usable bytes of the heap block at `ptr` (`malloc_usable_size`).
size_t hm_usable_size(const void *ptr);

/// Bytes the allocator has handed out and not taken back: glibc's
/// `mallinfo2` (in-use arena bytes plus mmapped blocks), jemalloc's
/// `stats.allocated` or tcmalloc's `generic.current_allocated_bytes`.
size_t hm_allocator_in_use(void);

/// `hm_allocator_in_use`, called at most 2 % of the time: in between, the
/// last figure. For background snapshots — `mallinfo2` walks every free
/// chunk under the arena locks (tens of milliseconds on a fragmented heap).
size_t hm_allocator_in_use_sampled(void);

/// Resolves a mangled type name from reflection metadata to type metadata,
/// or NULL when the runtime cannot (wraps `swift_getTypeByMangledNameInContext`).
const void *hm_type_by_mangled_name(const char *name, size_t length,
                                    const void *context,
                                    const void *const *genericArgs);

/// The case index of the enum value at `value` of enum type `metadata`
/// (its value witness `getEnumTag`): payload cases first, then empty cases.
unsigned hm_enum_tag(const void *value, const void *metadata);

/// Strips tag bits from the enum value at `value` in place so that its payload
/// can be read (value witness `destructiveProjectEnumData`). Call it on a copy only.
void hm_enum_project(void *value, const void *metadata);

/// The function containing code address `address` (demangled into `symbol`,
/// offset into it in `*offset`) and the path of its image. Reads each image's
/// symbol table from its file once. Returns the symbol's length, 0 if unknown.
size_t hm_symbolicate(uintptr_t address, char *symbol, size_t symbol_capacity, uintptr_t *offset,
                      char *image_path, size_t image_capacity);
/// The data symbol (a global or static variable) containing `address`,
/// demangled, as `hm_symbolicate` does for code. Returns 0 if unknown.
size_t hm_data_symbol(uintptr_t address, char *symbol, size_t symbol_capacity, uintptr_t *offset,
                      char *image_path, size_t image_capacity);

/// The source file (`directory/name`) and line of the instruction at code
/// address `address`, from its image's DWARF line table (read from the
/// file once, when first asked). Returns the path's length, 0 if unknown.
size_t hm_source_line(uintptr_t address, char *path, size_t path_capacity, unsigned *line);

/// The rows kept from the DWARF line table of the ELF file image at `elf`
/// (`length` bytes), 0 when it has none; for tests of the reader on hostile
/// input. The table is freed before returning.
size_t hm_line_table_row_count(const void *elf, size_t length);

/// A range of addresses, `start` included, `end` not.
typedef struct {
    uintptr_t start, end;
} hm_range;
/// The writable loaded segments of every image (`.data`, `.bss`: where
/// globals and statics live), at most `capacity` of them into `out`.
/// Returns how many there are.
size_t hm_writable_segments(hm_range *out, size_t capacity);

/// The live part of a thread's stack, from near its stack pointer up.
typedef struct {
    uintptr_t start, end;
    int32_t tid;
    char name[16];
} hm_thread_stack;
/// The stacks of this process's threads: the calling thread's from its
/// current frame, the others' from the stack pointer the kernel reports
/// for a thread blocked in a system call (`/proc/self/task/N/syscall`). A
/// running thread has no such figure and is left out. Returns how many
/// there are; at most `capacity` go to `out`.
size_t hm_thread_stacks(hm_thread_stack *out, size_t capacity);

/// What `hm_heap_walk` leaves out besides the stacks it finds above guard
/// pages: images' writable data past their files (globals, not blocks), and
/// the stack blocks around these stack ranges (threads blocked in a call).
typedef struct {
    const hm_range *segments;
    size_t segment_count;
    const hm_range *stacks;
    size_t stack_count;
} hm_heap_walk_exclusions;

/// A class's live instances as a heap walk found them.
typedef struct {
    uintptr_t metadata;
    uint64_t count, bytes;
} hm_walk_row;

/// What a heap walk found: `rows` is an open-addressing table of
/// `capacity` slots, empty ones with metadata 0.
typedef struct {
    hm_walk_row *rows;
    size_t capacity, mapped_bytes;
    /// Classes in `rows`; objects of any kind found; counted objects left
    /// out for want of room; mappings walked and their bytes.
    uint64_t classes, objects, overflow, regions, scanned_bytes;
} hm_heap_census;

/// What `hm_class_check` says of a word found where an object's metadata
/// would be.
enum {
    HM_NOT_AN_OBJECT = 0,
    /// Class metadata whose instances the census counts.
    HM_COUNTED_OBJECT = 1,
    /// A heap object's metadata whose instances the census leaves out (the
    /// standard library's, closure contexts, boxes): its block is passed over.
    HM_UNCOUNTED_OBJECT = 2,
};
typedef int (*hm_class_check)(const void *metadata, void *context);

/// Counts the live Swift objects in the heap's mappings by class, reading
/// every block-aligned header (see heap_walk.c for what makes one an
/// object's). Only where nothing changes the heap: in a forked child.
/// Returns 0, or -1 when memory or the process's map could not be had.
/// Free the result with `hm_heap_census_free`.
int hm_heap_walk(hm_heap_census *census, const hm_heap_walk_exclusions *exclusions, hm_class_check check,
                 void *context);
void hm_heap_census_free(hm_heap_census *census);
/// Test point: with 1, the walk scans every 16-byte boundary as it does
/// under allocators other than glibc's, instead of following glibc's chunks.
void hm_test_scan_every_boundary(int on);

#endif
