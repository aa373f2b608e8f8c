#ifndef CHEAPCONTROL_H
#define CHEAPCONTROL_H

#include <stdint.h>

/// A listening Unix-domain stream socket at `path` (an existing file there is
/// replaced), mode 0600, close-on-exec; a descriptor, or -errno.
int hm_control_listen(const char *path);

/// The next connection on `listener`, close-on-exec; a descriptor, or -errno.
int hm_control_accept(int listener);

/// A close-on-exec pipe. 0, or -errno.
int hm_control_pipe(int ends[2]);

/// The user and process ids of the peer of a connected Unix socket, from the
/// kernel (SO_PEERCRED): the peer cannot forge them. 0, or -errno.
int hm_control_peer(int fd, uint32_t *uid, int32_t *pid);

/// Makes `signo` write one byte, `byte`, to `fd` (non-blocking) and nothing
/// else: all a handler may safely do. Refuses (returns 1) when the program
/// handles or ignores the signal already; 0 when installed, -errno on error.
int hm_control_signal_install(int signo, int fd, uint8_t byte);

/// Restores the default action of the signal installed, if any.
void hm_control_signal_remove(void);

#endif
