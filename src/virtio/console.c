/*
 * virtio-console (spec 5.3) with a single port: receiveq (0) carries bytes
 * from in_fd to the guest, transmitq (1) carries guest output to out_fd.
 *
 * Threading: transmit runs on the notifying vCPU under the device lock.
 * Input has its own thread: it waits in poll() on in_fd and on a wake pipe,
 * reads at most one buffer of input, then under the device lock copies it
 * into whatever receive buffers the driver has posted. While input is
 * pending and no receive buffer is free it stops reading in_fd (back
 * pressure), and an rx notify wakes it to try again. The file descriptors
 * belong to the caller and are not closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/log.h"
#include "os/util.h"
#include "virtio/iov.h"
#include "virtio/virtio.h"

#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

#define RX_QUEUE 0
#define TX_QUEUE 1

/* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr. */
#define CFG_EMERG_WR 8
#define CFG_BYTES    12

#define INPUT_CHUNK 4096

struct console_dev {
	struct virtio_device vdev;
	int in_fd, out_fd;
	int wake[2];                  /* pipe: [0] polled by the thread */
	pthread_t thread;
	bool thread_started;

	/* Guarded by vdev.lock. */
	bool stop;
	uint8_t pending[INPUT_CHUNK];
	size_t pending_off, pending_len;
	bool in_eof;
	struct virtq_chain rx_chain, tx_chain;
};

static void write_all(struct console_dev *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(c->out_fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* Output is best effort: a closed terminal must not
			 * stall or kill the guest. */
			virtio_dev_guest_error(&c->vdev, "console output dropped: %s",
					       w < 0 ? strerror(errno) : "short write");
			return;
		}
		p += w;
		len -= (size_t)w;
	}
}

static void wake_thread(struct console_dev *c)
{
	char b = 1;
	ssize_t w = write(c->wake[1], &b, 1);
	(void)w;   /* a full pipe already means "wake up" */
}

/* Lock held. */
static void deliver_input(struct console_dev *c)
{
	struct virtio_device *dev = &c->vdev;
	struct virtqueue *vq = &dev->vqs[RX_QUEUE];
	bool pushed = false;

	if (!dev->active || !vq->ready)
		return;
	while (c->pending_len) {
		int got = virtq_pop(vq, &c->rx_chain);
		if (got < 0) {
			virtio_dev_queue_broken(dev, RX_QUEUE);
			return;
		}
		if (got == 0)
			break;
		struct virtq_chain *ch = &c->rx_chain;
		size_t n = iov_from_buf(ch->iov + ch->nr_out, ch->nr_in, 0,
					c->pending + c->pending_off, c->pending_len);
		virtq_push(vq, ch->head, (uint32_t)n);
		pushed = true;
		c->pending_off += n;
		c->pending_len -= n;
	}
	if (pushed)
		virtio_dev_signal_used(dev, RX_QUEUE);
}

static void *input_thread(void *arg)
{
	struct console_dev *c = arg;
	uint8_t buf[INPUT_CHUNK];

	for (;;) {
		pthread_mutex_lock(&c->vdev.lock);
		bool stop = c->stop;
		bool want_input = c->in_fd >= 0 && !c->in_eof && c->pending_len == 0;
		pthread_mutex_unlock(&c->vdev.lock);
		if (stop)
			break;

		struct pollfd pfd[2] = {
			{ .fd = c->wake[0], .events = POLLIN },
			{ .fd = want_input ? c->in_fd : -1, .events = POLLIN },
		};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pv_err("virtio-console: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents) {
			char drain[64];
			while (read(c->wake[0], drain, sizeof(drain)) > 0)
				;
		}
		ssize_t n = 0;
		bool eof = false;
		if (pfd[1].revents) {
			n = read(c->in_fd, buf, sizeof(buf));
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
				if (n < 0)
					pv_warn("virtio-console: input: %s", strerror(errno));
				eof = true;
			}
		}
		pthread_mutex_lock(&c->vdev.lock);
		if (eof)
			c->in_eof = true;
		if (n > 0) {
			/* pending_len was 0 when we chose to read. */
			memcpy(c->pending, buf, (size_t)n);
			c->pending_off = 0;
			c->pending_len = (size_t)n;
		}
		deliver_input(c);
		pthread_mutex_unlock(&c->vdev.lock);
	}
	return NULL;
}

static void transmit(struct console_dev *c)
{
	struct virtio_device *dev = &c->vdev;
	struct virtqueue *vq = &dev->vqs[TX_QUEUE];
	struct virtq_chain *ch = &c->tx_chain;
	int got;

	bool pushed = false;

	while ((got = virtq_pop(vq, ch)) > 0) {
		for (unsigned i = 0; i < ch->nr_out; i++)
			write_all(c, ch->iov[i].iov_base, ch->iov[i].iov_len);
		virtq_push(vq, ch->head, 0);
		pushed = true;
	}
	if (got < 0)
		virtio_dev_queue_broken(dev, TX_QUEUE);
	if (pushed)
		virtio_dev_signal_used(dev, TX_QUEUE);
}

static void console_notify(struct virtio_device *dev, unsigned q)
{
	struct console_dev *c = container_of(dev, struct console_dev, vdev);

	if (q == TX_QUEUE)
		transmit(c);
	else
		wake_thread(c);   /* new receive buffers: deliver pending input */
}

static int console_activate(struct virtio_device *dev)
{
	wake_thread(container_of(dev, struct console_dev, vdev));
	return 0;
}

static void console_config_read(struct virtio_device *dev, uint32_t off, void *data,
				 unsigned len)
{
	/* cols/rows are 0 (no F_SIZE), one port, emerg_wr is write-only. */
	uint8_t cfg[CFG_BYTES] = { 0 };
	uint32_t ports = 1;
	memcpy(cfg + 4, &ports, 4);
	virtio_config_copy(cfg, sizeof(cfg), off, data, len);
}

static void console_config_write(struct virtio_device *dev, uint32_t off, const void *data,
				 unsigned len)
{
	struct console_dev *c = container_of(dev, struct console_dev, vdev);

	/* Emergency write: one character, usable before the queues are up. */
	if (off == CFG_EMERG_WR && virtio_dev_has_feature(dev, VIRTIO_CONSOLE_F_EMERG_WRITE))
		write_all(c, data, 1);
}

static void console_destroy(struct virtio_device *dev)
{
	struct console_dev *c = container_of(dev, struct console_dev, vdev);

	if (c->thread_started) {
		pthread_mutex_lock(&dev->lock);
		c->stop = true;
		pthread_mutex_unlock(&dev->lock);
		wake_thread(c);
		pthread_join(c->thread, NULL);
	}
	close(c->wake[0]);
	close(c->wake[1]);
	virtio_dev_fini(dev);
	free(c);
}

static const struct virtio_device_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE,
	.num_queues = 2,
	.queue_max = VIRTQ_MAX_SIZE,
	.config_size = CFG_BYTES,
	.config_read = console_config_read,
	.config_write = console_config_write,
	.activate = console_activate,
	.queue_notify = console_notify,
	.destroy = console_destroy,
};

static int make_wake_pipe(int p[2])
{
	if (pipe(p) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (fcntl(p[i], F_SETFL, O_NONBLOCK) != 0 || fcntl(p[i], F_SETFD, FD_CLOEXEC) != 0) {
			close(p[0]);
			close(p[1]);
			return -1;
		}
	}
	return 0;
}

struct virtio_device *virtio_console_create(int in_fd, int out_fd)
{
	struct console_dev *c = calloc(1, sizeof(*c));
	if (!c) {
		pv_err("virtio-console: out of memory");
		return NULL;
	}
	virtio_dev_init(&c->vdev, &console_ops);
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	if (make_wake_pipe(c->wake) != 0) {
		pv_err("virtio-console: pipe: %s", strerror(errno));
		virtio_dev_fini(&c->vdev);
		free(c);
		return NULL;
	}
	int err = pthread_create(&c->thread, NULL, input_thread, c);
	if (err) {
		pv_err("virtio-console: cannot start input thread: %s", strerror(err));
		console_destroy(&c->vdev);
		return NULL;
	}
	c->thread_started = true;
	return &c->vdev;
}
