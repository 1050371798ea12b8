#include "virtio/mmio.h"

#include <stdlib.h>
#include <string.h>

#include "os/log.h"
#include "os/util.h"

struct virtio_mmio {
	struct virtio_device *dev;
	const struct guest_mem *mem;
	struct irq_line irq;

	/* Register state; guarded by dev->lock. */
	uint32_t status;
	uint32_t device_features_sel, driver_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;             /* stored raw, checked on every use */
	uint32_t interrupt_status;
	uint32_t config_generation;
	uint32_t shm_sel;
};

static uint64_t offered_features(const struct virtio_mmio *m)
{
	return m->dev->ops->features | (1ull << VIRTIO_F_VERSION_1) |
	       (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_F_INDIRECT_DESC);
}

static struct virtqueue *selected_queue(struct virtio_mmio *m)
{
	if (m->queue_sel >= m->dev->ops->num_queues)
		return NULL;
	return &m->dev->vqs[m->queue_sel];
}

/* Lock held. */
static void raise_interrupt(struct virtio_mmio *m, uint32_t bits)
{
	m->interrupt_status |= bits;
	/* Edge-triggered SPI: one pulse per event (see mmio.h). */
	irq_line_set(&m->irq, true);
	irq_line_set(&m->irq, false);
}

static void transport_interrupt(void *t, uint32_t bits)
{
	raise_interrupt(t, bits);
}

static void transport_set_needs_reset(void *t)
{
	struct virtio_mmio *m = t;

	m->dev->active = false;
	if (m->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	m->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* Spec 2.1.2: tell a live driver through a config change interrupt. */
	if (m->status & VIRTIO_STATUS_DRIVER_OK)
		raise_interrupt(m, VIRTIO_INT_CONFIG_CHANGE);
}

static const struct virtio_transport_ops mmio_transport_ops = {
	.interrupt = transport_interrupt,
	.set_needs_reset = transport_set_needs_reset,
};

static void device_reset(struct virtio_mmio *m)
{
	struct virtio_device *dev = m->dev;

	dev->active = false;
	if (dev->ops->reset)
		dev->ops->reset(dev);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_reset(&dev->vqs[i]);
	dev->features_acked = 0;
	m->status = 0;
	m->device_features_sel = m->driver_features_sel = 0;
	m->driver_features = 0;
	m->queue_sel = 0;
	m->interrupt_status = 0;
	m->shm_sel = 0;
}

static void driver_ok(struct virtio_mmio *m)
{
	struct virtio_device *dev = m->dev;

	m->status |= VIRTIO_STATUS_DRIVER_OK;
	dev->active = true;
	if (dev->ops->activate && dev->ops->activate(dev) != 0)
		virtio_dev_needs_reset(dev, "activation failed; device needs reset");
}

static void write_status(struct virtio_mmio *m, uint32_t val)
{
	struct virtio_device *dev = m->dev;

	if (val == 0) {
		device_reset(m);
		return;
	}
	val &= 0xff;
	/* The driver only ever adds bits (spec 2.1.1); NEEDS_RESET is ours. */
	uint32_t want = val & ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET;
	uint32_t have = m->status & ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET;
	if ((want & have) != have) {
		virtio_dev_guest_error(dev, "driver cleared status bits (0x%x -> 0x%x); ignored",
				       m->status, val);
		return;
	}
	uint32_t added = want & ~have;

	if (added & VIRTIO_STATUS_FAILED)
		m->status |= VIRTIO_STATUS_FAILED;
	if (added & VIRTIO_STATUS_ACKNOWLEDGE)
		m->status |= VIRTIO_STATUS_ACKNOWLEDGE;
	if (added & VIRTIO_STATUS_DRIVER)
		m->status |= VIRTIO_STATUS_DRIVER;
	if (added & VIRTIO_STATUS_FEATURES_OK) {
		uint64_t extra = m->driver_features & ~offered_features(m);
		if (!(m->status & VIRTIO_STATUS_DRIVER)) {
			virtio_dev_guest_error(dev, "FEATURES_OK before DRIVER; refused");
		} else if (extra) {
			virtio_dev_guest_error(dev, "driver accepted unoffered features 0x%llx; "
					       "FEATURES_OK refused", (unsigned long long)extra);
		} else if (!((m->driver_features >> VIRTIO_F_VERSION_1) & 1)) {
			virtio_dev_guest_error(dev, "legacy driver (no VIRTIO_F_VERSION_1); "
					       "FEATURES_OK refused");
		} else {
			dev->features_acked = m->driver_features;
			m->status |= VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if (added & VIRTIO_STATUS_DRIVER_OK) {
		if (!(m->status & VIRTIO_STATUS_FEATURES_OK))
			virtio_dev_guest_error(dev, "DRIVER_OK without FEATURES_OK; refused");
		else if (m->status & VIRTIO_STATUS_NEEDS_RESET)
			virtio_dev_guest_error(dev, "DRIVER_OK while the device needs reset; refused");
		else
			driver_ok(m);
	}
}

static void write_queue_ready(struct virtio_mmio *m, struct virtqueue *vq, uint32_t val)
{
	struct virtio_device *dev = m->dev;

	if (val == 0) {
		/* Disabling a queue: forget it, keep its configuration. */
		vq->ready = false;
		vq->started = false;
		return;
	}
	if (vq->ready)
		return;
	if (!(m->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_dev_guest_error(dev, "queue %u enabled before FEATURES_OK; ignored",
				       m->queue_sel);
		return;
	}
	if (vq->num > dev->ops->queue_max) {
		virtio_dev_needs_reset(dev, "queue %u: size %u exceeds maximum %u; device needs reset",
				       m->queue_sel, vq->num, dev->ops->queue_max);
		return;
	}
	if (virtq_start(vq, m->mem, dev->features_acked) != 0) {
		virtio_dev_needs_reset(dev, "queue %u: %s; device needs reset", m->queue_sel, vq->error);
		return;
	}
	vq->ready = true;
}

/* Queue address/size registers may only change while the queue is off. */
static bool queue_writable(struct virtio_mmio *m, struct virtqueue *vq)
{
	if (!vq) {
		virtio_dev_guest_error(m->dev, "write to nonexistent queue %u ignored", m->queue_sel);
		return false;
	}
	if (vq->ready) {
		virtio_dev_guest_error(m->dev, "queue %u reconfigured while ready; ignored",
				       m->queue_sel);
		return false;
	}
	return true;
}

static void set_lo(uint64_t *v, uint32_t lo)
{
	*v = (*v & 0xffffffff00000000ull) | lo;
}

static void set_hi(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffull) | ((uint64_t)hi << 32);
}

static void notify(struct virtio_mmio *m, uint32_t q)
{
	struct virtio_device *dev = m->dev;

	if (q >= dev->ops->num_queues) {
		virtio_dev_guest_error(dev, "notify for nonexistent queue %u ignored", q);
		return;
	}
	if (!dev->active || !dev->vqs[q].ready) {
		virtio_dev_guest_error(dev, "notify for queue %u that is not live (status 0x%x, "
				       "ready %d) ignored", q, m->status, dev->vqs[q].ready);
		return;
	}
	dev->ops->queue_notify(dev, q);
}

static uint32_t read_shm(struct virtio_mmio *m, uint64_t off)
{
	uint64_t base = ~0ull, len = ~0ull;   /* all ones: no such region */
	struct virtio_device *dev = m->dev;

	if (m->shm_sel > 0xff || !dev->ops->shm_region ||
	    !dev->ops->shm_region(dev, (uint8_t)m->shm_sel, &base, &len)) {
		base = ~0ull;
		len = ~0ull;
	}
	switch (off) {
	case VIRTIO_MMIO_SHM_LEN_LOW:   return (uint32_t)len;
	case VIRTIO_MMIO_SHM_LEN_HIGH:  return (uint32_t)(len >> 32);
	case VIRTIO_MMIO_SHM_BASE_LOW:  return (uint32_t)base;
	default:                        return (uint32_t)(base >> 32);
	}
}

static uint32_t read_reg(struct virtio_mmio *m, uint64_t off)
{
	struct virtio_device *dev = m->dev;
	struct virtqueue *vq = selected_queue(m);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:   return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:       return 2;
	case VIRTIO_MMIO_DEVICE_ID:     return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:     return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (m->device_features_sel > 1)
			return 0;
		return (uint32_t)(offered_features(m) >> (32 * m->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		/* 0 tells the driver the queue does not exist. */
		return vq ? dev->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:   return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return m->interrupt_status;
	case VIRTIO_MMIO_STATUS:        return m->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return read_shm(m, off);
	case VIRTIO_MMIO_CONFIG_GENERATION: return m->config_generation;
	default:
		virtio_dev_guest_error(dev, "read of write-only or unknown register 0x%llx",
				       (unsigned long long)off);
		return 0;
	}
}

static void write_reg(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	struct virtio_device *dev = m->dev;
	struct virtqueue *vq = selected_queue(m);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: m->device_features_sel = val; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: m->driver_features_sel = val; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(m->status & VIRTIO_STATUS_DRIVER) ||
		    (m->status & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_dev_guest_error(dev, "DriverFeatures written in status 0x%x; ignored",
					       m->status);
			break;
		}
		if (m->driver_features_sel == 0)
			set_lo(&m->driver_features, val);
		else if (m->driver_features_sel == 1)
			set_hi(&m->driver_features, val);
		else if (val)
			virtio_dev_guest_error(dev, "feature word %u set to 0x%x; ignored",
					       m->driver_features_sel, val);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:     m->queue_sel = val; break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (queue_writable(m, vq))
			vq->num = val;   /* checked at QueueReady */
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!vq)
			virtio_dev_guest_error(dev, "QueueReady for nonexistent queue %u ignored",
					       m->queue_sel);
		else
			write_queue_ready(m, vq, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:  notify(m, val); break;
	case VIRTIO_MMIO_INTERRUPT_ACK: m->interrupt_status &= ~val; break;
	case VIRTIO_MMIO_STATUS:        write_status(m, val); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		if (queue_writable(m, vq)) set_lo(&vq->desc_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (queue_writable(m, vq)) set_hi(&vq->desc_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		if (queue_writable(m, vq)) set_lo(&vq->avail_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (queue_writable(m, vq)) set_hi(&vq->avail_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		if (queue_writable(m, vq)) set_lo(&vq->used_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (queue_writable(m, vq)) set_hi(&vq->used_gpa, val);
		break;
	case VIRTIO_MMIO_SHM_SEL:       m->shm_sel = val; break;
	default:
		virtio_dev_guest_error(dev, "write 0x%x to read-only or unknown register 0x%llx "
				       "ignored", val, (unsigned long long)off);
		break;
	}
}

static void mmio_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct virtio_mmio *m = opaque;
	struct virtio_device *dev = m->dev;

	memset(data, 0, len);
	pthread_mutex_lock(&dev->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t coff = off - VIRTIO_MMIO_CONFIG;
		if (len <= 8 && pv_range_ok(coff, len, dev->ops->config_size) &&
		    dev->ops->config_read)
			dev->ops->config_read(dev, (uint32_t)coff, data, len);
		else
			virtio_dev_guest_error(dev, "config read %u@0x%llx out of range", len,
					       (unsigned long long)coff);
	} else if (len != 4 || (off & 3)) {
		virtio_dev_guest_error(dev, "register read %u@0x%llx is not an aligned 32-bit "
				       "access", len, (unsigned long long)off);
	} else {
		uint32_t v = read_reg(m, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&dev->lock);
}

static void mmio_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct virtio_mmio *m = opaque;
	struct virtio_device *dev = m->dev;

	pthread_mutex_lock(&dev->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t coff = off - VIRTIO_MMIO_CONFIG;
		if (len <= 8 && pv_range_ok(coff, len, dev->ops->config_size)) {
			if (dev->ops->config_write)
				dev->ops->config_write(dev, (uint32_t)coff, data, len);
		} else {
			virtio_dev_guest_error(dev, "config write %u@0x%llx out of range", len,
					       (unsigned long long)coff);
		}
	} else if (len != 4 || (off & 3)) {
		virtio_dev_guest_error(dev, "register write %u@0x%llx is not an aligned 32-bit "
				       "access", len, (unsigned long long)off);
	} else {
		uint32_t v;
		memcpy(&v, data, 4);
		write_reg(m, off, v);
	}
	pthread_mutex_unlock(&dev->lock);
}

const struct mmio_ops virtio_mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

struct virtio_mmio *virtio_mmio_create(struct virtio_device *dev, const struct guest_mem *mem,
				       struct irq_line irq)
{
	if (!dev || !mem) {
		pv_err("virtio-mmio: no device or guest memory");
		return NULL;
	}
	if (dev->ops->num_queues > VIRTIO_MAX_QUEUES || dev->ops->queue_max > VIRTQ_MAX_SIZE) {
		pv_err("%s: %u queues of %u exceed the transport's limits", dev->ops->name,
		       dev->ops->num_queues, dev->ops->queue_max);
		return NULL;
	}
	struct virtio_mmio *m = calloc(1, sizeof(*m));
	if (!m) {
		pv_err("virtio-mmio: out of memory");
		return NULL;
	}
	m->dev = dev;
	m->mem = mem;
	m->irq = irq;
	pthread_mutex_lock(&dev->lock);
	dev->mem = mem;
	dev->tops = &mmio_transport_ops;
	dev->transport = m;
	pthread_mutex_unlock(&dev->lock);
	return m;
}

void virtio_mmio_destroy(struct virtio_mmio *m)
{
	if (!m)
		return;
	virtio_device_destroy(m->dev);
	free(m);
}
