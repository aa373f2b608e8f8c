#include "CHeapMonitor.h"
#include <malloc.h>
#include <stdlib.h>

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

// Another allocator (jemalloc, tcmalloc via LD_PRELOAD) has no such header:
// then sizes fall back to usable sizes.
__attribute__((constructor)) static void hm_detect_allocator(void) {
    hm_glibc_chunk_headers = hm_header_matches(24) && hm_header_matches(1000) && hm_header_matches(1 << 20);
}

int hm_allocator_is_glibc(void) { return hm_glibc_chunk_headers; }

size_t hm_allocator_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}
