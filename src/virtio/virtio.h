/*
 * Virtio device model, independent of the transport. A device (blk,
 * console, rng, later gpu) embeds struct virtio_device and fills a
 * struct virtio_device_ops; the transport (virtio-mmio, mmio.c) owns the
 * register file and the status/feature state machine and calls the ops.
 *
 * Locking: every virtio_device has one mutex, dev->lock. The transport
 * holds it for every register access, so ops callbacks run with it held
 * (except destroy). A device thread (console input) takes it before it
 * touches a queue. Devices never call back into the transport without it.
 *
 * Spec: Virtual I/O Device (VIRTIO) Version 1.2, modern interface only.
 */
#ifndef PV_VIRTIO_VIRTIO_H
#define PV_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtqueue.h"

struct guest_mem;

/* Device IDs (spec 5). */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4
#define VIRTIO_ID_GPU     16

/* Reserved feature bits (spec 6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* Device status bits (spec 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE  0x01
#define VIRTIO_STATUS_DRIVER       0x02
#define VIRTIO_STATUS_DRIVER_OK    0x04
#define VIRTIO_STATUS_FEATURES_OK  0x08
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

/* InterruptStatus bits. */
#define VIRTIO_INT_USED_BUFFER   0x1
#define VIRTIO_INT_CONFIG_CHANGE 0x2

#define VIRTIO_MAX_QUEUES 8

struct virtio_device;

struct virtio_device_ops {
	const char *name;                /* log prefix, e.g. "virtio-blk" */
	uint32_t device_id;
	uint64_t features;               /* device-specific bits; the transport
					  * adds VERSION_1 and the ring features */
	unsigned num_queues;             /* <= VIRTIO_MAX_QUEUES */
	uint16_t queue_max;              /* power of two, <= VIRTQ_MAX_SIZE */
	uint32_t config_size;            /* bytes of device config space */

	/* off/len already checked against config_size. Little-endian. */
	void (*config_read)(struct virtio_device *dev, uint32_t off, void *data, unsigned len);
	void (*config_write)(struct virtio_device *dev, uint32_t off, const void *data, unsigned len);
	/* The driver set DRIVER_OK; ready queues are started. Nonzero return
	 * puts the device in NEEDS_RESET. */
	int (*activate)(struct virtio_device *dev);
	/* The driver notified queue q (started, device active). */
	void (*queue_notify)(struct virtio_device *dev, unsigned q);
	/* The driver wrote 0 to Status; forget in-flight guest buffers. */
	void (*reset)(struct virtio_device *dev);
	/* Stop threads and free; called without the lock. */
	void (*destroy)(struct virtio_device *dev);
	/* Shared memory region id (virtio-gpu host visible memory). Optional;
	 * false = no such region. */
	bool (*shm_region)(struct virtio_device *dev, uint8_t id, uint64_t *base, uint64_t *len);
};

/* What a device may ask of its transport. */
struct virtio_transport_ops {
	void (*interrupt)(void *transport, uint32_t int_bits);
	void (*set_needs_reset)(void *transport);
};

struct virtio_device {
	const struct virtio_device_ops *ops;
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	struct virtqueue vqs[VIRTIO_MAX_QUEUES];
	uint64_t features_acked;         /* valid once FEATURES_OK */
	bool active;                     /* DRIVER_OK and not NEEDS_RESET */
	unsigned guest_errors;           /* limits log lines a guest can cause */
	const struct virtio_transport_ops *tops;
	void *transport;
};

/* Public constructors used by the VMM. NULL (after pv_err) on failure. */
struct virtio_device *virtio_blk_create(const char *path, bool readonly);
struct virtio_device *virtio_console_create(int in_fd, int out_fd);
struct virtio_device *virtio_rng_create(void);

/* For a device never attached to a transport; virtio_mmio_destroy() calls it
 * for attached ones. */
void virtio_device_destroy(struct virtio_device *dev);

/* ---- helpers for device implementations ---- */

void virtio_dev_init(struct virtio_device *dev, const struct virtio_device_ops *ops);
void virtio_dev_fini(struct virtio_device *dev);

static inline bool virtio_dev_has_feature(const struct virtio_device *dev, unsigned bit)
{
	return (dev->features_acked >> bit) & 1;
}

/* Lock held. Raises the used-buffer interrupt for queue q if the driver
 * wants one (EVENT_IDX / NO_INTERRUPT honoured). */
void virtio_dev_signal_used(struct virtio_device *dev, unsigned q);

/* Lock held. The queue's last virtq_pop() failed: log vq->error once and
 * put the device in NEEDS_RESET. */
void virtio_dev_queue_broken(struct virtio_device *dev, unsigned q);

/* Lock held. Log a guest mistake that is handled without a reset; only the
 * first few per device are logged so a guest cannot flood the host log. */
void virtio_dev_guest_error(struct virtio_device *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Lock held. Stop the device and tell the driver (NEEDS_RESET + config
 * interrupt). */
void virtio_dev_needs_reset(struct virtio_device *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copy [off, off+len) of a little-endian config image (bounds checked by the
 * transport already; bytes beyond size read as zero). */
void virtio_config_copy(const void *cfg, uint32_t size, uint32_t off, void *data, unsigned len);

#endif
