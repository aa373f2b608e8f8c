#include "CHeapMonitor.h"
#include "lines_internal.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// DWARF line tables (.debug_line, versions 2 to 5) read from an image's
// mapped file into one table sorted by address: the source file and line of
// a trace's frames. Every read is bounds-checked: a truncated or hostile
// section ends the unit it is in, never the process. Only what a lookup
// needs is kept (12 bytes a row, repeated lines merged); names point into
// the mapping, which the symbol tables keep for the process's lifetime.

typedef struct {
    uint32_t address;  // relative to the image's load bias
    uint32_t line;     // 0: no line here (end of a sequence, or line 0)
    uint32_t file;     // index into `files`
} hm_line_row;

typedef struct {
    const char *directory;  // NULL when the name is absolute or has none
    const char *name;
} hm_source_file;

struct hm_line_table {
    hm_line_row *rows;
    size_t count, capacity;
    hm_source_file *files;
    size_t file_count, file_capacity;
};

typedef struct {
    const uint8_t *at, *end;
    int bad;  // a read ran past `end`: the rest of the unit is skipped
} hm_cursor;

typedef struct {
    const uint8_t *start;
    size_t size;
} hm_section;

static uint64_t hm_fixed(hm_cursor *c, size_t bytes) {
    if ((size_t)(c->end - c->at) < bytes || bytes > 8) {
        c->bad = 1;
        c->at = c->end;
        return 0;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++) value |= (uint64_t)c->at[i] << (8 * i);
    c->at += bytes;
    return value;
}

static void hm_skip(hm_cursor *c, uint64_t bytes) {
    if ((uint64_t)(c->end - c->at) < bytes) {
        c->bad = 1;
        c->at = c->end;
    } else {
        c->at += bytes;
    }
}

static uint64_t hm_uleb(hm_cursor *c) {
    uint64_t value = 0;
    for (unsigned shift = 0; c->at < c->end; shift += 7) {
        uint8_t byte = *c->at++;
        if (shift < 64) value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return value;
    }
    c->bad = 1;
    return 0;
}

static int64_t hm_sleb(hm_cursor *c) {
    int64_t value = 0;
    unsigned shift = 0;
    while (c->at < c->end) {
        uint8_t byte = *c->at++;
        if (shift < 64) value |= (int64_t)((uint64_t)(byte & 0x7f) << shift);
        shift += 7;
        if (!(byte & 0x80)) {
            if (shift < 64 && (byte & 0x40)) value |= -((int64_t)1 << shift);
            return value;
        }
    }
    c->bad = 1;
    return 0;
}

static const char *hm_inline_string(hm_cursor *c) {
    const uint8_t *start = c->at;
    const uint8_t *nul = memchr(start, 0, (size_t)(c->end - c->at));
    if (!nul) {
        c->bad = 1;
        c->at = c->end;
        return NULL;
    }
    c->at = nul + 1;
    return (const char *)start;
}

// A string at `offset` in a string section, or NULL if it does not end there.
static const char *hm_section_string(hm_section section, uint64_t offset) {
    if (!section.start || offset >= section.size) return NULL;
    const char *start = (const char *)section.start + offset;
    return memchr(start, 0, section.size - offset) ? start : NULL;
}

// Room for one more item in a growing array; 0 when memory ran out.
static int hm_reserve_one(void **items, size_t count, size_t *capacity, size_t item_size) {
    if (count < *capacity) return 1;
    size_t grown = *capacity ? *capacity * 2 : 256;
    void *moved = realloc(*items, grown * item_size);
    if (!moved) return 0;
    *items = moved;
    *capacity = grown;
    return 1;
}

static int hm_append_row(hm_line_table *table, uint64_t address, uint32_t line, uint32_t file) {
    if (address > UINT32_MAX) return 1;  // beyond what a row holds: dropped
    if (!hm_reserve_one((void **)&table->rows, table->count, &table->capacity, sizeof(hm_line_row))) return 0;
    table->rows[table->count++] = (hm_line_row){(uint32_t)address, line, file};
    return 1;
}

static int hm_append_file(hm_line_table *table, const char *directory, const char *name) {
    if (!hm_reserve_one((void **)&table->files, table->file_count, &table->file_capacity, sizeof(hm_source_file)))
        return 0;
    if (name && name[0] == '/') directory = NULL;
    table->files[table->file_count++] = (hm_source_file){directory && directory[0] ? directory : NULL, name};
    return 1;
}

// Reads a DWARF 5 attribute of `form` as a string or a number; 0 if the
// form is one a line table header may not use.
static int hm_read_form(hm_cursor *c, uint64_t form, int offset_size, hm_section strings,
                        hm_section line_strings, const char **text, uint64_t *number) {
    *text = NULL;
    *number = 0;
    switch (form) {
    case 0x08: *text = hm_inline_string(c); return 1;                                    // string
    case 0x0e: *text = hm_section_string(strings, hm_fixed(c, offset_size)); return 1;   // strp
    case 0x1f: *text = hm_section_string(line_strings, hm_fixed(c, offset_size)); return 1; // line_strp
    case 0x0b: *number = hm_fixed(c, 1); return 1;  // data1
    case 0x05: *number = hm_fixed(c, 2); return 1;  // data2
    case 0x06: *number = hm_fixed(c, 4); return 1;  // data4
    case 0x07: *number = hm_fixed(c, 8); return 1;  // data8
    case 0x0f: *number = hm_uleb(c); return 1;      // udata
    case 0x1e: hm_skip(c, 16); return 1;            // data16 (an MD5)
    case 0x09: hm_skip(c, hm_uleb(c)); return 1;    // block
    default: return 0;
    }
}

// DWARF 5: a table of entries described by (content type, form) pairs.
// Directories go into `directories`, files into the table. 0 when the
// entries are malformed (or memory ran out): the unit is skipped.
static int hm_read_entries(hm_cursor *c, int offset_size, hm_section strings, hm_section line_strings,
                           const char ***directories, size_t *directory_count, hm_line_table *table,
                           int are_files) {
    uint8_t format_count = (uint8_t)hm_fixed(c, 1);
    uint64_t formats[32][2];
    if (format_count > 32) return 0;
    for (int i = 0; i < format_count; i++) {
        formats[i][0] = hm_uleb(c);
        formats[i][1] = hm_uleb(c);
    }
    uint64_t count = hm_uleb(c);
    if (!are_files) {
        if (count > (uint64_t)(c->end - c->at)) return 0;
        *directories = calloc(count ? count : 1, sizeof(char *));
        if (!*directories) return 0;
        *directory_count = count;
    }
    for (uint64_t entry = 0; entry < count && !c->bad; entry++) {
        const char *path = NULL;
        uint64_t directory = 0;
        for (int i = 0; i < format_count; i++) {
            const char *text;
            uint64_t number;
            if (!hm_read_form(c, formats[i][1], offset_size, strings, line_strings, &text, &number)) return 0;
            if (formats[i][0] == 1) path = text;          // DW_LNCT_path
            if (formats[i][0] == 2) directory = number;   // DW_LNCT_directory_index
        }
        if (!are_files) {
            (*directories)[entry] = path;
        } else if (!hm_append_file(table, directory < *directory_count ? (*directories)[directory] : NULL,
                                   path)) {
            return 0;
        }
    }
    return !c->bad;
}

// One unit's header and program; a malformed one is skipped. Returns 0
// only when memory for rows ran out.
static int hm_read_unit(hm_cursor *c, hm_section strings, hm_section line_strings, hm_line_table *table) {
    int offset_size = 4;
    uint64_t length = hm_fixed(c, 4);
    if (length == 0xffffffff) {
        offset_size = 8;
        length = hm_fixed(c, 8);
    }
    if (c->bad || length > (uint64_t)(c->end - c->at)) {
        c->at = c->end;
        return 1;
    }
    hm_cursor unit = {c->at, c->at + length, 0};
    c->at = unit.end;
    unsigned version = (unsigned)hm_fixed(&unit, 2);
    if (version < 2 || version > 5) return 1;
    if (version >= 5) hm_skip(&unit, 2);  // address size, segment selector size
    uint64_t header_length = hm_fixed(&unit, offset_size);
    if (unit.bad || header_length > (uint64_t)(unit.end - unit.at)) return 1;
    const uint8_t *program = unit.at + header_length;
    uint8_t minimum_instruction = (uint8_t)hm_fixed(&unit, 1);
    if (version >= 4) hm_skip(&unit, 1);  // maximum operations per instruction (VLIW only)
    hm_skip(&unit, 1);  // default is_stmt: every row is kept
    int8_t line_base = (int8_t)hm_fixed(&unit, 1);
    uint8_t line_range = (uint8_t)hm_fixed(&unit, 1);
    uint8_t opcode_base = (uint8_t)hm_fixed(&unit, 1);
    if (unit.bad || line_range == 0 || opcode_base == 0) return 1;
    uint8_t lengths[256] = {0};
    for (int i = 1; i < opcode_base; i++) lengths[i] = (uint8_t)hm_fixed(&unit, 1);

    // Files are numbered from 1 before DWARF 5, from 0 since.
    size_t first_file = table->file_count;
    uint64_t file_base = version >= 5 ? 0 : 1;
    const char **directories = NULL;
    size_t directory_count = 0;
    int ok = 1;
    if (version >= 5) {
        ok = hm_read_entries(&unit, offset_size, strings, line_strings, &directories, &directory_count,
                             table, 0) &&
             hm_read_entries(&unit, offset_size, strings, line_strings, &directories, &directory_count,
                             table, 1);
    } else {
        // Directory 0 is the unit's compilation directory, not listed here.
        const uint8_t *list = unit.at;
        size_t count = 1;
        for (const char *name; (name = hm_inline_string(&unit)) && name[0];) count++;
        directories = calloc(count, sizeof(char *));
        if (!directories) return 0;
        unit.at = list;
        directory_count = 1;
        for (const char *name; (name = hm_inline_string(&unit)) && name[0];) directories[directory_count++] = name;
        for (const char *name; (name = hm_inline_string(&unit)) && name[0];) {
            uint64_t directory = hm_uleb(&unit);
            hm_uleb(&unit);  // modification time
            hm_uleb(&unit);  // length
            if (!hm_append_file(table, directory < directory_count ? directories[directory] : NULL, name)) {
                ok = 0;
                break;
            }
        }
    }
    free(directories);
    if (!ok || unit.bad) return 1;
    size_t file_count = table->file_count - first_file;

    unit.at = program;
    uint64_t address = 0, file = 1, line = 1;
    for (;;) {
        if (unit.at >= unit.end || unit.bad) break;
        uint8_t opcode = (uint8_t)hm_fixed(&unit, 1);
        int emit = 0, end_sequence = 0;
        if (opcode >= opcode_base) {
            uint8_t adjusted = opcode - opcode_base;
            address += (uint64_t)(adjusted / line_range) * minimum_instruction;
            line += (int64_t)line_base + adjusted % line_range;
            emit = 1;
        } else if (opcode == 0) {
            uint64_t size = hm_uleb(&unit);
            if (size == 0 || size > (uint64_t)(unit.end - unit.at)) break;
            const uint8_t *next = unit.at + size;
            uint8_t extended = (uint8_t)hm_fixed(&unit, 1);
            if (extended == 1) emit = end_sequence = 1;
            if (extended == 2) address = hm_fixed(&unit, (size_t)(size - 1));
            unit.at = next;
        } else {
            switch (opcode) {
            case 1: emit = 1; break;                                                  // copy
            case 2: address += hm_uleb(&unit) * minimum_instruction; break;          // advance_pc
            case 3: line += (uint64_t)hm_sleb(&unit); break;                         // advance_line
            case 4: file = hm_uleb(&unit); break;                                    // set_file
            case 8: address += (uint64_t)((255 - opcode_base) / line_range) * minimum_instruction; break;
            case 9: address += hm_fixed(&unit, 2); break;                            // fixed_advance_pc
            default:
                for (int i = 0; i < lengths[opcode]; i++) hm_uleb(&unit);
            }
        }
        if (!emit) continue;
        uint64_t index = file - file_base;
        uint32_t row_file = index < file_count ? (uint32_t)(first_file + index) : UINT32_MAX;
        uint32_t row_line = end_sequence || line > UINT32_MAX || row_file == UINT32_MAX ? 0 : (uint32_t)line;
        if (!hm_append_row(table, address, row_line, row_file)) return 0;
        if (end_sequence) {
            address = 0;
            file = line = 1;
        }
    }
    return 1;
}

// By address; at one address, a row with a line before an end marker.
static int hm_by_address(const void *a, const void *b) {
    const hm_line_row *x = a, *y = b;
    if (x->address != y->address) return x->address < y->address ? -1 : 1;
    return (x->line == 0) - (y->line == 0);
}

// Whether `size` bytes at `offset` lie within `length`, without overflow.
static int hm_within(uint64_t offset, uint64_t size, size_t length) {
    return offset <= length && size <= length - offset;
}

static hm_section hm_find_section(const uint8_t *elf, size_t length, const char *wanted) {
    hm_section none = {NULL, 0};
    const ElfW(Ehdr) *header = (const ElfW(Ehdr) *)elf;
    if (length < sizeof(*header) || memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 || header->e_shoff == 0 ||
        header->e_shoff % 8 != 0 || header->e_shstrndx >= header->e_shnum ||
        !hm_within(header->e_shoff, (uint64_t)header->e_shnum * sizeof(ElfW(Shdr)), length))
        return none;
    const ElfW(Shdr) *sections = (const ElfW(Shdr) *)(elf + header->e_shoff);
    const ElfW(Shdr) *names = &sections[header->e_shstrndx];
    if (!hm_within(names->sh_offset, names->sh_size, length)) return none;
    for (int i = 0; i < header->e_shnum; i++) {
        if (sections[i].sh_name >= names->sh_size || sections[i].sh_type == SHT_NOBITS) continue;
        const char *name = (const char *)elf + names->sh_offset + sections[i].sh_name;
        size_t room = names->sh_size - sections[i].sh_name;
        if (strnlen(name, room) == room || strcmp(name, wanted) != 0) continue;
        // Compressed sections (SHF_COMPRESSED) are not read.
        if (sections[i].sh_flags & SHF_COMPRESSED) return none;
        if (!hm_within(sections[i].sh_offset, sections[i].sh_size, length)) return none;
        return (hm_section){elf + sections[i].sh_offset, sections[i].sh_size};
    }
    return none;
}

hm_line_table *hm_line_table_read(const void *elf, size_t length) {
    hm_section lines = hm_find_section(elf, length, ".debug_line");
    if (!lines.start) return NULL;
    hm_section strings = hm_find_section(elf, length, ".debug_str");
    hm_section line_strings = hm_find_section(elf, length, ".debug_line_str");
    hm_line_table *table = calloc(1, sizeof(hm_line_table));
    if (!table) return NULL;
    hm_cursor cursor = {lines.start, lines.start + lines.size, 0};
    while (cursor.at < cursor.end && !cursor.bad) {
        if (!hm_read_unit(&cursor, strings, line_strings, table)) break;
    }
    qsort(table->rows, table->count, sizeof(hm_line_row), hm_by_address);
    // Keep a row only where the location changes.
    size_t kept = 0;
    for (size_t i = 0; i < table->count; i++) {
        hm_line_row row = table->rows[i];
        if (kept > 0) {
            hm_line_row last = table->rows[kept - 1];
            // The same location goes on; at one address, the first row wins
            // (rows with a line sort before end markers).
            if ((last.line == row.line && last.file == row.file) || last.address == row.address) continue;
        }
        table->rows[kept++] = row;
    }
    table->count = kept;
    hm_line_row *shrunk = realloc(table->rows, (kept ? kept : 1) * sizeof(hm_line_row));
    if (shrunk) table->rows = shrunk;
    return table;
}

int hm_line_table_find(const hm_line_table *table, uintptr_t relative, const char **directory,
                       const char **file, unsigned *line) {
    if (!table || relative > UINT32_MAX) return 0;
    size_t low = 0, high = table->count;
    while (low < high) {  // the last row at or before `relative`
        size_t mid = (low + high) / 2;
        if (table->rows[mid].address <= relative) low = mid + 1; else high = mid;
    }
    if (low == 0) return 0;
    const hm_line_row *row = &table->rows[low - 1];
    if (row->line == 0 || row->file >= table->file_count || !table->files[row->file].name) return 0;
    *directory = table->files[row->file].directory;
    *file = table->files[row->file].name;
    *line = row->line;
    return 1;
}

size_t hm_line_table_row_count(const void *elf, size_t length) {
    hm_line_table *table = hm_line_table_read(elf, length);
    if (!table) return 0;
    size_t count = table->count;
    free(table->rows);
    free(table->files);
    free(table);
    return count;
}
