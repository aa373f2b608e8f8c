#ifndef CHEAPISOLATION_H
#define CHEAPISOLATION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// One readable range of the address space; `file_backed` for mappings of a
/// file (the executable and its libraries, where descriptors live).
typedef struct {
    uintptr_t start, end;
    uint8_t file_backed;
    /// The mapping starts where an inaccessible one ends: glibc maps a
    /// thread's stack so, above its guard pages.
    uint8_t guarded;
    /// `[heap]`: the memory below the program break.
    uint8_t program_break;
} hm_region;

/// The process's readable memory when it was read (sorted, adjacent ranges of
/// one kind merged), and the region of the last hit. One reader at a time.
typedef struct hm_memory_map {
    hm_region *regions;
    size_t count;
    uintptr_t last_start, last_end;
} hm_memory_map;

/// Reads /proc/self/maps; NULL if it cannot be read.
hm_memory_map *hm_memory_map_read(void);
/// Reads /proc/self/maps a mapping a region, none merged (where one
/// mapping's bounds matter: a thread's stack).
hm_memory_map *hm_memory_map_read_mappings(void);
/// Reads /proc/self/maps for the mappings heap blocks can lie in: writable,
/// private, of no file, and not a stack (`[stack]` or a named thread stack).
hm_memory_map *hm_memory_map_read_heap(void);
void hm_memory_map_free(hm_memory_map *map);

/// What a mapping allows (`hm_mapping_protections`).
enum { HM_MAPPED = 1, HM_MAPPED_WRITABLE = 2, HM_MAPPED_EXECUTABLE = 4 };
/// The protection of the mapping that holds each of `addresses`, as it is
/// now (0: unmapped), from one read of /proc/self/maps: no loader lock, no
/// signal. 0 for all when the file cannot be read.
void hm_mapping_protections(const uintptr_t *addresses, int *protections, size_t count);
/// The region holding `address`, or NULL.
const hm_region *hm_memory_map_find(const hm_memory_map *map, uintptr_t address);

/// Whether `length` bytes at `address` are readable (and, with `file_backed`,
/// in a mapping of a file). The region of the last hit is tried first:
/// objects cluster, so most checks cost two comparisons.
int hm_memory_map_contains_slow(hm_memory_map *map, uintptr_t address, uintptr_t end, int file_backed);
static inline int hm_memory_map_contains(hm_memory_map *map, uintptr_t address, size_t length, int file_backed) {
    uintptr_t end = address + length;
    if (!file_backed && address >= map->last_start && end <= map->last_end && end > address) return 1;
    return hm_memory_map_contains_slow(map, address, end, file_backed);
}

/// Whether every page of `length` bytes at `address` is mapped now, asked
/// of the kernel (mincore): for words that may point anywhere, where a map
/// read earlier can be out of date — the reader's own frees may have
/// trimmed the heap since.
int hm_is_mapped(uintptr_t address, size_t length);

/// A process-wide, lock-free set of metadata pointers that passed the
/// sizer's checks in a role (metadata is immortal: once valid, always
/// valid). Roles are small numbers, 1 to 7: a type's metadata may be valid
/// as a value's type and not as a heap object's.
int hm_metadata_is_known(const void *metadata, int role);
void hm_metadata_remember(const void *metadata, int role);

/// Test point: a class descriptor in an image that no metadata can name —
/// 0: one that claims 1,000 words of members; 1: one behind a resilient
/// superclass whose bounds put its members 1 MiB past the address point;
/// 2: one whose numbers fit but that has no name; 3: one behind a resilient
/// superclass whose bounds are INT64_MAX (an overflow for a careless check).
const void *hm_test_class_descriptor(int which);

/// Forks the process for an isolated analysis. In the parent: returns the
/// child's pid (> 0) and the read end of a pipe in `*read_fd`, or -1 with
/// errno set (fork refused, no pipe); `*fork_ns` is how long fork(2) took.
/// In the child: returns 0 with the write end in `*write_fd`, after making it
/// a quiet, short-lived process: every other descriptor closed but the
/// standard three (the host's sockets stay the host's), default signal
/// dispositions (no host handlers, no crash reporter), all signals
/// unblocked, no core dumps, killed when the parent dies.
pid_t hm_isolation_fork(int *read_fd, int *write_fd, uint64_t *fork_ns);

/// Whether this process is a child made by `hm_isolation_fork`, where the
/// runtime's locks may be held for good by threads that are not there.
int hm_is_isolation_child(void);

/// Writes all `length` bytes to `fd` (0), or -1 when the reader went away.
int hm_write_all(int fd, const void *bytes, size_t length);

/// Ends the child at once, without atexit handlers or stdio flushes (which
/// would repeat the host's buffered output).
_Noreturn void hm_isolation_exit(int status);

/// Reads what `child` sends on `fd` into a growing buffer until end of file,
/// waiting at most until `deadline_ns` (CLOCK_MONOTONIC). Returns 1 at end of
/// file, 0 on time-out, 2 when the child is blocked on a lock held at the
/// fork (while its pipe is silent, asleep for 100 ms, or spinning in the
/// kernel for half a second; see isolation.c), -1 on error (errno set, or
/// ENOMEM).
int hm_read_until(int fd, pid_t child, uint64_t deadline_ns, uint8_t **bytes, size_t *length);

/// Waits for the child until `deadline_ns`: 1 with its wait status in
/// `*status`, 0 on time-out (the child is then killed and reaped), -1 when
/// it was reaped by someone else (ECHILD).
int hm_isolation_wait(pid_t child, uint64_t deadline_ns, int *status);

#endif
