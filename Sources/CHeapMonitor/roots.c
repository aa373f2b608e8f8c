// Where a heap graph's roots live: the writable segments of the loaded
// images (globals, statics) and the threads' stacks. Both are read in the
// host before an analysis forks — the loader's lock and /proc are the
// host's to take — and scanned in the child, where the memory is frozen.

#define _GNU_SOURCE
#include "CHeapMonitor.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
    hm_range *out;
    size_t capacity, count;
} hm_segment_list;

static int hm_add_segments(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    hm_segment_list *list = context;
    // The vDSO holds no Swift globals.
    if (info->dlpi_name && strstr(info->dlpi_name, "linux-vdso")) return 0;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD || !(header->p_flags & PF_W) || header->p_memsz == 0) continue;
        uintptr_t start = info->dlpi_addr + header->p_vaddr;
        uintptr_t end = start + header->p_memsz;
        // Whole words only: a global is word aligned.
        start = (start + 7) & ~(uintptr_t)7;
        end &= ~(uintptr_t)7;
        if (end <= start) continue;
        if (list->count < list->capacity) list->out[list->count] = (hm_range){start, end};
        list->count++;
    }
    return 0;
}

size_t hm_writable_segments(hm_range *out, size_t capacity) {
    hm_segment_list list = {out, capacity, 0};
    dl_iterate_phdr(hm_add_segments, &list);
    return list.count;
}

// Reads a small /proc file into `buffer` (NUL-terminated); its length, or -1.
static ssize_t hm_read_small(const char *path, char *buffer, size_t capacity) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t length = read(fd, buffer, capacity - 1);
    close(fd);
    if (length < 0) return -1;
    buffer[length] = 0;
    return length;
}

// The stack pointer in a /proc/self/task/N/syscall line: the next to last
// field of "nr args… sp pc" or "-1 sp pc"; 0 for "running".
static uintptr_t hm_parse_stack_pointer(char *line) {
    char *fields[10];
    int count = 0;
    for (char *token = strtok(line, " \n"); token && count < 10; token = strtok(NULL, " \n"))
        fields[count++] = token;
    if (count < 3) return 0;
    return (uintptr_t)strtoull(fields[count - 2], NULL, 16);
}

size_t hm_thread_stacks(hm_thread_stack *out, size_t capacity) {
    hm_memory_map *map = hm_memory_map_read_mappings();
    if (!map) return 0;
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) {
        hm_memory_map_free(map);
        return 0;
    }
    pid_t self = (pid_t)syscall(SYS_gettid);
    size_t count = 0;
    char path[64], text[256];
    for (struct dirent *entry = readdir(tasks); entry; entry = readdir(tasks)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        pid_t tid = (pid_t)atoi(entry->d_name);
        uintptr_t sp;
        if (tid == self) {
            sp = (uintptr_t)__builtin_frame_address(0);
        } else {
            snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
            if (hm_read_small(path, text, sizeof(text)) <= 0) continue;
            sp = hm_parse_stack_pointer(text);
        }
        const hm_region *region = sp ? hm_memory_map_find(map, sp) : NULL;
        if (!region) continue;
        // The x86-64 red zone, and frames pushed between reading the
        // pointer and the fork, lie below it.
        uintptr_t start = sp - 512 < region->start ? region->start : sp - 512;
        if (count < capacity) {
            hm_thread_stack *stack = &out[count];
            stack->start = start & ~(uintptr_t)7;
            stack->end = region->end & ~(uintptr_t)7;
            stack->tid = tid;
            stack->name[0] = 0;
            snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
            ssize_t length = hm_read_small(path, text, sizeof(text));
            if (length > 0) {
                if (text[length - 1] == '\n') text[length - 1] = 0;
                snprintf(stack->name, sizeof(stack->name), "%s", text);
            }
        }
        count++;
    }
    closedir(tasks);
    hm_memory_map_free(map);
    return count;
}
