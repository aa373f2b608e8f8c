#ifndef HM_LINES_INTERNAL_H
#define HM_LINES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/// An image's DWARF line table, sorted by address.
typedef struct hm_line_table hm_line_table;

/// Reads the line table of the ELF file mapped at `elf`; NULL when it has
/// none (stripped, compressed) or memory ran out. Names in it point into
/// the mapping, which must outlive the table.
hm_line_table *hm_line_table_read(const void *elf, size_t length);

/// The source line holding the instruction at `relative` (an address less
/// the image's load bias). Returns 0 when unknown; `directory` may be NULL.
int hm_line_table_find(const hm_line_table *table, uintptr_t relative, const char **directory,
                       const char **file, unsigned *line);

#endif
