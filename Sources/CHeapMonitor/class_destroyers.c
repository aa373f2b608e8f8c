#define _GNU_SOURCE
#include "CHeapHooks.h"
#include "hooks_internal.h"

#include <link.h>
#include <pthread.h>

// Deaths of tracked classes, caught in each class's metadata rather than
// by a hook on the runtime's free, which every class's deaths would pay.
//
// `swift_release` ends an object by calling the destroyer its class's
// metadata holds (the deallocating deinit, a word before the value
// witnesses); that calls the runtime's free after the deinit. On a tracked
// class's first recorded birth, its word is pointed at `hm_destroy_hook`,
// which records the death and calls on to the class's own destroyer, kept
// here. Each class has its own word (a subclass's is its own deinit), so
// every class whose births are recorded is caught, subclasses and generic
// specialisations included. Births are recorded only once the word is
// written, so no recorded object can die past it.
//
// A word is written only where the metadata lies in memory that is
// writable anyway: a loaded image's writable segment outside its RELRO
// range, or no image at all (the runtime's own allocations, where generic
// metadata is made); and only when it points into an image's code. A class
// that fails either, or does not fit the table, is left alone, and the
// runtime's free is hooked again while classes are tracked (got_patching.c,
// `hm_route_frees`).

// Written under the patch lock, read by the hook without it: a slot's
// `original` is stored before its `metadata` (release), which the hook
// loads with acquire. A slot is never emptied, so a hook that loaded the
// word before a restore still finds where to go on.
hm_destroyer_slot hm_destroyers[HM_DESTROYER_SLOTS];
// Some tracked class's deaths are not caught in its metadata.
static _Atomic int hm_destroyers_missed;
static _Atomic int hm_test_refuse;
_Atomic uint64_t hm_destroyers_lost;

static hm_destroyer_slot *hm_destroyer_find(uintptr_t metadata) {
    size_t at = hm_metadata_hash(metadata);
    for (size_t probe = 0; probe < HM_DESTROYER_SLOTS; probe++) {
        hm_destroyer_slot *slot = &hm_destroyers[(at + probe) & (HM_DESTROYER_SLOTS - 1)];
        uintptr_t key = atomic_load_explicit(&slot->metadata, HM_ACQUIRE);
        if (key == metadata || key == 0) return slot;
    }
    return NULL;
}

hm_destroyer hm_original_destroyer_slowly(const void *metadata) {
    // A class whose word points here is in the table; its superclasses are
    // searched only in case the runtime ever copied a word to a subclass,
    // which would then have taken the superclass's destroyer as well.
    const uintptr_t *cls = metadata;
    for (int depth = 0; cls && depth < 64; depth++) {
        hm_destroyer_slot *slot = hm_destroyer_find((uintptr_t)cls);
        if (slot && atomic_load_explicit(&slot->metadata, HM_RELAXED) == (uintptr_t)cls)
            return atomic_load_explicit(&slot->original, HM_RELAXED);
        cls = (const uintptr_t *)cls[1];
    }
    return NULL;
}

int hm_destroyers_all_caught(void) { return !atomic_load_explicit(&hm_destroyers_missed, HM_RELAXED); }

// Where a word lies, and whether a destroyer points into code.
typedef struct {
    uintptr_t word, target;
    int in_image, writable, target_in_code;
} hm_place;

static int hm_find_place(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    hm_place *place = context;
    int word_here = 0, word_writable = 0, word_relro = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (ph->p_type == PT_GNU_RELRO && place->word >= start && place->word < end) word_relro = 1;
        if (ph->p_type != PT_LOAD) continue;
        if (place->word >= start && place->word < end) {
            word_here = 1;
            word_writable = (ph->p_flags & PF_W) != 0;
        }
        if ((ph->p_flags & PF_X) && place->target >= start && place->target < end) place->target_in_code = 1;
    }
    if (word_here) {
        place->in_image = 1;
        place->writable = word_writable && !word_relro;
    }
    return 0;
}

static hm_place hm_locate(uintptr_t word, uintptr_t target) {
    hm_place place = {word, target, 0, 0, 0};
    dl_iterate_phdr(hm_find_place, &place);
    if (!place.in_image) place.writable = 1;
    return place;
}

static _Atomic(hm_destroyer) *hm_destroyer_word(const void *metadata) {
    return (_Atomic(hm_destroyer) *)((uintptr_t)metadata - HM_DESTROYER_OFFSET);
}

static int hm_patch_destroyer(const void *metadata) {
    _Atomic(hm_destroyer) *word = hm_destroyer_word(metadata);
    hm_destroyer current = atomic_load_explicit(word, HM_RELAXED);
    if (current == hm_destroy_hook) return 1;
    hm_destroyer_slot *slot = hm_destroyer_find((uintptr_t)metadata);
    if (!slot) return 0;
    int known = atomic_load_explicit(&slot->metadata, HM_RELAXED) != 0;
    // Patched before and restored: the word must hold what it held then.
    if (known && atomic_load_explicit(&slot->original, HM_RELAXED) != current) return 0;
    hm_place place = hm_locate((uintptr_t)word, (uintptr_t)current);
    if (atomic_load_explicit(&hm_test_refuse, HM_RELAXED)) place.writable = 0;
    if (!place.writable || !place.target_in_code) {
        // Refused for good: a slot without an original.
        if (!known) atomic_store_explicit(&slot->metadata, (uintptr_t)metadata, HM_RELEASE);
        return 0;
    }
    if (!known) {
        slot->in_image = place.in_image;
        atomic_store_explicit(&slot->original, current, HM_RELAXED);
        atomic_store_explicit(&slot->metadata, (uintptr_t)metadata, HM_RELEASE);
    }
    // Release: a thread that loads the hook from the word finds the slot.
    atomic_store_explicit(word, hm_destroy_hook, HM_RELEASE);
    return 1;
}

void hm_catch_deaths(const void *metadata) {
    // A class refused before (or with the table full) is not looked at again
    // while the free is hooked for it.
    hm_destroyer_slot *known = hm_destroyer_find((uintptr_t)metadata);
    if (atomic_load_explicit(&hm_destroyers_missed, HM_RELAXED) &&
        (!known || (atomic_load_explicit(&known->metadata, HM_RELAXED) == (uintptr_t)metadata &&
                    !atomic_load_explicit(&known->original, HM_RELAXED))))
        return;
    pthread_mutex_lock(&hm_patch_lock);
    int caught = hm_patch_destroyer(metadata);
    pthread_mutex_unlock(&hm_patch_lock);
    if (caught) return;
    // Before the birth is recorded: its death must reach a hook.
    atomic_store_explicit(&hm_destroyers_missed, 1, HM_RELAXED);
    hm_route_frees();
}

void hm_restore_destroyers(void) {
    pthread_mutex_lock(&hm_patch_lock);
    for (size_t i = 0; i < HM_DESTROYER_SLOTS; i++) {
        hm_destroyer_slot *slot = &hm_destroyers[i];
        uintptr_t metadata = atomic_load_explicit(&slot->metadata, HM_RELAXED);
        if (!metadata) continue;
        _Atomic(hm_destroyer) *word = hm_destroyer_word((const void *)metadata);
        // An image's metadata is read only while the image is loaded.
        if (slot->in_image && !hm_locate((uintptr_t)word, 0).in_image) continue;
        if (atomic_load_explicit(word, HM_RELAXED) != hm_destroy_hook) continue;
        atomic_store_explicit(word, atomic_load_explicit(&slot->original, HM_RELAXED), HM_RELEASE);
    }
    atomic_store_explicit(&hm_destroyers_missed, 0, HM_RELAXED);
    pthread_mutex_unlock(&hm_patch_lock);
}

int hm_class_deaths_caught(const void *metadata) { return hm_destroyer_hooked(metadata); }

uint64_t hm_objects_left_undestroyed(void) { return atomic_load_explicit(&hm_destroyers_lost, HM_RELAXED); }

void hm_test_refuse_destroyers(int on) { atomic_store_explicit(&hm_test_refuse, on != 0, HM_RELAXED); }
