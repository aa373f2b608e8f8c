#ifndef HM_HOOK_ENTRIES_H
#define HM_HOOK_ENTRIES_H

// The runtime's allocation entry points the hooks stand in for. One list
// gives each its field, its symbol and its type, so that the runtime's
// functions, the hooks and the linker's wraps are typed alike and checked
// against each other when compiled.

#include <stddef.h>

typedef void *(*hm_alloc_fn)(const void *metadata, size_t size, size_t alignment_mask);
typedef void (*hm_dealloc_fn)(void *object, size_t size, size_t alignment_mask);
typedef void (*hm_dealloc_partial_fn)(void *object, const void *metadata, size_t size, size_t alignment_mask);
typedef void *(*hm_init_stack_fn)(const void *metadata, void *object);

#define HM_ENTRY_POINTS(X)                                                             \
    X(alloc, swift_allocObject, hm_alloc_fn)                                           \
    X(dealloc_class, swift_deallocClassInstance, hm_dealloc_fn)                        \
    X(dealloc_partial, swift_deallocPartialClassInstance, hm_dealloc_partial_fn)       \
    X(dealloc_object, swift_deallocObject, hm_dealloc_fn)                              \
    X(init_stack, swift_initStackObject, hm_init_stack_fn)

typedef struct {
#define HM_ENTRY_FIELD(field, symbol, type) type field;
    HM_ENTRY_POINTS(HM_ENTRY_FIELD)
#undef HM_ENTRY_FIELD
} hm_entry_points;

/// Each entry point's index (`HM_ENTRY_alloc`, …), and their count.
enum {
#define HM_ENTRY_INDEX(field, symbol, type) HM_ENTRY_##field,
    HM_ENTRY_POINTS(HM_ENTRY_INDEX)
#undef HM_ENTRY_INDEX
    HM_ENTRY_POINT_COUNT
};

// The library's own, hidden (as hooks_internal.h's): a hook jumps to the
// runtime through `hm_runtime` itself, not through a GOT entry for it.
#pragma GCC visibility push(hidden)

/// The runtime's functions the hooks call on (resolved by name, or the
/// linker's `__real_` symbols in an executable linked with `--wrap`).
extern hm_entry_points hm_runtime;
/// The hooks.
extern const hm_entry_points hm_hooks;
/// Whether the executable was linked with `--wrap` for the entry points.
extern int hm_wrapped;

/// Resolves the runtime's functions by name; 0, or -1 if one is missing
/// (a static runtime: no such dynamic symbol).
int hm_resolve_runtime(void);

/// The entry point's symbol name and hook address by index, for the GOT.
const char *hm_entry_symbol(int index);
void *hm_entry_hook(int index);

#pragma GCC visibility pop

#endif
