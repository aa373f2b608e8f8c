#include "CHeapMonitor.h"

// The runtime entry point uses the Swift calling convention.
__attribute__((swiftcall)) extern const void *swift_getTypeByMangledNameInContext(
    const char *name, size_t length, const void *context, const void *const *genericArgs);

const void *hm_type_by_mangled_name(const char *name, size_t length,
                                    const void *context,
                                    const void *const *genericArgs) {
    return swift_getTypeByMangledNameInContext(name, length, context, genericArgs);
}

// Value witness functions use the Swift calling convention. The enum witnesses
// follow the 11 base entries of the value witness table (8 functions, size,
// stride, flags and extra inhabitants packed in 3 words).
typedef unsigned (*hm_enum_tag_fn)(const void *, const void *) __attribute__((swiftcall));
typedef void (*hm_enum_project_fn)(void *, const void *) __attribute__((swiftcall));
enum { HM_VWT_GET_ENUM_TAG = 11, HM_VWT_PROJECT_ENUM_DATA = 12 };

static const void *const *hm_value_witnesses(const void *metadata) {
    return ((const void *const *const *)metadata)[-1];
}

unsigned hm_enum_tag(const void *value, const void *metadata) {
    hm_enum_tag_fn fn = (hm_enum_tag_fn)hm_value_witnesses(metadata)[HM_VWT_GET_ENUM_TAG];
    return fn(value, metadata);
}

void hm_enum_project(void *value, const void *metadata) {
    hm_enum_project_fn fn = (hm_enum_project_fn)hm_value_witnesses(metadata)[HM_VWT_PROJECT_ENUM_DATA];
    fn(value, metadata);
}
