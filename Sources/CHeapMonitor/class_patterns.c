// Class-name patterns ("NIOCore.*", "MyApp.Cache?"): classes tracked by the
// name they have, found when the hooks first meet their metadata.
//
// Consulted only on a filter-cache miss, inside the host's allocation path:
// nothing here allocates, locks or calls the Swift runtime. The qualified
// name is read from the class's context descriptors, which are immutable.

#include "hooks_internal.h"

#include <string.h>

enum { HM_PATTERN_SLOTS = 32, HM_PATTERN_TEXT = 256, HM_NAME_DEPTH = 16 };

// Append-only: a slot's text is written once, before the count that
// publishes it (release); readers load the count with acquire. Removing a
// pattern zeroes its flags only, so a reader never sees text change.
typedef struct {
    char text[HM_PATTERN_TEXT];
    _Atomic uint32_t flags;
} hm_pattern;

static hm_pattern hm_patterns[HM_PATTERN_SLOTS];
static _Atomic size_t hm_pattern_count;

int hm_glob_match(const char *pattern, const char *text) {
    const char *star = NULL, *resume = NULL;
    while (*text) {
        if (*pattern == '*') {
            star = pattern++;
            resume = text;
        } else if (*pattern == '?' || *pattern == *text) {
            pattern++;
            text++;
        } else if (star) {  // let the last star swallow one more character
            pattern = star + 1;
            text = ++resume;
        } else {
            return 0;
        }
    }
    while (*pattern == '*') pattern++;
    return *pattern == 0;
}

// A relative pointer at `field`; `indirectable` ones with the low bit set
// point at a pointer to the target.
static const void *hm_relative(const void *field, int indirectable) {
    int32_t offset;
    memcpy(&offset, field, sizeof offset);
    if (offset == 0) return NULL;
    const char *target = (const char *)field + (offset & (indirectable ? ~1 : ~0));
    if (indirectable && (offset & 1)) return *(const void *const *)target;
    return target;
}

// The descriptor an extension extends, from its mangled name when that is
// a symbolic reference (the usual case); NULL otherwise.
static const uint32_t *hm_extended_descriptor(const uint32_t *extension) {
    const unsigned char *mangled = hm_relative(extension + 2, 0);
    if (!mangled || (mangled[0] != 1 && mangled[0] != 2)) return NULL;
    const void *target = hm_relative(mangled + 1, 0);
    if (mangled[0] == 2 && target) target = *(const void *const *)target;
    return target;
}

int hm_class_qualified_name(const void *metadata, char *buffer, size_t capacity) {
    const uintptr_t *cls = metadata;
    if (!cls || cls[0] != 0 || !cls[5] || capacity == 0) return -1;
    const char *parts[HM_NAME_DEPTH];
    int count = 0;
    const uint32_t *context = (const uint32_t *)cls[5];
    while (context && count < HM_NAME_DEPTH) {
        uint32_t kind = context[0] & 0x1f;
        if (kind == 1) {  // extension: continue with the extended type
            context = hm_extended_descriptor(context);
            continue;
        }
        if (kind == 0 || kind >= 16) {  // module, or a nominal type
            const char *name = hm_relative(context + 2, 0);
            if (!name) return -1;
            parts[count++] = name;
            if (kind == 0) break;
        }
        // Anonymous contexts (private types) add nothing to the name.
        context = hm_relative(context + 1, 1);
    }
    size_t length = 0;
    for (int i = count - 1; i >= 0; i--) {
        size_t part = strlen(parts[i]);
        if (length + part + 2 > capacity) return -1;
        memcpy(buffer + length, parts[i], part);
        length += part;
        if (i) buffer[length++] = '.';
    }
    buffer[length] = 0;
    return (int)length;
}

int hm_pattern_store(const char *text, uint32_t flags) {
    size_t count = atomic_load_explicit(&hm_pattern_count, HM_RELAXED);
    size_t length = strlen(text);
    if (length >= HM_PATTERN_TEXT) return -1;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(hm_patterns[i].text, text) == 0) {
            atomic_store_explicit(&hm_patterns[i].flags, flags, HM_RELAXED);
            return (int)i;
        }
    }
    if (!flags) return 0;
    if (count == HM_PATTERN_SLOTS) return -1;
    memcpy(hm_patterns[count].text, text, length + 1);
    atomic_store_explicit(&hm_patterns[count].flags, flags, HM_RELAXED);
    atomic_store_explicit(&hm_pattern_count, count + 1, HM_RELEASE);
    return (int)count;
}

void hm_patterns_clear(void) {
    size_t count = atomic_load_explicit(&hm_pattern_count, HM_RELAXED);
    for (size_t i = 0; i < count; i++) atomic_store_explicit(&hm_patterns[i].flags, 0, HM_RELAXED);
}

int hm_patterns_active(void) {
    size_t count = atomic_load_explicit(&hm_pattern_count, HM_ACQUIRE);
    for (size_t i = 0; i < count; i++)
        if (atomic_load_explicit(&hm_patterns[i].flags, HM_RELAXED)) return 1;
    return 0;
}

int hm_pattern_matching(const void *metadata) {
    size_t count = atomic_load_explicit(&hm_pattern_count, HM_ACQUIRE);
    if (count == 0) return -1;
    char name[512];
    if (hm_class_qualified_name(metadata, name, sizeof name) < 0) return -1;
    for (size_t i = 0; i < count; i++) {
        if (atomic_load_explicit(&hm_patterns[i].flags, HM_RELAXED) && hm_glob_match(hm_patterns[i].text, name))
            return (int)i;
    }
    return -1;
}

uint32_t hm_pattern_flags(const void *metadata) {
    int slot = hm_pattern_matching(metadata);
    return slot < 0 ? 0 : atomic_load_explicit(&hm_patterns[slot].flags, HM_RELAXED);
}
