/* Byte-offset views of a scatter list (the guest's buffers in one chain). */
#ifndef PV_VIRTIO_IOV_H
#define PV_VIRTIO_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Copy up to len bytes from/to byte offset off of the list; returns bytes. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);

/* Describe [off, off+len) of the list in out[] (at most max entries);
 * returns the entry count, or -1 when the range does not fit. */
int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
	      struct iovec *out, unsigned max);

#endif
