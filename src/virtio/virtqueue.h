/*
 * Split virtqueues (spec 2.7) with EVENT_IDX and indirect descriptors.
 *
 * The guest writes the rings concurrently with us and is hostile: every
 * index is checked against the queue size, every buffer is mapped through
 * guest_mem_ptr() (so it lies wholly inside guest RAM), every descriptor is
 * copied once before it is checked (no double fetch), and a chain is never
 * walked further than the number of descriptors its table holds, which
 * catches loops. Ring indices are read/written with acquire/release atomics
 * and full fences where the EVENT_IDX protocol needs them, which is what a
 * weakly ordered host (arm64) requires.
 *
 * virtio 1.x is little-endian; hosts are little-endian (x86_64, arm64).
 */
#ifndef PV_VIRTIO_VIRTQUEUE_H
#define PV_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtqueue.c assumes a little-endian host"
#endif

struct guest_mem;

#define VIRTQ_MAX_SIZE  256   /* largest queue any device offers */
#define VIRTQ_MAX_CHAIN 256   /* most buffers in one chain (direct or indirect) */

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtqueue {
	/* Written by the transport while the queue is not ready. */
	uint32_t num;           /* as the driver wrote it; checked by virtq_start */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;

	/* Set by virtq_start(). */
	bool started;
	bool event_idx, indirect_ok;
	const struct guest_mem *mem;
	uint8_t *desc;          /* host view of the descriptor table */
	uint16_t *avail;        /* flags, idx, ring[num], used_event */
	uint16_t *used;         /* flags, idx, then 8-byte elems, avail_event */
	uint16_t last_avail;    /* next avail entry we will consume */
	uint16_t used_idx;      /* our copy of used->idx */
	uint16_t signalled_used;
	bool signalled_valid;

	char error[128];        /* why the last virtq_pop() failed */
};

/* A popped descriptor chain: out (device-readable) buffers first, then in
 * (device-writable) ones, as host iovecs into guest RAM. Zero-length
 * buffers are dropped. */
struct virtq_chain {
	uint16_t head;
	unsigned nr_out, nr_in;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_CHAIN];
};

/* Map the rings the driver configured. -EINVAL (reason in vq->error) when
 * the size or any ring is bad. */
int virtq_start(struct virtqueue *vq, const struct guest_mem *mem, uint64_t features);

/* Back to the state after device reset (not ready, no addresses). */
void virtq_reset(struct virtqueue *vq);

/* 1: *c holds the next chain; 0: nothing available; -EPROTO: the driver
 * broke the ring rules (reason in vq->error); the queue must not be used
 * again before a reset. */
int virtq_pop(struct virtqueue *vq, struct virtq_chain *c);

/* Return a chain to the driver; written = bytes the device wrote. */
void virtq_push(struct virtqueue *vq, uint16_t head, uint32_t written);

/* After one or more pushes: does the driver want an interrupt? */
bool virtq_should_signal(struct virtqueue *vq);

#endif
