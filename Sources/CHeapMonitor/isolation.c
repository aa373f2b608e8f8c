// The process boundary of isolated analysis: fork, the child's set-up, the
// pipe its results come back on, and reaping it within a deadline.
//
// What the child may do: only the forking thread exists in it, and any lock
// another thread held at the instant of the fork stays held forever. glibc's
// malloc is safe (its fork handlers reset the arena locks); stdio, Dispatch
// and anything that waits for another thread are not. So the child reads the
// frozen heap, allocates with malloc, writes to its pipe with write(2) and
// ends with _exit. A child that blocks anyway is killed at the deadline. It
// holds none of the host's descriptors but its pipe and the standard three.

#define _GNU_SOURCE
#include "include/CHeapMonitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Closes every descriptor but the standard three and `keep`. The child must
// not hold the host's sockets open: a connection the host closes meanwhile
// would stay open for the peer until the child exits.
static void hm_close_descriptors(int keep) {
    if (keep > 3 && syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) != 0) {
        for (int fd = 3; fd < keep; fd++) close(fd);
    }
    if (syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) != 0) {
        struct rlimit limit;
        int last = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536 ? (int)limit.rlim_cur : 65536;
        for (int fd = keep + 1; fd < last; fd++) close(fd);
    }
}

static void hm_child_setup(pid_t parent) {
    // The host's handlers (a server's SIGTERM handler, the Swift runtime's
    // crash reporter, which would spend seconds symbolicating) must not run
    // here: a fault ends the child with its signal, for the parent to report.
    struct sigaction fallback = {.sa_handler = SIG_DFL};
    sigemptyset(&fallback.sa_mask);
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        sigaction(signal, &fallback, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died before the line above took effect.
    if (getppid() != parent) _exit(70);
}

// Set in the child only, before it runs any Swift code. Read by the one
// thread a child has; the parent's copy stays 0.
static int hm_isolated_child;

int hm_is_isolation_child(void) { return hm_isolated_child; }

pid_t hm_isolation_fork(int *read_fd, int *write_fd, uint64_t *fork_ns) {
    int fds[2];
    // Close-on-exec: a program another thread starts must not keep the
    // pipe open (the parent would never see end of file).
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    pid_t parent = getpid();
    uint64_t start = hm_clock_ns();
    pid_t child = fork();
    *fork_ns = hm_clock_ns() - start;
    if (child < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    if (child == 0) {
        hm_isolated_child = 1;
        close(fds[0]);
        hm_close_descriptors(fds[1]);
        hm_child_setup(parent);
        *write_fd = fds[1];
        *read_fd = -1;
        return 0;
    }
    close(fds[1]);
    *read_fd = fds[0];
    *write_fd = -1;
    return child;
}

int hm_write_all(int fd, const void *bytes, size_t length) {
    const uint8_t *cursor = bytes;
    while (length > 0) {
        ssize_t written = write(fd, cursor, length);
        if (written < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        cursor += written;
        length -= (size_t)written;
    }
    return 0;
}

_Noreturn void hm_isolation_exit(int status) { _exit(status); }

// What /proc/PID/stat (world-readable) says of `child`: its state letter
// and its user and system CPU time in clock ticks. 0 if it cannot be read.
static int hm_child_sample(pid_t child, char *state, unsigned long *user, unsigned long *kernel) {
    char path[32], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t got = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (got <= 0) return 0;
    stat[got] = 0;
    // The fields follow the command name, which may itself hold ") ".
    const char *end = strrchr(stat, ')');
    if (!end) return 0;
    // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    return sscanf(end + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", state, user, kernel) == 3;
}

// How a child that will never finish is told from a slow one while its pipe
// is silent. It has one thread and nothing to wait for but a reader of its
// pipe, which is drained; so it is blocked when
// - it sleeps ('S') at every look for 100 ms: a lock another thread held at
//   the fork (pthread mutexes sleep in the kernel), or
// - over half a second it spends 100 ms in the kernel and less than half
//   that in user mode: the Swift runtime's own locks (`swift_once`, with
//   FUTEX_LOCK_PI) retry at once when the owner is in another process (EPERM),
//   so the child spins, 80 % of its time in the kernel. Analysis work runs in
//   user mode; its page faults cost system time beside it.
enum {
    HM_SILENCE_POLL_MS = 10,
    HM_ASLEEP_POLLS = 10,
    HM_SPIN_WINDOW_MS = 500,
    HM_SPIN_SYSTEM_TICKS = 10,
};

int hm_read_until(int fd, pid_t child, uint64_t deadline_ns, uint8_t **bytes, size_t *length) {
    size_t capacity = 1 << 16, used = 0;
    int asleep = 0;
    // The window of silence being watched: its start (0: none) and the
    // child's CPU times then.
    uint64_t window_start = 0;
    unsigned long window_user = 0, window_kernel = 0;
    uint8_t *buffer = malloc(capacity);
    if (!buffer) { errno = ENOMEM; return -1; }
    for (;;) {
        uint64_t now = hm_clock_ns();
        if (now >= deadline_ns) { free(buffer); return 0; }
        uint64_t wait_ms = (deadline_ns - now + 999999) / 1000000;
        struct pollfd watch = {.fd = fd, .events = POLLIN};
        int ready = poll(&watch, 1, wait_ms > HM_SILENCE_POLL_MS ? HM_SILENCE_POLL_MS : (int)wait_ms);
        if (ready < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            free(buffer);
            errno = saved;
            return -1;
        }
        if (ready == 0) {
            unsigned long user = 0, kernel = 0;
            char state = 0;
            if (!hm_child_sample(child, &state, &user, &kernel)) continue;
            asleep = state == 'S' ? asleep + 1 : 0;
            int spinning = 0;
            if (window_start == 0) {
                window_start = hm_clock_ns();
                window_user = user;
                window_kernel = kernel;
            } else if (hm_clock_ns() - window_start >= HM_SPIN_WINDOW_MS * 1000000ull) {
                unsigned long burnt = kernel - window_kernel, worked = user - window_user;
                spinning = burnt >= HM_SPIN_SYSTEM_TICKS && worked * 2 <= burnt;
                window_start = hm_clock_ns();
                window_user = user;
                window_kernel = kernel;
            }
            if (asleep >= HM_ASLEEP_POLLS || spinning) { free(buffer); return 2; }
            continue;
        }
        // Writing its result costs the child system time: a window counts
        // only silence.
        asleep = 0;
        window_start = 0;
        if (used == capacity) {
            uint8_t *grown = realloc(buffer, capacity * 2);
            if (!grown) { free(buffer); errno = ENOMEM; return -1; }
            buffer = grown;
            capacity *= 2;
        }
        ssize_t got = read(fd, buffer + used, capacity - used);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            int saved = errno;
            free(buffer);
            errno = saved;
            return -1;
        }
        if (got == 0) {
            *bytes = buffer;
            *length = used;
            return 1;
        }
        used += (size_t)got;
    }
}

int hm_isolation_wait(pid_t child, uint64_t deadline_ns, int *status) {
    for (;;) {
        pid_t done = waitpid(child, status, WNOHANG);
        if (done == child) return 1;
        if (done < 0 && errno != EINTR) return -1;
        if (hm_clock_ns() >= deadline_ns) {
            kill(child, SIGKILL);
            while (waitpid(child, status, 0) < 0 && errno == EINTR) {}
            return 0;
        }
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
}
