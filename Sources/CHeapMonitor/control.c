#define _GNU_SOURCE
#include "CHeapControl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int address_of(const char *path, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof address->sun_path) return -ENAMETOOLONG;
    memcpy(address->sun_path, path, length);
    return 0;
}

int hm_control_listen(const char *path) {
    struct sockaddr_un address;
    int status = address_of(path, &address);
    if (status) return status;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    unlink(path);
    // Created 0600 under the umask, so no other user can connect even in
    // the instant before the peer check; the directory is 0700 as well.
    mode_t mask = umask(0177);
    status = bind(fd, (struct sockaddr *)&address, sizeof address);
    umask(mask);
    if (status < 0 || listen(fd, 16) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

int hm_control_accept(int listener) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int hm_control_pipe(int ends[2]) { return pipe2(ends, O_CLOEXEC) < 0 ? -errno : 0; }

int hm_control_peer(int fd, uint32_t *uid, int32_t *pid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) return -errno;
    *uid = credentials.uid;
    *pid = credentials.pid;
    return 0;
}

// Read by the handler, so plain atomics: a handler may run on any thread at
// any instant, and must see either the old descriptor or the new one.
static _Atomic int signal_fd = -1;
static _Atomic int signal_number = 0;
static _Atomic uint8_t signal_byte = 0;

static void on_signal(int signo) {
    (void)signo;
    int saved = errno;
    uint8_t byte = atomic_load(&signal_byte);
    int fd = atomic_load(&signal_fd);
    // A full pipe drops the byte: a snapshot is asked for already.
    if (fd >= 0) (void)!write(fd, &byte, 1);
    errno = saved;
}

int hm_control_signal_install(int signo, int fd, uint8_t byte) {
    struct sigaction current;
    if (sigaction(signo, NULL, &current) < 0) return -errno;
    if (current.sa_handler != SIG_DFL || (current.sa_flags & SA_SIGINFO)) return 1;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -errno;
    atomic_store(&signal_byte, byte);
    atomic_store(&signal_fd, fd);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(signo, &action, NULL) < 0) {
        atomic_store(&signal_fd, -1);
        return -errno;
    }
    atomic_store(&signal_number, signo);
    return 0;
}

void hm_control_signal_remove(void) {
    int signo = atomic_exchange(&signal_number, 0);
    if (signo) signal(signo, SIG_DFL);
    atomic_store(&signal_fd, -1);
}
