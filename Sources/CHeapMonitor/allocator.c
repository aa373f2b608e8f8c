#include "CHeapMonitor.h"
#include <dlfcn.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

// glibc keeps a size word before each block (bits 0-2 are flags); the block's
// chunk is that size, of which malloc_usable_size reports all but one word
// (two for mmapped chunks, flag bit 1).
enum { HM_SIZE_SZ = sizeof(size_t), HM_IS_MMAPPED = 0x2, HM_FLAGS = 0x7 };

int hm_glibc_chunk_headers = 0;

size_t hm_usable_size(const void *ptr) { return malloc_usable_size((void *)ptr); }

static int hm_header_matches(size_t request) {
    // volatile: an optimiser may otherwise elide the malloc/free pair.
    void *volatile block = malloc(request);
    if (!block) return 0;
    size_t header = ((const size_t *)block)[-1];
    size_t overhead = (header & HM_IS_MMAPPED) ? 2 * HM_SIZE_SZ : HM_SIZE_SZ;
    int matches = (header & ~(size_t)HM_FLAGS) == malloc_usable_size(block) + overhead;
    free(block);
    return matches;
}

// jemalloc's and tcmalloc's own statistics, when one of them is the
// allocator: glibc's mallinfo2 then counts only what glibc itself still
// serves (nothing, or its loader's few blocks).
typedef int (*hm_mallctl_fn)(const char *, void *, size_t *, void *, size_t);
typedef int (*hm_tcmalloc_property_fn)(const char *, size_t *);
static hm_mallctl_fn hm_mallctl;
static hm_tcmalloc_property_fn hm_tcmalloc_property;

// Another allocator (jemalloc, tcmalloc, linked or preloaded) has no such
// header: then sizes fall back to usable sizes, and bytes in use come from
// its statistics.
__attribute__((constructor)) static void hm_detect_allocator(void) {
    hm_glibc_chunk_headers = hm_header_matches(24) && hm_header_matches(1000) && hm_header_matches(1 << 20);
    if (hm_glibc_chunk_headers) return;
    hm_mallctl = (hm_mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (!hm_mallctl)
        hm_tcmalloc_property = (hm_tcmalloc_property_fn)dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty");
}

int hm_allocator_is_glibc(void) { return hm_glibc_chunk_headers; }

const char *hm_allocator_name(void) {
    if (hm_glibc_chunk_headers) return "glibc";
    if (hm_mallctl) return "jemalloc";
    if (hm_tcmalloc_property) return "tcmalloc";
    return "unknown allocator";
}

// jemalloc's `stats.allocated` is refreshed only when its `epoch` is
// written; reading it costs a merge of the arenas' counters (microseconds).
// The calling thread's cache is flushed first: regions it holds count as
// allocated, which would hide what this thread just freed.
static int hm_jemalloc_allocated(size_t *bytes) {
    hm_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    uint64_t epoch = 1;
    size_t length = sizeof(epoch);
    if (hm_mallctl("epoch", &epoch, &length, &epoch, length) != 0) return 0;
    length = sizeof(*bytes);
    return hm_mallctl("stats.allocated", bytes, &length, NULL, 0) == 0;
}

size_t hm_plausible_block_size(const void *ptr, size_t capacity) {
    uintptr_t address = (uintptr_t)ptr;
    if (!hm_glibc_chunk_headers || capacity == 0 || (address & 15) != 0 || (address & 4095) < HM_SIZE_SZ) return 0;
    size_t header = ((const size_t *)ptr)[-1];
    size_t size = header & ~(size_t)HM_FLAGS;
    int mmapped = (header & HM_IS_MMAPPED) != 0;
    size_t overhead = mmapped ? 2 * HM_SIZE_SZ : HM_SIZE_SZ;
    // malloc rounds small requests up by less than 32 bytes, mapped ones to a page.
    size_t slack = mmapped ? 4096 : 32;
    if (size < overhead || size - overhead < capacity || size - overhead >= capacity + slack) return 0;
    return size;
}

size_t hm_allocator_in_use(void) {
    size_t bytes = 0;
    if (hm_mallctl && hm_jemalloc_allocated(&bytes)) return bytes;
    if (hm_tcmalloc_property && hm_tcmalloc_property("generic.current_allocated_bytes", &bytes)) return bytes;
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

size_t hm_allocator_in_use_sampled(void) {
    // One caller at a time in practice (the periodic snapshots' queue);
    // atomics keep concurrent callers from tearing the pair anyway.
    static _Atomic uint64_t next_call_ns;
    static _Atomic size_t last_value;
    uint64_t start = hm_clock_ns();
    if (start < atomic_load_explicit(&next_call_ns, memory_order_acquire))
        return atomic_load_explicit(&last_value, memory_order_relaxed);
    size_t value = hm_allocator_in_use();
    uint64_t end = hm_clock_ns();
    atomic_store_explicit(&last_value, value, memory_order_relaxed);
    atomic_store_explicit(&next_call_ns, end + 49 * (end - start), memory_order_release);
    return value;
}
