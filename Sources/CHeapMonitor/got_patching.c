#define _GNU_SOURCE
#include "CHeapHooks.h"
#include "hook_entries.h"
#include "hooks_internal.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// Puts the hooks into every loaded image's GOT entries for the runtime's
// allocation entry points (never into the runtime's own `_swift_allocObject`
// slot, which crashes string handling on Swift 6.3 Linux), and takes them
// out again. The runtime's free is hooked only while the work needs it
// (`hm_route_frees`).

typedef struct {
    void **slot;
    void *original;
    int entry;  // HM_ENTRY_…
} hm_patch;

static hm_patch *hm_patches;
static size_t hm_patch_count, hm_patch_capacity;
pthread_mutex_t hm_patch_lock = PTHREAD_MUTEX_INITIALIZER;
// Whether `swift_deallocClassInstance`'s slots are to hold the hook; under
// the lock.
static int hm_frees_hooked;
// Whether they do, for hooks to read: set after the slots are written
// (release), cleared before they are written back.
static _Atomic int hm_frees_published;

typedef struct {
    int saw_runtime;   // libswiftCore is a loaded image
    size_t patched;    // entries patched by this scan
    int skip_main;     // the executable is linked with --wrap: its calls reach the hooks already
} hm_scan;

// The dynamic symbol table, with the bounds the dynamic section gives.
typedef struct {
    const ElfW(Sym) *symbols;
    size_t symbol_count;
    const char *strings;
    size_t string_size;
} hm_symbol_table;

static int hm_is_runtime(const char *name) { return strstr(name, "libswiftCore.so") != NULL; }

static uintptr_t hm_dynamic_address(const struct dl_phdr_info *info, ElfW(Addr) value) {
    // glibc relocates most d_ptr entries in place; the vDSO and others do not.
    return value < info->dlpi_addr ? info->dlpi_addr + value : value;
}

size_t hm_gnu_hash_symbol_count(const uint32_t *table) {
    uint32_t buckets = table[0], first = table[1], bloom_words = table[2];
    const uint32_t *bucket = table + 4 + bloom_words * (sizeof(ElfW(Addr)) / 4);
    const uint32_t *chain = bucket + buckets;
    uint32_t last = 0;
    for (uint32_t b = 0; b < buckets; b++)
        if (bucket[b] > last) last = bucket[b];
    if (last < first) return first;
    while (!(chain[last - first] & 1)) last++;  // a chain ends with its low bit set
    return (size_t)last + 1;
}

const char *hm_symbol_name(const void *symbols, size_t symbol_count, const char *strings, size_t string_size,
                           size_t index) {
    if (index >= symbol_count) return NULL;
    size_t offset = ((const ElfW(Sym) *)symbols)[index].st_name;
    if (offset >= string_size || !memchr(strings + offset, 0, string_size - offset)) return NULL;
    return strings + offset;
}

static int hm_already_patched(void **slot) {
    for (size_t i = 0; i < hm_patch_count; i++)
        if (hm_patches[i].slot == slot) return 1;
    return 0;
}

// Writes `value` to `slot`, making a RELRO page writable for the write.
static int hm_write_slot(const struct dl_phdr_info *info, void **slot, void *value) {
    uintptr_t address = (uintptr_t)slot;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_GNU_RELRO) continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (address < start || address >= end) continue;
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), base = address & ~(page - 1);
        pthread_mutex_lock(&hm_destroyer_lock);
        int unprotected = mprotect((void *)base, page, PROT_READ | PROT_WRITE) == 0;
        if (unprotected) {
            __atomic_store_n(slot, value, __ATOMIC_RELEASE);
            mprotect((void *)base, page, PROT_READ);
        }
        pthread_mutex_unlock(&hm_destroyer_lock);
        return unprotected ? 0 : -1;
    }
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    return 0;
}

static int hm_remember_patch(void **slot, void *original, int entry) {
    if (hm_patch_count == hm_patch_capacity) {
        size_t capacity = hm_patch_capacity ? hm_patch_capacity * 2 : 64;
        hm_patch *grown = realloc(hm_patches, capacity * sizeof(hm_patch));
        if (!grown) return -1;
        hm_patches = grown;
        hm_patch_capacity = capacity;
    }
    hm_patches[hm_patch_count++] = (hm_patch){slot, original, entry};
    return 0;
}

static void hm_patch_relocations(struct dl_phdr_info *info, hm_scan *scan, const ElfW(Rela) *relocations,
                                 size_t count, const hm_symbol_table *table) {
    for (size_t r = 0; r < count; r++) {
        unsigned long type = ELF64_R_TYPE(relocations[r].r_info);
#if defined(__x86_64__)
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
#elif defined(__aarch64__)
        if (type != R_AARCH64_JUMP_SLOT && type != R_AARCH64_GLOB_DAT) continue;
#endif
        const char *name = hm_symbol_name(table->symbols, table->symbol_count, table->strings, table->string_size,
                                          ELF64_R_SYM(relocations[r].r_info));
        if (!name || strncmp(name, "swift_", 6) != 0) continue;
        for (int s = 0; s < HM_ENTRY_POINT_COUNT; s++) {
            if (strcmp(name, hm_entry_symbol(s)) != 0) continue;
            void **slot = (void **)(info->dlpi_addr + relocations[r].r_offset);
            if (hm_already_patched(slot)) break;
            void *original = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
            // Remembered first: a slot written but not remembered could not be restored.
            if (hm_remember_patch(slot, original, s) != 0) return;
            void *value = s == HM_ENTRY_dealloc_class && !hm_frees_hooked ? original : hm_entry_hook(s);
            if (hm_write_slot(info, slot, value) == 0) scan->patched++;
            else hm_patch_count--;
            break;
        }
    }
}

static void hm_note_runtime(const struct dl_phdr_info *info) {
    uintptr_t low = UINTPTR_MAX, high = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (start < low) low = start;
        if (start + ph->p_memsz > high) high = start + ph->p_memsz;
    }
    hm_set_runtime_range(low, high);
}

static int hm_scan_image(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    hm_scan *scan = context;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    // The executable is the image without a name; wrapped, its GOT entries
    // for the entry points are what `__real_*` calls go through.
    if (scan->skip_main && name[0] == 0) return 0;
    if (hm_is_runtime(name)) {
        scan->saw_runtime = 1;
        hm_note_runtime(info);
        return 0;  // its internal calls are direct; its GOT is not ours to touch
    }
    if (strstr(name, "linux-vdso") || strstr(name, "ld-linux")) return 0;
    const ElfW(Dyn) *dynamic = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dynamic) return 0;
    hm_symbol_table table = {0};
    const uint32_t *hash = NULL, *gnu_hash = NULL;
    const ElfW(Rela) *plt = NULL, *rela = NULL;
    size_t plt_size = 0, rela_size = 0;
    for (const ElfW(Dyn) *d = dynamic; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB: table.symbols = (const ElfW(Sym) *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_STRTAB: table.strings = (const char *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_STRSZ: table.string_size = d->d_un.d_val; break;
        case DT_HASH: hash = (const uint32_t *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_GNU_HASH: gnu_hash = (const uint32_t *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_JMPREL: plt = (const ElfW(Rela) *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_PLTRELSZ: plt_size = d->d_un.d_val; break;
        case DT_RELA: rela = (const ElfW(Rela) *)hm_dynamic_address(info, d->d_un.d_ptr); break;
        case DT_RELASZ: rela_size = d->d_un.d_val; break;
        }
    }
    // The symbol count is recorded only in the hash tables.
    table.symbol_count = hash ? hash[1] : gnu_hash ? hm_gnu_hash_symbol_count(gnu_hash) : 0;
    if (!table.symbols || !table.strings || !table.symbol_count) return 0;
    if (plt) hm_patch_relocations(info, scan, plt, plt_size / sizeof(ElfW(Rela)), &table);
    if (rela) hm_patch_relocations(info, scan, rela, rela_size / sizeof(ElfW(Rela)), &table);
    return 0;
}

int hm_hooks_install(void) {
    pthread_mutex_lock(&hm_patch_lock);
    hm_scan scan = {0, 0, hm_wrapped};
    int result = HM_INSTALLED;
    if (hm_wrapped) {
        // Linked with --wrap: the executable's calls are hooked; a dynamic
        // runtime's other users (Foundation, Dispatch) are patched as usual.
        // A static executable has no such images: nothing more to do.
        if (hm_resolve_runtime() == 0) dl_iterate_phdr(hm_scan_image, &scan);
    } else if (hm_resolve_runtime() != 0) {
        result = HM_STATIC_STDLIB;
    } else {
        dl_iterate_phdr(hm_scan_image, &scan);
        if (!scan.saw_runtime) result = HM_STATIC_STDLIB;
        else if (hm_patch_count == 0) result = HM_NOTHING_TO_PATCH;
    }
    pthread_mutex_unlock(&hm_patch_lock);
    return result;
}

// Writes each remembered slot of this image: with `*restoring` its
// original; else only the free's slots, as `hm_frees_hooked` says.
static int hm_rewrite_image(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    int restoring = *(const int *)context;
    for (size_t i = 0; i < hm_patch_count; i++) {
        hm_patch *patch = &hm_patches[i];
        if (!patch->slot || (!restoring && patch->entry != HM_ENTRY_dealloc_class)) continue;
        uintptr_t address = (uintptr_t)patch->slot;
        for (int p = 0; p < info->dlpi_phnum; p++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[p];
            uintptr_t start = info->dlpi_addr + ph->p_vaddr;
            if (ph->p_type != PT_LOAD || address < start || address >= start + ph->p_memsz) continue;
            int hooked = !restoring && hm_frees_hooked;
            hm_write_slot(info, patch->slot, hooked ? hm_entry_hook(patch->entry) : patch->original);
            if (restoring) patch->slot = NULL;
            break;
        }
    }
    return 0;
}

void hm_hooks_uninstall(void) {
    pthread_mutex_lock(&hm_patch_lock);
    int restoring = 1;
    dl_iterate_phdr(hm_rewrite_image, &restoring);
    hm_patch_count = 0;  // entries of unloaded images are gone with them
    pthread_mutex_unlock(&hm_patch_lock);
}

// A tracked class's deaths are caught in its metadata (class_destroyers.c),
// so that every other class's free runs unhooked: hooking it alone cost
// untracked allocations about 0.06x of their time. The census and every
// class watched still need it, and so does a class not caught.
static void hm_route_frees_locked(void) {
    int work = atomic_load_explicit(&hm_active_work, HM_ACQUIRE);
    // The destroyer lock orders this look at the classes not caught with a
    // hook's (`hm_catch_deaths`): a class missed before it is still seen
    // hooked, or is seen here.
    pthread_mutex_lock(&hm_destroyer_lock);
    int wanted = hm_census_on(work) || hm_is_watching_all() ||
                 ((work & HM_ACTIVE_CLASSES) && !hm_destroyers_all_caught());
    int changed = wanted != hm_frees_hooked;
    if (changed && !wanted) atomic_store_explicit(&hm_frees_published, 0, HM_RELAXED);
    pthread_mutex_unlock(&hm_destroyer_lock);
    if (!changed) return;
    hm_frees_hooked = wanted;
    int restoring = 0;
    dl_iterate_phdr(hm_rewrite_image, &restoring);
    // A hook that sees the flag records a birth whose death the slots'
    // callers, synchronised with it, send to the hook.
    if (wanted) atomic_store_explicit(&hm_frees_published, 1, HM_RELEASE);
}

void hm_route_frees(void) {
    pthread_mutex_lock(&hm_patch_lock);
    hm_route_frees_locked();
    pthread_mutex_unlock(&hm_patch_lock);
}

int hm_try_route_frees(void) {
    if (pthread_mutex_trylock(&hm_patch_lock) == 0) {
        hm_route_frees_locked();
        pthread_mutex_unlock(&hm_patch_lock);
    }
    return atomic_load_explicit(&hm_frees_published, HM_ACQUIRE);
}

int hm_frees_hooked_now(void) { return atomic_load_explicit(&hm_frees_published, HM_ACQUIRE); }

size_t hm_hooks_patched_entries(void) {
    pthread_mutex_lock(&hm_patch_lock);
    size_t count = hm_patch_count;
    pthread_mutex_unlock(&hm_patch_lock);
    return count;
}
