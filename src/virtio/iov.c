#include "virtio/iov.h"

#include <stdint.h>
#include <string.h>

static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len,
		       int to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - off;
		if (chunk > len - done)
			chunk = len - done;
		uint8_t *p = (uint8_t *)iov[i].iov_base + off;
		if (to_iov)
			memcpy(p, (const uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done, p, chunk);
		done += chunk;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, 0);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	return iov_copy(iov, n, off, (void *)buf, len, 1);
}

int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
	      struct iovec *out, unsigned max)
{
	unsigned cnt = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - off;
		if (chunk > len)
			chunk = len;
		if (cnt == max)
			return -1;
		out[cnt].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[cnt].iov_len = chunk;
		cnt++;
		len -= chunk;
		off = 0;
	}
	return len ? -1 : (int)cnt;
}
