/*
 * A simulated virtio-mmio driver for unit tests: fake guest RAM (a
 * struct guest_mem over a heap buffer), register access through
 * virtio_mmio_ops exactly as Linux's virtio_mmio.c does it, split rings
 * laid out in that RAM, and a fake irq_line that counts rising edges.
 */
#ifndef PV_TEST_VIRTIO_SIM_H
#define PV_TEST_VIRTIO_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/mmio.h"
#include "vmm/guest_mem.h"

#define SIM_RAM_GPA  0x40000000ull
#define SIM_RAM_SIZE (1u << 20)
#define SIM_QUEUES   2

struct sim_queue {
	uint16_t num;
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};

struct sim {
	struct guest_mem mem;
	uint8_t *ram;
	struct virtio_mmio *m;
	struct virtio_device *dev;
	int irq_edges;          /* atomic: the console thread raises too */
	int irq_level;
	uint64_t heap;          /* bump allocator for buffers */
	struct sim_queue q[SIM_QUEUES];
};

struct sim_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/* Attach dev (ownership passes to the sim) to a fresh transport. */
void sim_init(struct sim *s, struct virtio_device *dev);
void sim_fini(struct sim *s);

uint32_t sim_r32(struct sim *s, uint32_t off);
void sim_w32(struct sim *s, uint32_t off, uint32_t val);
uint64_t sim_features(struct sim *s);

/* Linux's probe sequence up to FEATURES_OK; returns the status read back. */
uint32_t sim_negotiate(struct sim *s, uint64_t features);
/* Place and enable queue q with num entries; returns QueueReady read back. */
uint32_t sim_setup_queue(struct sim *s, unsigned q, uint16_t num);
/* Full bring-up (features & offered, all nq queues of size num, DRIVER_OK);
 * returns the final status. */
uint32_t sim_bring_up(struct sim *s, uint64_t features, unsigned nq, uint16_t num);

uint64_t sim_alloc(struct sim *s, uint32_t len);
void *sim_host(struct sim *s, uint64_t gpa);

/* Write descriptor idx of queue q raw (for hostile tests). */
void sim_set_desc(struct sim *s, unsigned q, uint16_t idx, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next);
/* Publish head in the avail ring (release-ordered idx bump). */
void sim_publish(struct sim *s, unsigned q, uint16_t head);
/* Chain bufs into consecutive descriptors, publish, return the head. */
uint16_t sim_post(struct sim *s, unsigned q, const struct sim_buf *bufs, unsigned n);
void sim_notify(struct sim *s, unsigned q);
/* Next used element, if any: 1 and fills id and len, else 0. */
int sim_used(struct sim *s, unsigned q, uint32_t *id, uint32_t *len);
/* Poll sim_used for up to ~5 s (for the console thread); 1 if one came. */
int sim_wait_used(struct sim *s, unsigned q, uint32_t *id, uint32_t *len);

int sim_edges(struct sim *s);

#endif
