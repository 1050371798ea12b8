/*
 * Linux file-descriptor helpers for servers: eventfds (wake-ups that a
 * client can poll), UNIX stream sockets and SCM_RIGHTS fd passing.
 */
#ifndef PV_OS_OS_FD_H
#define PV_OS_OS_FD_H

#include <stddef.h>

/* A non-blocking, close-on-exec eventfd; -errno on failure. */
int os_eventfd_create(void);
/* Makes the eventfd readable (adds 1). */
void os_eventfd_signal(int fd);
/* An eventfd that is readable for as long as it lives, even to a holder
 * that reads it: a semaphore-mode counter at its maximum, which a read
 * lowers by one. For answers that are "ready now" shared between peers.
 * -errno on failure. */
int os_eventfd_create_readable(void);

/* Reads/writes exactly len bytes, retrying on EINTR and short transfers.
 * Return 0, or -1 with errno set; a read that hits EOF first sets errno to
 * EPIPE (ECONNRESET if nothing at all was read, so a clean close between
 * messages can be told apart). Writes never raise SIGPIPE. */
int os_read_full(int fd, void *buf, size_t len);
int os_write_full(int fd, const void *buf, size_t len);

/* Sends one fd with a 1-byte payload (the vtest convention). 0 or -errno. */
int os_send_fd(int sock, int fd);
/* Sends len bytes, then one fd as os_send_fd does, in one system call
 * where the socket takes both at once (sendmmsg: the bytes and the fd
 * travel as two messages, so a reader that reads the bytes without
 * ancillary data cannot drop the fd). 0 or -errno. */
int os_send_then_fd(int sock, const void *buf, size_t len, int fd);
/* Receives one fd sent by os_send_fd; -errno on failure. */
int os_recv_fd(int sock);

/* Binds and listens on a UNIX stream socket at path. A stale socket file
 * (nobody accepting) is replaced; a live one is an error (-EADDRINUSE). */
int os_unix_listen(const char *path);
/* Connects to a UNIX stream socket; fd or -errno. */
int os_unix_connect(const char *path);

#endif
