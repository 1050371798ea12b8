/*
 * libFuzzer target for the virtio-mmio transport, the split virtqueue
 * walker and the blk/rng/console request parsers. The input is a small
 * program run by a pretend guest against one device: it writes guest RAM,
 * writes/reads transport registers and config space, publishes avail
 * entries and notifies. Every device starts brought up the way Linux does
 * it, so the fuzzer is past the handshake from the first byte.
 *
 * Input: [device][features][queue size log2] then ops, each an opcode byte
 * followed by its operands (little-endian), see run_op(). Build and run:
 * tests/fuzz/run.sh virtqueue 60
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/mmio.h"
#include "vmm/guest_mem.h"

#define RAM_GPA  0x10000ull
#define RAM_SIZE 0x4000u
/* Fixed ring placement inside RAM for queues 0 and 1 (size <= 128 each). */
#define DESC(q)  (RAM_GPA + 0x1000ull * (q))
#define AVAIL(q) (RAM_GPA + 0x2000 + 0x400ull * (q))
#define USED(q)  (RAM_GPA + 0x2800 + 0x800ull * (q))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char image_path[64];
static int null_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	/* Guest mistakes are expected by the thousand; keep errors only. */
	setenv("PEARVISOR_LOG", "error", 1);
	char tmpl[] = "/tmp/pv-fuzz-blk-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0 || ftruncate(fd, 64 * 1024) != 0)
		abort();
	/* The file lives as long as this fd; the blk device reopens it. */
	unlink(tmpl);
	snprintf(image_path, sizeof(image_path), "/proc/self/fd/%d", fd);
	null_fd = open("/dev/null", O_WRONLY);
	return 0;
}

struct input {
	const uint8_t *p;
	size_t left;
};

static unsigned take(struct input *in, unsigned bytes, uint64_t *v)
{
	*v = 0;
	if (in->left < bytes)
		return 0;
	for (unsigned i = 0; i < bytes; i++)
		*v |= (uint64_t)in->p[i] << (8 * i);
	in->p += bytes;
	in->left -= bytes;
	return 1;
}

struct ctx {
	struct virtio_mmio *m;
	uint8_t *ram;
	uint16_t avail_idx[2];
	uint16_t num;
};

static void w32(struct ctx *c, uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(c->m, off, &v, 4);
}

static uint32_t r32(struct ctx *c, uint32_t off)
{
	uint32_t v;
	virtio_mmio_ops.read(c->m, off, &v, 4);
	return v;
}

static void bring_up(struct ctx *c, uint64_t features, unsigned nq)
{
	w32(c, VIRTIO_MMIO_STATUS, 0);
	w32(c, VIRTIO_MMIO_STATUS, 1);
	w32(c, VIRTIO_MMIO_STATUS, 3);
	w32(c, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t offered = r32(c, VIRTIO_MMIO_DEVICE_FEATURES);
	w32(c, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)r32(c, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	features &= offered;
	w32(c, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(c, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	w32(c, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(c, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	w32(c, VIRTIO_MMIO_STATUS, 0xb);
	for (unsigned q = 0; q < nq; q++) {
		w32(c, VIRTIO_MMIO_QUEUE_SEL, q);
		w32(c, VIRTIO_MMIO_QUEUE_NUM, c->num);
		w32(c, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC(q));
		w32(c, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL(q));
		w32(c, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED(q));
		w32(c, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	w32(c, VIRTIO_MMIO_STATUS, 0xf);
}

static void publish(struct ctx *c, unsigned q, uint16_t head)
{
	uint16_t *avail = (uint16_t *)(c->ram + (AVAIL(q) - RAM_GPA));
	avail[2 + (c->avail_idx[q] & (c->num - 1))] = head;
	c->avail_idx[q]++;
	__atomic_store_n(&avail[1], c->avail_idx[q], __ATOMIC_RELEASE);
}

/* One op; false when the input is used up. */
static int run_op(struct ctx *c, struct input *in)
{
	uint64_t op, a, b, v;

	if (!take(in, 1, &op))
		return 0;
	switch (op % 7) {
	case 0: /* RAM write: off16 len8 bytes */
		if (!take(in, 2, &a) || !take(in, 1, &b))
			return 0;
		a %= RAM_SIZE;
		b = b > in->left ? in->left : b;
		b = b > RAM_SIZE - a ? RAM_SIZE - a : b;
		memcpy(c->ram + a, in->p, b);
		in->p += b;
		in->left -= b;
		return 1;
	case 1: /* descriptor: q1 idx8 addr-offset16 len16 flags8 next8 */
		if (!take(in, 1, &a) || !take(in, 1, &b) || !take(in, 2, &v))
			return 0;
		{
			uint64_t len, fl, nx;
			if (!take(in, 2, &len) || !take(in, 1, &fl) || !take(in, 1, &nx))
				return 0;
			unsigned q = a & 1, idx = (unsigned)(b % c->num);
			uint8_t *d = c->ram + (DESC(q) - RAM_GPA) + 16 * idx;
			uint64_t addr = RAM_GPA + v;   /* may point past RAM: good */
			uint32_t l = (uint32_t)len;
			uint16_t f = (uint16_t)(fl & 7), n = (uint16_t)nx;
			memcpy(d, &addr, 8);
			memcpy(d + 8, &l, 4);
			memcpy(d + 12, &f, 2);
			memcpy(d + 14, &n, 2);
		}
		return 1;
	case 2: /* publish + notify: q1 head8 */
		if (!take(in, 1, &a) || !take(in, 1, &b))
			return 0;
		publish(c, a & 1, (uint16_t)b);
		w32(c, VIRTIO_MMIO_QUEUE_NOTIFY, a & 1);
		return 1;
	case 3: /* notify: q8 */
		if (!take(in, 1, &a))
			return 0;
		w32(c, VIRTIO_MMIO_QUEUE_NOTIFY, (uint32_t)a);
		return 1;
	case 4: /* register write: off16 val32 */
		if (!take(in, 2, &a) || !take(in, 4, &v))
			return 0;
		w32(c, (uint32_t)(a % VIRTIO_MMIO_SIZE) & ~3u, (uint32_t)v);
		return 1;
	case 5: /* any-width access anywhere: off16 len8 val64 */
		if (!take(in, 2, &a) || !take(in, 1, &b) || !take(in, 8, &v))
			return 0;
		{
			static const unsigned lens[] = { 1, 2, 4, 8 };
			unsigned len = lens[b & 3];
			a %= VIRTIO_MMIO_SIZE;
			if (b & 4)
				virtio_mmio_ops.write(c->m, a, &v, len);
			else
				virtio_mmio_ops.read(c->m, a, &v, len);
		}
		return 1;
	default: /* register read: off16 */
		if (!take(in, 2, &a))
			return 0;
		(void)r32(c, (uint32_t)(a % VIRTIO_MMIO_SIZE) & ~3u);
		return 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint64_t dev_sel, feat, qlog;

	if (!take(&in, 1, &dev_sel) || !take(&in, 1, &feat) || !take(&in, 1, &qlog))
		return 0;

	struct virtio_device *dev;
	unsigned nq;
	switch (dev_sel % 3) {
	case 0: dev = virtio_blk_create(image_path, feat & 0x80); nq = 1; break;
	case 1: dev = virtio_rng_create(); nq = 1; break;
	default: dev = virtio_console_create(-1, null_fd); nq = 2; break;
	}
	if (!dev)
		abort();

	struct guest_mem mem = { .nr_regions = 1 };
	uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	mem.regions[0] = (struct guest_mem_region){ RAM_GPA, RAM_SIZE, ram };
	struct ctx c = { .ram = ram };
	c.m = virtio_mmio_create(dev, &mem, (struct irq_line){ 0 });
	/* Sizes 1..128, plus the occasional invalid one. */
	c.num = (uint16_t)((qlog & 0x10) ? qlog * 3 : 1u << (qlog % 8));
	if (c.num == 0)
		c.num = 1;

	uint64_t features = (1ull << 32) | ((feat & 1) ? 1ull << 28 : 0) |
			    ((feat & 2) ? 1ull << 29 : 0) | ((feat & 4) ? 0xffffffull : 0);
	bring_up(&c, features, nq);
	while (run_op(&c, &in))
		;
	virtio_mmio_destroy(c.m);
	free(ram);
	return 0;
}
