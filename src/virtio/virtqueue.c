#include "virtio/virtqueue.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "os/util.h"
#include "virtio/virtio.h"
#include "vmm/guest_mem.h"

/* Ring layout offsets in 16-bit units (avail) / bytes (used), spec 2.7. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX   1
#define AVAIL_RING  2
#define USED_IDX    1
#define USED_RING_BYTES 4

static int vq_fail(struct virtqueue *vq, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vq_fail(struct virtqueue *vq, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vq->error, sizeof(vq->error), fmt, ap);
	va_end(ap);
	return err;
}

static void *map_ring(const struct guest_mem *mem, uint64_t gpa, uint64_t len, unsigned align)
{
	if (gpa & (align - 1))
		return NULL;
	void *p = guest_mem_ptr(mem, gpa, len);
	/* Atomic accesses need natural alignment in host memory too. */
	if (p && ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

int virtq_start(struct virtqueue *vq, const struct guest_mem *mem, uint64_t features)
{
	uint64_t n = vq->num;

	vq->started = false;
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return vq_fail(vq, -EINVAL, "queue size %u is not a power of two in 1..%u",
			       vq->num, VIRTQ_MAX_SIZE);
	/* Sizes include used_event / avail_event even without EVENT_IDX: a
	 * few bytes of slack cost nothing and keep one code path. */
	vq->desc = map_ring(mem, vq->desc_gpa, 16 * n, 16);
	vq->avail = map_ring(mem, vq->avail_gpa, 6 + 2 * n, 2);
	vq->used = map_ring(mem, vq->used_gpa, 6 + 8 * n, 4);
	if (!vq->desc || !vq->avail || !vq->used)
		return vq_fail(vq, -EINVAL,
			       "rings desc 0x%llx avail 0x%llx used 0x%llx (size %u) are "
			       "misaligned or outside guest RAM",
			       (unsigned long long)vq->desc_gpa, (unsigned long long)vq->avail_gpa,
			       (unsigned long long)vq->used_gpa, vq->num);
	vq->mem = mem;
	vq->event_idx = (features >> VIRTIO_F_EVENT_IDX) & 1;
	vq->indirect_ok = (features >> VIRTIO_F_INDIRECT_DESC) & 1;
	/* A fresh queue starts at index 0 on both sides (spec 2.7.6). */
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->error[0] = 0;
	vq->started = true;
	return 0;
}

void virtq_reset(struct virtqueue *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static uint16_t *avail_event_ptr(struct virtqueue *vq)
{
	return (uint16_t *)((uint8_t *)vq->used + USED_RING_BYTES + 8 * (size_t)vq->num);
}

static uint16_t used_event(struct virtqueue *vq)
{
	return __atomic_load_n(&vq->avail[AVAIL_RING + vq->num], __ATOMIC_RELAXED);
}

/* Descriptors are copied out once, then checked: the guest may rewrite the
 * table while we look at it. */
static void load_desc(const uint8_t *table, unsigned idx, struct virtq_desc *d)
{
	memcpy(d, table + 16 * (size_t)idx, sizeof(*d));
}

static uint16_t avail_idx_acquire(struct virtqueue *vq)
{
	/* Pairs with the driver's write barrier before it bumps avail->idx: the
	 * ring entry and descriptors are visible once we see the index. */
	return __atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
}

int virtq_pop(struct virtqueue *vq, struct virtq_chain *c)
{
	if (!vq->started)
		return 0;

	uint16_t avail = avail_idx_acquire(vq);
	if (avail == vq->last_avail) {
		if (!vq->event_idx)
			return 0;
		/* Publish where we stopped, then look again: a buffer the driver
		 * added before it could see avail_event would otherwise wait for
		 * a notification that never comes. The full fence orders our
		 * store before the reload (store-load, needs more than
		 * acquire/release). */
		__atomic_store_n(avail_event_ptr(vq), vq->last_avail, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail = avail_idx_acquire(vq);
		if (avail == vq->last_avail)
			return 0;
	}
	uint16_t pending = (uint16_t)(avail - vq->last_avail);
	if (pending > vq->num)
		return vq_fail(vq, -EPROTO, "avail index %u is %u entries ahead of %u (queue size %u)",
			       avail, pending, vq->last_avail, vq->num);

	uint16_t head = __atomic_load_n(&vq->avail[AVAIL_RING + (vq->last_avail & (vq->num - 1))],
					__ATOMIC_RELAXED);
	vq->last_avail++;
	if (vq->event_idx)
		__atomic_store_n(avail_event_ptr(vq), vq->last_avail, __ATOMIC_RELAXED);
	if (head >= vq->num)
		return vq_fail(vq, -EPROTO, "avail ring head %u out of range (queue size %u)",
			       head, vq->num);

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;

	const uint8_t *table = vq->desc;
	unsigned table_n = vq->num, budget = vq->num, idx = head;
	bool in_indirect = false, first = true;
	unsigned nr = 0;

	for (;;) {
		struct virtq_desc d;

		if (budget-- == 0)
			return vq_fail(vq, -EPROTO, "descriptor chain from head %u loops or is longer "
				       "than its table (%u)", head, table_n);
		load_desc(table, idx, &d);

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!vq->indirect_ok)
				return vq_fail(vq, -EPROTO, "indirect descriptor %u without "
					       "VIRTIO_F_INDIRECT_DESC", idx);
			if (in_indirect)
				return vq_fail(vq, -EPROTO, "nested indirect descriptor");
			/* Only a lone head may be indirect: that is what every
			 * driver does and it keeps the chain rules simple. */
			if (!first || (d.flags & VIRTQ_DESC_F_NEXT))
				return vq_fail(vq, -EPROTO, "indirect descriptor %u is not a lone "
					       "chain head", idx);
			if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_MAX_CHAIN)
				return vq_fail(vq, -EPROTO, "indirect table length %u is not a "
					       "multiple of 16 in 16..%u", d.len, 16 * VIRTQ_MAX_CHAIN);
			table = guest_mem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return vq_fail(vq, -EPROTO, "indirect table 0x%llx+%u outside guest RAM",
					       (unsigned long long)d.addr, d.len);
			table_n = budget = d.len / 16;
			idx = 0;
			in_indirect = true;
			first = false;
			continue;
		}

		first = false;
		bool writable = d.flags & VIRTQ_DESC_F_WRITE;
		if (!writable && c->nr_in)
			return vq_fail(vq, -EPROTO, "readable descriptor %u after a writable one", idx);
		if (d.len) {
			void *p = guest_mem_ptr(vq->mem, d.addr, d.len);
			if (!p)
				return vq_fail(vq, -EPROTO, "descriptor %u buffer 0x%llx+%u outside "
					       "guest RAM", idx, (unsigned long long)d.addr, d.len);
			if (nr == VIRTQ_MAX_CHAIN)
				return vq_fail(vq, -EPROTO, "chain has more than %u buffers",
					       VIRTQ_MAX_CHAIN);
			c->iov[nr].iov_base = p;
			c->iov[nr].iov_len = d.len;
			nr++;
			if (writable) {
				c->nr_in++;
				c->in_len += d.len;
			} else {
				c->nr_out++;
				c->out_len += d.len;
			}
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= table_n)
			return vq_fail(vq, -EPROTO, "descriptor %u: next %u out of range (%u)",
				       idx, d.next, table_n);
		idx = d.next;
	}
	return 1;
}

void virtq_push(struct virtqueue *vq, uint16_t head, uint32_t written)
{
	if (!vq->started)
		return;
	uint8_t *elem = (uint8_t *)vq->used + USED_RING_BYTES +
			8 * (size_t)(vq->used_idx & (vq->num - 1));
	uint32_t id = head;
	memcpy(elem, &id, 4);
	memcpy(elem + 4, &written, 4);
	vq->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n(&vq->used[USED_IDX], vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_signal(struct virtqueue *vq)
{
	if (!vq->started)
		return false;
	/* Our used->idx store must be visible before we read the driver's
	 * suppression state, or both sides can decide the other will act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail[AVAIL_FLAGS], __ATOMIC_RELAXED) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);

	uint16_t old = vq->signalled_used, new_idx = vq->used_idx;
	bool valid = vq->signalled_valid;
	vq->signalled_used = new_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	/* Spec 2.7.10: interrupt when used_event lies in [old, new). */
	uint16_t event = used_event(vq);
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}
