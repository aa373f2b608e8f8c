#define _GNU_SOURCE
#include "CHeapMonitor.h"
#include "lines_internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// Symbolication for instantiation traces and heap-graph roots, done only
// when a report needs it. dladdr sees exported symbols only, and SwiftPM
// executables export none, so each image's static symbol table (.symtab, else
// .dynsym) is read from its file: functions for code addresses, data objects
// for the globals a root lives in.

extern char *swift_demangle(const char *mangled, size_t length, char *buffer, size_t *size, uint32_t flags);

typedef struct {
    uintptr_t start;
    uintptr_t size;
    const char *name;
} hm_symbol;

typedef struct {
    hm_symbol *symbols;
    size_t count;
} hm_symbol_table;

typedef struct hm_image {
    uintptr_t bias;
    char *path;
    hm_symbol_table functions, objects;
    const void *file;  // the mapped file the symbol names point into
    size_t file_length;
    hm_line_table *lines;
    int lines_read;
    struct hm_image *next;
} hm_image;

static hm_image *hm_images;
static pthread_mutex_t hm_images_lock = PTHREAD_MUTEX_INITIALIZER;

static int hm_by_start(const void *a, const void *b) {
    uintptr_t x = ((const hm_symbol *)a)->start, y = ((const hm_symbol *)b)->start;
    return x < y ? -1 : x > y;
}

// Reads the function and data symbols of the ELF file at `path`; the mapping
// stays for the names' sake.
static void hm_load_symbols(hm_image *image) {
    int fd = open(image->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat info;
    void *map = MAP_FAILED;
    if (fstat(fd, &info) == 0 && info.st_size > (off_t)sizeof(ElfW(Ehdr)))
        map = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return;
    size_t length = (size_t)info.st_size;
    const ElfW(Ehdr) *header = map;
    if (memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 || header->e_shoff == 0 ||
        header->e_shoff + (size_t)header->e_shnum * sizeof(ElfW(Shdr)) > length) {
        munmap(map, length);
        return;
    }
    const ElfW(Shdr) *sections = (const ElfW(Shdr) *)((const char *)map + header->e_shoff);
    const ElfW(Shdr) *table = NULL;
    for (int pass = 0; pass < 2 && !table; pass++)
        for (int i = 0; i < header->e_shnum; i++)
            if (sections[i].sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM)) { table = &sections[i]; break; }
    if (!table || table->sh_link >= header->e_shnum || table->sh_offset + table->sh_size > length) {
        munmap(map, length);
        return;
    }
    const ElfW(Shdr) *strings = &sections[table->sh_link];
    if (strings->sh_offset + strings->sh_size > length) { munmap(map, length); return; }
    const ElfW(Sym) *symbols = (const ElfW(Sym) *)((const char *)map + table->sh_offset);
    size_t total = table->sh_size / sizeof(ElfW(Sym));
    image->functions.symbols = calloc(total ? total : 1, sizeof(hm_symbol));
    image->objects.symbols = calloc(total ? total : 1, sizeof(hm_symbol));
    if (!image->functions.symbols || !image->objects.symbols) {
        free(image->functions.symbols);
        free(image->objects.symbols);
        image->functions.symbols = image->objects.symbols = NULL;
        munmap(map, length);
        return;
    }
    for (size_t i = 0; i < total; i++) {
        int type = ELF64_ST_TYPE(symbols[i].st_info);
        if ((type != STT_FUNC && type != STT_OBJECT) || symbols[i].st_value == 0) continue;
        if (symbols[i].st_name >= strings->sh_size) continue;
        hm_symbol_table *into = type == STT_FUNC ? &image->functions : &image->objects;
        into->symbols[into->count++] = (hm_symbol){
            symbols[i].st_value, symbols[i].st_size, (const char *)map + strings->sh_offset + symbols[i].st_name};
    }
    qsort(image->functions.symbols, image->functions.count, sizeof(hm_symbol), hm_by_start);
    qsort(image->objects.symbols, image->objects.count, sizeof(hm_symbol), hm_by_start);
    image->file = map;
    image->file_length = length;
}

static hm_image *hm_image_for(uintptr_t address) {
    Dl_info info;
    struct link_map *map = NULL;
    if (!dladdr1((void *)address, &info, (void **)&map, RTLD_DL_LINKMAP) || !map) return NULL;
    for (hm_image *image = hm_images; image; image = image->next)
        if (image->bias == map->l_addr) return image;
    hm_image *image = calloc(1, sizeof(hm_image));
    if (!image) return NULL;
    image->bias = map->l_addr;
    const char *path = map->l_name && map->l_name[0] ? map->l_name : NULL;
    char self[4096];
    if (!path) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) { self[n] = 0; path = self; }
    }
    image->path = strdup(path ? path : "?");
    if (path) hm_load_symbols(image);
    image->next = hm_images;
    hm_images = image;
    return image;
}

// The symbol of `table` containing `relative`, or NULL; `*offset` into it.
static const char *hm_symbol_containing(const hm_symbol_table *table, uintptr_t relative,
                                        uintptr_t *offset) {
    size_t low = 0, high = table->count;
    while (low < high) {  // the last symbol starting at or before `relative`
        size_t mid = (low + high) / 2;
        if (table->symbols[mid].start <= relative) low = mid + 1; else high = mid;
    }
    if (low == 0) return NULL;
    const hm_symbol *symbol = &table->symbols[low - 1];
    if (symbol->size != 0 && relative >= symbol->start + symbol->size) return NULL;
    *offset = relative - symbol->start;
    return symbol->name;
}

// The C++ runtime's demangler: the Swift runtime's own C++ frames (the job
// executor, the allocator) are Itanium-mangled. Weak, so that a process
// without libstdc++ still links; it then gets the mangled names.
extern char *__cxa_demangle(const char *mangled, char *buffer, size_t *length, int *status)
    __attribute__((weak));

// Demangles `mangled` (Swift or C++; or copies it) into `symbol`.
static size_t hm_write_symbol(const char *mangled, char *symbol, size_t symbol_capacity) {
    char *demangled = NULL;
    if (mangled[0] == '_' && mangled[1] == 'Z' && __cxa_demangle) {
        int status = 0;
        demangled = __cxa_demangle(mangled, NULL, NULL, &status);
    }
    if (!demangled) demangled = swift_demangle(mangled, strlen(mangled), NULL, NULL, 0);
    snprintf(symbol, symbol_capacity, "%s", demangled ? demangled : mangled);
    free(demangled);
    return strlen(symbol);
}

static size_t hm_lookup(int data, uintptr_t address, char *symbol, size_t symbol_capacity,
                        uintptr_t *offset, char *image_path, size_t image_capacity) {
    if (symbol_capacity) symbol[0] = 0;
    if (image_capacity) image_path[0] = 0;
    *offset = 0;
    pthread_mutex_lock(&hm_images_lock);
    hm_image *image = hm_image_for(address);
    const char *mangled = NULL;
    if (image) {
        if (image_capacity) snprintf(image_path, image_capacity, "%s", image->path);
        mangled = hm_symbol_containing(data ? &image->objects : &image->functions, address - image->bias, offset);
    }
    pthread_mutex_unlock(&hm_images_lock);
    return mangled ? hm_write_symbol(mangled, symbol, symbol_capacity) : 0;
}

size_t hm_symbolicate(uintptr_t address, char *symbol, size_t symbol_capacity, uintptr_t *offset,
                      char *image_path, size_t image_capacity) {
    return hm_lookup(0, address, symbol, symbol_capacity, offset, image_path, image_capacity);
}

size_t hm_data_symbol(uintptr_t address, char *symbol, size_t symbol_capacity, uintptr_t *offset,
                      char *image_path, size_t image_capacity) {
    return hm_lookup(1, address, symbol, symbol_capacity, offset, image_path, image_capacity);
}

size_t hm_source_line(uintptr_t address, char *path, size_t path_capacity, unsigned *line) {
    if (path_capacity) path[0] = 0;
    *line = 0;
    const char *directory = NULL, *file = NULL;
    int found = 0;
    pthread_mutex_lock(&hm_images_lock);
    hm_image *image = hm_image_for(address);
    if (image && image->file && !image->lines_read) {
        image->lines = hm_line_table_read(image->file, image->file_length);
        image->lines_read = 1;
    }
    if (image) found = hm_line_table_find(image->lines, address - image->bias, &directory, &file, line);
    pthread_mutex_unlock(&hm_images_lock);
    if (!found) return 0;
    snprintf(path, path_capacity, "%s%s%s", directory ? directory : "", directory ? "/" : "", file);
    return strlen(path);
}
