/* virtio-rng (spec 5.4): one request queue, each writable buffer filled from
 * the host's getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "os/log.h"
#include "os/util.h"
#include "virtio/virtio.h"

/* A guest asks for as much as it likes; we hand out at most this much per
 * request so one notify cannot tie up the host (Firecracker's cap). */
#define RNG_MAX_PER_REQUEST (64 * 1024)

struct rng_dev {
	struct virtio_device vdev;
	struct virtq_chain chain;
};

static size_t fill_random(void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = getrandom((char *)buf + done, len - done, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			pv_warn("virtio-rng: getrandom: %s", strerror(errno));
			break;
		}
		done += (size_t)r;
	}
	return done;
}

static void rng_notify(struct virtio_device *dev, unsigned q)
{
	struct rng_dev *r = container_of(dev, struct rng_dev, vdev);
	struct virtqueue *vq = &dev->vqs[q];
	struct virtq_chain *c = &r->chain;
	bool pushed = false;
	int got;

	while ((got = virtq_pop(vq, c)) > 0) {
		size_t budget = RNG_MAX_PER_REQUEST, written = 0;
		for (unsigned i = c->nr_out; i < c->nr_out + c->nr_in && budget; i++) {
			size_t want = PV_MIN(c->iov[i].iov_len, budget);
			size_t n = fill_random(c->iov[i].iov_base, want);
			written += n;
			budget -= n;
			if (n < want)
				break;
		}
		virtq_push(vq, c->head, (uint32_t)written);
		pushed = true;
	}
	if (got < 0)
		virtio_dev_queue_broken(dev, q);
	if (pushed)
		virtio_dev_signal_used(dev, q);
}

static void rng_destroy(struct virtio_device *dev)
{
	struct rng_dev *r = container_of(dev, struct rng_dev, vdev);

	virtio_dev_fini(dev);
	free(r);
}

static const struct virtio_device_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max = VIRTQ_MAX_SIZE,
	.queue_notify = rng_notify,
	.destroy = rng_destroy,
};

struct virtio_device *virtio_rng_create(void)
{
	struct rng_dev *r = calloc(1, sizeof(*r));
	if (!r) {
		pv_err("virtio-rng: out of memory");
		return NULL;
	}
	virtio_dev_init(&r->vdev, &rng_ops);
	return &r->vdev;
}
