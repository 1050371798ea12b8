#include "virtio_sim.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"

static void fake_set_level(void *opaque, unsigned irq, bool level)
{
	struct sim *s = opaque;
	int old = __atomic_exchange_n(&s->irq_level, level, __ATOMIC_SEQ_CST);
	if (level && !old)
		__atomic_add_fetch(&s->irq_edges, 1, __ATOMIC_SEQ_CST);
}

void sim_init(struct sim *s, struct virtio_device *dev)
{
	memset(s, 0, sizeof(*s));
	/* aligned_alloc: rings need natural alignment in host memory too. */
	s->ram = aligned_alloc(4096, SIM_RAM_SIZE);
	memset(s->ram, 0, SIM_RAM_SIZE);
	s->mem.nr_regions = 1;
	s->mem.regions[0] = (struct guest_mem_region){ SIM_RAM_GPA, SIM_RAM_SIZE, s->ram };
	s->dev = dev;
	s->m = virtio_mmio_create(dev, &s->mem,
				  (struct irq_line){ fake_set_level, s, 42 });
	/* Rings live in the first 64 KiB, buffers after. */
	s->heap = SIM_RAM_GPA + 0x10000;
}

void sim_fini(struct sim *s)
{
	virtio_mmio_destroy(s->m);
	free(s->ram);
}

uint32_t sim_r32(struct sim *s, uint32_t off)
{
	uint32_t v;
	virtio_mmio_ops.read(s->m, off, &v, 4);
	return v;
}

void sim_w32(struct sim *s, uint32_t off, uint32_t val)
{
	virtio_mmio_ops.write(s->m, off, &val, 4);
}

uint64_t sim_features(struct sim *s)
{
	sim_w32(s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t f = (uint64_t)sim_r32(s, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	sim_w32(s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | sim_r32(s, VIRTIO_MMIO_DEVICE_FEATURES);
}

uint32_t sim_negotiate(struct sim *s, uint64_t features)
{
	sim_w32(s, VIRTIO_MMIO_STATUS, 0);
	sim_w32(s, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	sim_w32(s, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	sim_w32(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	sim_w32(s, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	sim_w32(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	sim_w32(s, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	sim_w32(s, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK);
	return sim_r32(s, VIRTIO_MMIO_STATUS);
}

uint32_t sim_setup_queue(struct sim *s, unsigned q, uint16_t num)
{
	struct sim_queue *sq = &s->q[q];
	/* Each queue gets a 16 KiB slot: desc 4 KiB, avail 4 KiB, used 8 KiB. */
	uint64_t base = SIM_RAM_GPA + 0x4000ull * q;

	memset(sim_host(s, base), 0, 0x4000);
	*sq = (struct sim_queue){ .num = num, .desc = base, .avail = base + 0x1000,
				  .used = base + 0x2000 };
	sim_w32(s, VIRTIO_MMIO_QUEUE_SEL, q);
	if (sim_r32(s, VIRTIO_MMIO_QUEUE_READY))
		return 0;
	if (sim_r32(s, VIRTIO_MMIO_QUEUE_NUM_MAX) == 0)
		return 0;
	sim_w32(s, VIRTIO_MMIO_QUEUE_NUM, num);
	sim_w32(s, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)sq->desc);
	sim_w32(s, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(sq->desc >> 32));
	sim_w32(s, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)sq->avail);
	sim_w32(s, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(sq->avail >> 32));
	sim_w32(s, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)sq->used);
	sim_w32(s, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(sq->used >> 32));
	sim_w32(s, VIRTIO_MMIO_QUEUE_READY, 1);
	return sim_r32(s, VIRTIO_MMIO_QUEUE_READY);
}

uint32_t sim_bring_up(struct sim *s, uint64_t features, unsigned nq, uint16_t num)
{
	uint32_t st = sim_negotiate(s, features & sim_features(s));
	if (!(st & VIRTIO_STATUS_FEATURES_OK))
		return st;
	for (unsigned q = 0; q < nq; q++)
		if (sim_setup_queue(s, q, num) != 1)
			return sim_r32(s, VIRTIO_MMIO_STATUS);
	sim_w32(s, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	return sim_r32(s, VIRTIO_MMIO_STATUS);
}

uint64_t sim_alloc(struct sim *s, uint32_t len)
{
	uint64_t gpa = s->heap;
	s->heap += (len + 63) & ~63u;
	if (s->heap > SIM_RAM_GPA + SIM_RAM_SIZE) {
		fprintf(stderr, "sim: out of fake guest RAM\n");
		abort();
	}
	return gpa;
}

void *sim_host(struct sim *s, uint64_t gpa)
{
	return s->ram + (gpa - SIM_RAM_GPA);
}

void sim_set_desc(struct sim *s, unsigned q, uint16_t idx, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next)
{
	uint8_t *d = sim_host(s, s->q[q].desc + 16ull * idx);
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

void sim_publish(struct sim *s, unsigned q, uint16_t head)
{
	struct sim_queue *sq = &s->q[q];
	uint16_t *avail = sim_host(s, sq->avail);
	avail[2 + (sq->avail_idx % sq->num)] = head;
	sq->avail_idx++;
	__atomic_store_n(&avail[1], sq->avail_idx, __ATOMIC_RELEASE);
}

uint16_t sim_post(struct sim *s, unsigned q, const struct sim_buf *bufs, unsigned n)
{
	struct sim_queue *sq = &s->q[q];
	if (sq->next_desc + n > sq->num)
		sq->next_desc = 0;
	uint16_t head = sq->next_desc;
	for (unsigned i = 0; i < n; i++) {
		uint16_t flags = (bufs[i].writable ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		sim_set_desc(s, q, head + i, bufs[i].gpa, bufs[i].len, flags, head + i + 1);
	}
	sq->next_desc += n;
	sim_publish(s, q, head);
	return head;
}

void sim_notify(struct sim *s, unsigned q)
{
	sim_w32(s, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

int sim_used(struct sim *s, unsigned q, uint32_t *id, uint32_t *len)
{
	struct sim_queue *sq = &s->q[q];
	uint16_t *used = sim_host(s, sq->used);
	uint16_t idx = __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
	if (idx == sq->used_seen)
		return 0;
	uint8_t *e = (uint8_t *)sim_host(s, sq->used) + 4 + 8 * (sq->used_seen % sq->num);
	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
	sq->used_seen++;
	return 1;
}

int sim_wait_used(struct sim *s, unsigned q, uint32_t *id, uint32_t *len)
{
	/* A bound on waiting for the input thread, not a timing assertion. */
	for (int i = 0; i < 5000; i++) {
		if (sim_used(s, q, id, len))
			return 1;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return 0;
}

int sim_edges(struct sim *s)
{
	return __atomic_load_n(&s->irq_edges, __ATOMIC_SEQ_CST);
}
