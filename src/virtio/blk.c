/*
 * virtio-blk (spec 5.2) over a raw image file or block device.
 *
 * Requests are served synchronously in queue_notify, i.e. on the vCPU that
 * notified, with preadv/pwritev straight between the image and guest RAM.
 * The image is locked with flock() for the device's lifetime: exclusive when
 * writable, shared when read-only, so two VMs never write one disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/log.h"
#include "os/util.h"
#include "virtio/iov.h"
#include "virtio/virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9

#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define SECTOR_SIZE 512
#define BLK_ID_BYTES 20
#define BLK_HDR_BYTES 16
/* Largest single buffer we advertise; Linux splits bigger bios. */
#define BLK_SIZE_MAX (1u << 20)
#define BLK_MAX_REQUEST (1u << 30)

/* struct virtio_blk_config up to and including num_queues. */
#define CFG_CAPACITY  0
#define CFG_SIZE_MAX  8
#define CFG_SEG_MAX   12
#define CFG_BLK_SIZE  20
#define CFG_NUM_QUEUES 34
#define CFG_BYTES     36

struct blk_dev {
	struct virtio_device vdev;
	int fd;
	bool readonly;
	uint64_t sectors;
	char id[BLK_ID_BYTES];
	uint8_t config[CFG_BYTES];
	struct virtq_chain chain;
	struct iovec data[VIRTQ_MAX_CHAIN];
};

static void put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Loops over short transfers; false on error or unexpected end of file. */
static bool rw_all(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		off += (uint64_t)r;
		size_t left = (size_t)r;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return true;
}

static bool sectors_ok(struct blk_dev *b, uint64_t sector, uint64_t bytes)
{
	if (bytes % SECTOR_SIZE) {
		virtio_dev_guest_error(&b->vdev, "request length %llu is not a multiple of %u",
				       (unsigned long long)bytes, SECTOR_SIZE);
		return false;
	}
	if (!pv_range_ok(sector, bytes / SECTOR_SIZE, b->sectors)) {
		virtio_dev_guest_error(&b->vdev, "sectors %llu+%llu beyond capacity %llu",
				       (unsigned long long)sector,
				       (unsigned long long)(bytes / SECTOR_SIZE),
				       (unsigned long long)b->sectors);
		return false;
	}
	return true;
}

static uint8_t do_rw(struct blk_dev *b, const struct iovec *src, unsigned n, size_t off,
		     uint64_t len, uint64_t sector, bool write)
{
	/* Buffers may alias, so a chain can describe far more than guest RAM;
	 * the used length is 32 bits. Linux never comes near this. */
	if (len > BLK_MAX_REQUEST) {
		virtio_dev_guest_error(&b->vdev, "request of %llu bytes exceeds %u",
				       (unsigned long long)len, BLK_MAX_REQUEST);
		return VIRTIO_BLK_S_IOERR;
	}
	if (!sectors_ok(b, sector, len))
		return VIRTIO_BLK_S_IOERR;
	int cnt = iov_slice(src, n, off, (size_t)len, b->data, VIRTQ_MAX_CHAIN);
	if (cnt < 0)
		return VIRTIO_BLK_S_IOERR;
	errno = 0;
	if (!rw_all(b->fd, b->data, cnt, sector * SECTOR_SIZE, write)) {
		pv_warn("virtio-blk: %s of %llu bytes at sector %llu failed: %s",
			write ? "write" : "read", (unsigned long long)len,
			(unsigned long long)sector, errno ? strerror(errno) : "end of file");
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Returns the bytes written into the chain's writable part. */
static uint32_t handle_request(struct blk_dev *b, struct virtq_chain *c)
{
	const struct iovec *out = c->iov, *in = c->iov + c->nr_out;
	uint8_t hdr[BLK_HDR_BYTES], status;
	uint32_t type;
	uint64_t sector, data_in = 0;

	/* Layout is free (spec 5.2.6): header at the start of the readable
	 * bytes, status in the last writable byte. */
	if (c->in_len < 1) {
		virtio_dev_guest_error(&b->vdev, "request without a status byte dropped");
		return 0;
	}
	if (c->out_len < BLK_HDR_BYTES) {
		virtio_dev_guest_error(&b->vdev, "request header %llu bytes, need %u",
				       (unsigned long long)c->out_len, BLK_HDR_BYTES);
		status = VIRTIO_BLK_S_IOERR;
		goto done;
	}
	iov_to_buf(out, c->nr_out, 0, hdr, sizeof(hdr));
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);

	switch (type) {
	case VIRTIO_BLK_T_IN:
		data_in = c->in_len - 1;
		status = do_rw(b, in, c->nr_in, 0, data_in, sector, false);
		if (status != VIRTIO_BLK_S_OK)
			data_in = 0;
		break;
	case VIRTIO_BLK_T_OUT:
		if (b->readonly) {
			virtio_dev_guest_error(&b->vdev, "write to read-only disk refused");
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		status = do_rw(b, out, c->nr_out, BLK_HDR_BYTES, c->out_len - BLK_HDR_BYTES,
			       sector, true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = VIRTIO_BLK_S_OK;
		if (!b->readonly && fdatasync(b->fd) != 0) {
			pv_warn("virtio-blk: fdatasync: %s", strerror(errno));
			status = VIRTIO_BLK_S_IOERR;
		}
		break;
	case VIRTIO_BLK_T_GET_ID:
		data_in = iov_from_buf(in, c->nr_in, 0, b->id,
				       PV_MIN((uint64_t)BLK_ID_BYTES, c->in_len - 1));
		status = VIRTIO_BLK_S_OK;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
done:
	iov_from_buf(in, c->nr_in, c->in_len - 1, &status, 1);
	return (uint32_t)(data_in + 1);
}

static void blk_notify(struct virtio_device *dev, unsigned q)
{
	struct blk_dev *b = container_of(dev, struct blk_dev, vdev);
	struct virtqueue *vq = &dev->vqs[q];
	int got;

	bool pushed = false;

	while ((got = virtq_pop(vq, &b->chain)) > 0) {
		virtq_push(vq, b->chain.head, handle_request(b, &b->chain));
		pushed = true;
	}
	if (got < 0)
		virtio_dev_queue_broken(dev, q);
	if (pushed)
		virtio_dev_signal_used(dev, q);
}

static void blk_config_read(struct virtio_device *dev, uint32_t off, void *data, unsigned len)
{
	struct blk_dev *b = container_of(dev, struct blk_dev, vdev);

	virtio_config_copy(b->config, sizeof(b->config), off, data, len);
}

static void blk_destroy(struct virtio_device *dev)
{
	struct blk_dev *b = container_of(dev, struct blk_dev, vdev);

	close(b->fd);   /* drops the flock */
	virtio_dev_fini(dev);
	free(b);
}

static const struct virtio_device_ops blk_ops_rw = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		    (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH),
	.num_queues = 1,
	.queue_max = VIRTQ_MAX_SIZE,
	.config_size = CFG_BYTES,
	.config_read = blk_config_read,
	.queue_notify = blk_notify,
	.destroy = blk_destroy,
};

static const struct virtio_device_ops blk_ops_ro = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		    (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH) |
		    (1ull << VIRTIO_BLK_F_RO),
	.num_queues = 1,
	.queue_max = VIRTQ_MAX_SIZE,
	.config_size = CFG_BYTES,
	.config_read = blk_config_read,
	.queue_notify = blk_notify,
	.destroy = blk_destroy,
};

static void make_id(struct blk_dev *b, const char *path)
{
	/* GET_ID: up to 20 bytes, NUL-padded; the guest shows it as the disk
	 * serial (/sys/block/vda/serial). The file name's tail is stable and
	 * meaningful to a user. */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n > BLK_ID_BYTES)
		base += n - BLK_ID_BYTES;
	memcpy(b->id, base, PV_MIN(strlen(base), (size_t)BLK_ID_BYTES));
}

struct virtio_device *virtio_blk_create(const char *path, bool readonly)
{
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		pv_err("disk %s: %s", path, strerror(errno));
		return NULL;
	}
	if (flock(fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			pv_err("disk %s is in use by another process", path);
		else
			pv_err("disk %s: cannot lock: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	/* lseek works for regular files and block devices alike. */
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0) {
		pv_err("disk %s: cannot get size: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (size % SECTOR_SIZE)
		pv_warn("disk %s: size %lld is not a multiple of %u; the tail is not visible",
			path, (long long)size, SECTOR_SIZE);

	struct blk_dev *b = calloc(1, sizeof(*b));
	if (!b) {
		pv_err("disk %s: out of memory", path);
		close(fd);
		return NULL;
	}
	virtio_dev_init(&b->vdev, readonly ? &blk_ops_ro : &blk_ops_rw);
	b->fd = fd;
	b->readonly = readonly;
	b->sectors = (uint64_t)size / SECTOR_SIZE;
	make_id(b, path);

	memcpy(b->config + CFG_CAPACITY, &b->sectors, 8);
	put_le32(b->config + CFG_SIZE_MAX, BLK_SIZE_MAX);
	/* Two buffers of every chain carry the header and the status. */
	put_le32(b->config + CFG_SEG_MAX, VIRTQ_MAX_CHAIN - 2);
	put_le32(b->config + CFG_BLK_SIZE, SECTOR_SIZE);
	uint16_t nq = 1;
	memcpy(b->config + CFG_NUM_QUEUES, &nq, 2);
	return &b->vdev;
}
