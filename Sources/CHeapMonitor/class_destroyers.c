#define _GNU_SOURCE
#include "CHeapHooks.h"
#include "hooks_internal.h"

#include "CHeapIsolation.h"

#include <pthread.h>
#include <stdlib.h>

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
// A word is written only where its mapping is writable anyway (an image's
// data, not its RELRO pages; the runtime's allocations, where generic
// metadata is made) and only when it points into executable code, as
// /proc/self/maps says: not the loader's image list, whose lock the
// allocating thread may hold (inside a caller's `dl_iterate_phdr`) while
// another waits for it under our locks. A class that fails either, or does
// not fit the table, is left alone, and the runtime's free is hooked again
// while classes are tracked (got_patching.c, `hm_try_route_frees`); its
// births are recorded once it is.

// Held while writing a class's word, and by got_patching.c around a RELRO
// page's unprotected moment (one of ours might look writable then). It is
// never held while waiting for another lock: a hook may take it inside a
// caller's `dl_iterate_phdr` or `dlopen`.
pthread_mutex_t hm_destroyer_lock = PTHREAD_MUTEX_INITIALIZER;

// Written under the destroyer lock, read by the hook without it: a slot's
// `original` is stored before its `metadata` (release), which the hook
// loads with acquire. A slot is never emptied, so a hook that loaded the
// word before a restore still finds where to go on.
hm_destroyer_slot hm_destroyers[HM_DESTROYER_SLOTS];
// Some tracked class's deaths are not caught in its metadata.
static _Atomic int hm_destroyers_missed;
static _Atomic int hm_test_refuse;
_Atomic uint64_t hm_destroyers_lost;

static hm_destroyer_slot *hm_destroyer_find(uintptr_t metadata) {
    size_t at = hm_destroyer_home(metadata);
    for (size_t probe = 0; probe < HM_DESTROYER_SLOTS; probe++) {
        hm_destroyer_slot *slot = &hm_destroyers[(at + probe) & (HM_DESTROYER_SLOTS - 1)];
        uintptr_t key = atomic_load_explicit(&slot->metadata, HM_ACQUIRE);
        if (key == metadata || key == 0) return slot;
    }
    return NULL;
}

hm_destroyer hm_original_destroyer_slowly(const void *metadata) {
    // The runtime loaded the word that led here with a plain load; on a CPU
    // that may reorder loads (not x86) the inline look at the slot could
    // have been answered before it. The fence orders the search after it.
    atomic_thread_fence(memory_order_acquire);
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

static _Atomic(hm_destroyer) *hm_destroyer_word(const void *metadata) {
    return (_Atomic(hm_destroyer) *)((uintptr_t)metadata - HM_DESTROYER_OFFSET);
}

static int hm_patch_destroyer(const void *metadata) {
    _Atomic(hm_destroyer) *word = hm_destroyer_word(metadata);
    hm_destroyer current = hm_class_destroyer(metadata);
    if (current == hm_destroy_hook) return 1;
    hm_destroyer_slot *slot = hm_destroyer_find((uintptr_t)metadata);
    if (!slot) return 0;
    int known = atomic_load_explicit(&slot->metadata, HM_RELAXED) != 0;
    // Patched before and restored: the word must hold what it held then.
    if (known && atomic_load_explicit(&slot->original, HM_RELAXED) != current) return 0;
    uintptr_t places[2] = {(uintptr_t)word, (uintptr_t)current};
    int protections[2];
    hm_mapping_protections(places, protections, 2);
    if (atomic_load_explicit(&hm_test_refuse, HM_RELAXED)) protections[0] = 0;
    if (!(protections[0] & HM_MAPPED_WRITABLE) || !(protections[1] & HM_MAPPED_EXECUTABLE)) {
        // Refused for good: a slot without an original.
        if (!known) atomic_store_explicit(&slot->metadata, (uintptr_t)metadata, HM_RELEASE);
        return 0;
    }
    if (!known) {
        atomic_store_explicit(&slot->original, current, HM_RELAXED);
        atomic_store_explicit(&slot->metadata, (uintptr_t)metadata, HM_RELEASE);
    }
    // Release: a thread that loads the hook from the word finds the slot.
    atomic_store_explicit(word, hm_destroy_hook, HM_RELEASE);
    return 1;
}

int hm_catch_deaths(const void *metadata) {
    pthread_mutex_lock(&hm_destroyer_lock);
    int caught = hm_patch_destroyer(metadata);
    // Under the lock, as `hm_route_frees` reads them: it never unhooks the
    // free between this flag and the look at whether it is hooked.
    if (!caught) atomic_store_explicit(&hm_destroyers_missed, 1, HM_RELAXED);
    int freed_seen = !caught && hm_frees_hooked_now();
    pthread_mutex_unlock(&hm_destroyer_lock);
    return caught || freed_seen || hm_try_route_frees();
}

void hm_restore_destroyers(void) {
    pthread_mutex_lock(&hm_destroyer_lock);
    uintptr_t *words = malloc(HM_DESTROYER_SLOTS * sizeof *words);
    int *protections = malloc(HM_DESTROYER_SLOTS * sizeof *protections);
    size_t count = 0;
    for (size_t i = 0; words && protections && i < HM_DESTROYER_SLOTS; i++) {
        uintptr_t metadata = atomic_load_explicit(&hm_destroyers[i].metadata, HM_RELAXED);
        if (metadata && atomic_load_explicit(&hm_destroyers[i].original, HM_RELAXED))
            words[count++] = (uintptr_t)hm_destroyer_word((const void *)metadata);
    }
    // A class of an image unloaded since is not touched: its word is gone.
    if (count) hm_mapping_protections(words, protections, count);
    for (size_t i = 0; i < count; i++) {
        const void *metadata = (const void *)(words[i] + HM_DESTROYER_OFFSET);
        if (!(protections[i] & HM_MAPPED_WRITABLE) || !hm_destroyer_hooked(metadata)) continue;
        hm_destroyer_slot *slot = hm_destroyer_find((uintptr_t)metadata);
        atomic_store_explicit(hm_destroyer_word(metadata), atomic_load_explicit(&slot->original, HM_RELAXED),
                              HM_RELEASE);
    }
    free(words);
    free(protections);
    atomic_store_explicit(&hm_destroyers_missed, 0, HM_RELAXED);
    pthread_mutex_unlock(&hm_destroyer_lock);
}

int hm_class_deaths_caught(const void *metadata) { return hm_destroyer_hooked(metadata); }

uint64_t hm_objects_left_undestroyed(void) { return atomic_load_explicit(&hm_destroyers_lost, HM_RELAXED); }

void hm_test_hold_destroyer_lock(int on) {
    if (on) pthread_mutex_lock(&hm_destroyer_lock);
    else pthread_mutex_unlock(&hm_destroyer_lock);
}

void hm_test_refuse_destroyers(int on) { atomic_store_explicit(&hm_test_refuse, on != 0, HM_RELAXED); }
