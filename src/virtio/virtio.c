#include "virtio/virtio.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "os/log.h"
#include "os/util.h"

/* Enough to diagnose a broken driver, too few to fill a disk. */
#define GUEST_ERROR_LOG_LIMIT 16

void virtio_dev_init(struct virtio_device *dev, const struct virtio_device_ops *ops)
{
	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	pthread_mutex_init(&dev->lock, NULL);
}

void virtio_dev_fini(struct virtio_device *dev)
{
	pthread_mutex_destroy(&dev->lock);
}

void virtio_device_destroy(struct virtio_device *dev)
{
	if (dev)
		dev->ops->destroy(dev);
}

void virtio_dev_signal_used(struct virtio_device *dev, unsigned q)
{
	/* A device that just went NEEDS_RESET has sent its config interrupt;
	 * the driver will reset, so completions need no second one. */
	if (q >= VIRTIO_MAX_QUEUES || !dev->tops || !dev->active)
		return;
	if (virtq_should_signal(&dev->vqs[q]))
		dev->tops->interrupt(dev->transport, VIRTIO_INT_USED_BUFFER);
}

static void vlog_guest(struct virtio_device *dev, enum pv_log_level lvl, const char *fmt,
		       va_list ap)
{
	char msg[256];

	if (dev->guest_errors >= GUEST_ERROR_LOG_LIMIT)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (++dev->guest_errors == GUEST_ERROR_LOG_LIMIT)
		pv_log(lvl, "%s: %s (further guest errors not logged)", dev->ops->name, msg);
	else
		pv_log(lvl, "%s: %s", dev->ops->name, msg);
}

void virtio_dev_guest_error(struct virtio_device *dev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog_guest(dev, PV_LOG_WARN, fmt, ap);
	va_end(ap);
}

void virtio_dev_needs_reset(struct virtio_device *dev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog_guest(dev, PV_LOG_ERROR, fmt, ap);
	va_end(ap);
	dev->active = false;
	if (dev->tops)
		dev->tops->set_needs_reset(dev->transport);
}

void virtio_dev_queue_broken(struct virtio_device *dev, unsigned q)
{
	virtio_dev_needs_reset(dev, "queue %u: %s; device needs reset", q, dev->vqs[q].error);
}

void virtio_config_copy(const void *cfg, uint32_t size, uint32_t off, void *data, unsigned len)
{
	memset(data, 0, len);
	if (off < size)
		memcpy(data, (const uint8_t *)cfg + off, PV_MIN((uint32_t)len, size - off));
}
