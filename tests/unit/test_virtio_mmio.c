/* virtio-mmio transport and split virtqueue rules, driven through the rng
 * device (the simplest consumer of a queue). */
#include "test.h"
#include "virtio_sim.h"

#define F(bit) (1ull << (bit))
#define ALL_FEATURES (~0ull)
#define NO_RING_FEATURES (F(VIRTIO_F_VERSION_1))

static void rng_up(struct sim *s, uint64_t features, uint16_t num)
{
	sim_init(s, virtio_rng_create());
	uint32_t st = sim_bring_up(s, features, 1, num);
	CHECK_EQ(st, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static bool needs_reset(struct sim *s)
{
	return sim_r32(s, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}

/* Post a 32-byte writable buffer; true if the device completed it. */
static bool rng_round_trip(struct sim *s)
{
	uint64_t buf = sim_alloc(s, 32);
	struct sim_buf b = { buf, 32, true };
	uint32_t id, len;
	uint16_t head = sim_post(s, 0, &b, 1);
	sim_notify(s, 0);
	return sim_used(s, 0, &id, &len) && id == head && len == 32;
}

TEST(mmio_identity_registers)
{
	struct sim s;
	sim_init(&s, virtio_rng_create());
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_VERSION), 2);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	uint64_t f = sim_features(&s);
	CHECK(f & F(VIRTIO_F_VERSION_1));
	CHECK(f & F(VIRTIO_F_EVENT_IDX));
	CHECK(f & F(VIRTIO_F_INDIRECT_DESC));
	/* Feature words past 1 are zero. */
	sim_w32(&s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	/* No shared memory region: length all ones. */
	sim_w32(&s, VIRTIO_MMIO_SHM_SEL, 0);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	/* Queue 0 exists, queue 1 does not. */
	sim_w32(&s, VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_SEL, 1);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_SEL, 0xffffffffu);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_READY, 1);   /* nonexistent queue: ignored */
	/* Sub-word and misaligned register accesses are ignored, read as 0. */
	uint8_t b = 0xaa;
	virtio_mmio_ops.read(s.m, VIRTIO_MMIO_MAGIC_VALUE, &b, 1);
	CHECK_EQ(b, 0);
	uint32_t v = 0x1234;
	virtio_mmio_ops.read(s.m, VIRTIO_MMIO_MAGIC_VALUE + 2, &v, 4);
	CHECK_EQ(v, 0);
	virtio_mmio_ops.write(s.m, VIRTIO_MMIO_STATUS, &b, 1);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_STATUS), 0);
	/* Config space of a device without one reads zero. */
	v = 0x1234;
	virtio_mmio_ops.read(s.m, VIRTIO_MMIO_CONFIG, &v, 4);
	CHECK_EQ(v, 0);
	sim_fini(&s);
}

TEST(mmio_feature_negotiation)
{
	struct sim s;
	sim_init(&s, virtio_rng_create());
	/* A legacy driver (no VERSION_1) is refused FEATURES_OK. */
	uint32_t st = sim_negotiate(&s, 0);
	CHECK(!(st & VIRTIO_STATUS_FEATURES_OK));
	/* Accepting a feature the device did not offer is refused. */
	st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1) | F(3));
	CHECK(!(st & VIRTIO_STATUS_FEATURES_OK));
	/* DRIVER_OK without FEATURES_OK is refused. */
	sim_w32(&s, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	CHECK(!(sim_r32(&s, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK));
	/* Queues cannot be enabled before FEATURES_OK. */
	CHECK_EQ(sim_setup_queue(&s, 0, 16), 0);
	/* The real thing. */
	st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1));
	CHECK(st & VIRTIO_STATUS_FEATURES_OK);
	/* Features are frozen after FEATURES_OK. */
	sim_w32(&s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	sim_w32(&s, VIRTIO_MMIO_DRIVER_FEATURES, F(VIRTIO_F_EVENT_IDX) >> 0);
	CHECK(!virtio_dev_has_feature(s.dev, VIRTIO_F_EVENT_IDX));
	/* Clearing a status bit other than by reset is ignored. */
	sim_w32(&s, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_STATUS), st);
	/* Reset. */
	sim_w32(&s, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_STATUS), 0);
	sim_fini(&s);
}

TEST(rng_fills_buffer_and_interrupts)
{
	struct sim s;
	rng_up(&s, NO_RING_FEATURES, 16);
	uint64_t buf = sim_alloc(&s, 64);
	struct sim_buf b = { buf, 64, true };
	uint32_t id, len;
	int edges = sim_edges(&s);
	uint16_t head = sim_post(&s, 0, &b, 1);
	sim_notify(&s, 0);
	CHECK(sim_used(&s, 0, &id, &len));
	CHECK_EQ(id, head);
	CHECK_EQ(len, 64);
	uint8_t zero[64] = { 0 };
	CHECK(memcmp(sim_host(&s, buf), zero, 64) != 0);
	CHECK_EQ(sim_edges(&s), edges + 1);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED_BUFFER);
	sim_w32(&s, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_USED_BUFFER);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	sim_fini(&s);
}

TEST(rng_caps_huge_request)
{
	struct sim s;
	rng_up(&s, NO_RING_FEATURES, 16);
	uint64_t buf = sim_alloc(&s, 256 * 1024);
	struct sim_buf b = { buf, 256 * 1024, true };
	uint32_t id, len;
	sim_post(&s, 0, &b, 1);
	sim_notify(&s, 0);
	CHECK(sim_used(&s, 0, &id, &len));
	CHECK_EQ(len, 64 * 1024);
	sim_fini(&s);
}

TEST(no_interrupt_flag_suppresses_irq)
{
	struct sim s;
	rng_up(&s, NO_RING_FEATURES, 16);
	uint16_t *avail = sim_host(&s, s.q[0].avail);
	avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	int edges = sim_edges(&s);
	CHECK(rng_round_trip(&s));
	CHECK_EQ(sim_edges(&s), edges);
	sim_fini(&s);
}

TEST(event_idx_suppresses_and_requests_irq)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	CHECK(virtio_dev_has_feature(s.dev, VIRTIO_F_EVENT_IDX));
	uint16_t *used_event = (uint16_t *)sim_host(&s, s.q[0].avail) + 2 + 16;
	/* First completion always interrupts. */
	int edges = sim_edges(&s);
	CHECK(rng_round_trip(&s));
	CHECK_EQ(sim_edges(&s), edges + 1);
	/* Driver wants an interrupt only after used index 10. */
	*used_event = 10;
	edges = sim_edges(&s);
	CHECK(rng_round_trip(&s));
	CHECK_EQ(sim_edges(&s), edges);
	/* used_event = 2: the third completion (idx 2 -> 3) crosses it. */
	*used_event = 2;
	CHECK(rng_round_trip(&s));
	CHECK_EQ(sim_edges(&s), edges + 1);
	/* The device published avail_event = next avail index it will read. */
	uint16_t *avail_event = (uint16_t *)((uint8_t *)sim_host(&s, s.q[0].used) + 4 + 8 * 16);
	CHECK_EQ(*avail_event, 3);
	sim_fini(&s);
}

TEST(indirect_descriptors)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	uint64_t table = sim_alloc(&s, 32), b1 = sim_alloc(&s, 8), b2 = sim_alloc(&s, 24);
	uint8_t *t = sim_host(&s, table);
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } d[2] = {
		{ b1, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1 },
		{ b2, 24, VIRTQ_DESC_F_WRITE, 0 },
	};
	memcpy(t, d, sizeof(d));
	sim_set_desc(&s, 0, 5, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	sim_publish(&s, 0, 5);
	sim_notify(&s, 0);
	uint32_t id, len;
	CHECK(sim_used(&s, 0, &id, &len));
	CHECK_EQ(id, 5);
	CHECK_EQ(len, 32);
	CHECK(!needs_reset(&s));
	sim_fini(&s);
}

/* Each hostile chain must put the device in NEEDS_RESET with a config
 * interrupt, complete nothing, and leave a reset + re-init working. */
static void expect_broken(struct sim *s)
{
	uint32_t id, len;
	int edges = sim_edges(s);
	sim_notify(s, 0);
	CHECK(needs_reset(s));
	CHECK(!sim_used(s, 0, &id, &len));
	CHECK_EQ(sim_edges(s), edges + 1);
	CHECK(sim_r32(s, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG_CHANGE);
	/* Further notifies are ignored while broken. */
	sim_notify(s, 0);
	CHECK(!sim_used(s, 0, &id, &len));
	/* DRIVER_OK is refused until reset... */
	/* ...and a reset brings the device back. */
	uint32_t st = sim_bring_up(s, ALL_FEATURES, 1, 16);
	CHECK_EQ(st, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK(rng_round_trip(s));
}

TEST(hostile_head_out_of_range)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	sim_publish(&s, 0, 16);
	expect_broken(&s);
	sim_fini(&s);
}

TEST(hostile_next_out_of_range)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	sim_set_desc(&s, 0, 0, sim_alloc(&s, 8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 999);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	sim_fini(&s);
}

TEST(hostile_address_outside_ram)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	sim_set_desc(&s, 0, 0, SIM_RAM_GPA + SIM_RAM_SIZE - 4, 8, VIRTQ_DESC_F_WRITE, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	sim_set_desc(&s, 0, 0, 0x1000, 8, VIRTQ_DESC_F_WRITE, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	sim_fini(&s);
}

TEST(hostile_length_overflow)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	/* addr + len wraps around 2^64. */
	sim_set_desc(&s, 0, 0, 0xfffffffffffff000ull, 0x2000, VIRTQ_DESC_F_WRITE, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	/* A length bigger than guest RAM. */
	sim_set_desc(&s, 0, 0, SIM_RAM_GPA, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	sim_fini(&s);
}

TEST(hostile_descriptor_loop)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	uint64_t b = sim_alloc(&s, 8);
	sim_set_desc(&s, 0, 0, b, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	sim_set_desc(&s, 0, 1, b, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	/* A self loop. */
	sim_set_desc(&s, 0, 3, b, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	sim_publish(&s, 0, 3);
	expect_broken(&s);
	sim_fini(&s);
}

TEST(hostile_indirect_tables)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	uint64_t table = sim_alloc(&s, 64), b = sim_alloc(&s, 8);
	uint8_t *t = sim_host(&s, table);
	/* Length not a multiple of 16. */
	sim_set_desc(&s, 0, 0, table, 20, VIRTQ_DESC_F_INDIRECT, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	/* Nested indirect. */
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } d = {
		table, 16, VIRTQ_DESC_F_INDIRECT, 0 };
	memcpy(t, &d, 16);
	sim_set_desc(&s, 0, 0, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	/* Loop inside an indirect table. */
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } l[2] = {
		{ b, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1 },
		{ b, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0 } };
	memcpy(t, l, 32);
	sim_set_desc(&s, 0, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	/* Table outside guest RAM. */
	sim_set_desc(&s, 0, 0, SIM_RAM_GPA + SIM_RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	/* Indirect without the feature. */
	sim_w32(&s, VIRTIO_MMIO_STATUS, 0);
	sim_bring_up(&s, NO_RING_FEATURES, 1, 16);
	memcpy(t, l, 16);
	sim_set_desc(&s, 0, 0, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	sim_fini(&s);
}

TEST(hostile_readable_after_writable)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	uint64_t b = sim_alloc(&s, 8);
	sim_set_desc(&s, 0, 0, b, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	sim_set_desc(&s, 0, 1, b, 8, 0, 0);
	sim_publish(&s, 0, 0);
	expect_broken(&s);
	sim_fini(&s);
}

TEST(hostile_avail_index_jump)
{
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	uint16_t *avail = sim_host(&s, s.q[0].avail);
	__atomic_store_n(&avail[1], 100, __ATOMIC_RELEASE);
	expect_broken(&s);
	sim_fini(&s);
}

TEST(hostile_queue_sizes)
{
	struct sim s;
	sim_init(&s, virtio_rng_create());
	uint32_t st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1));
	CHECK(st & VIRTIO_STATUS_FEATURES_OK);
	/* Not a power of two. */
	CHECK_EQ(sim_setup_queue(&s, 0, 12), 0);
	CHECK(needs_reset(&s));
	st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1));
	CHECK(!needs_reset(&s));
	/* Bigger than QueueNumMax. */
	CHECK_EQ(sim_setup_queue(&s, 0, 512), 0);
	CHECK(needs_reset(&s));
	st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1));
	/* Zero. */
	CHECK_EQ(sim_setup_queue(&s, 0, 0), 0);
	CHECK(needs_reset(&s));
	/* More than 16 bits. */
	st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1));
	sim_w32(&s, VIRTIO_MMIO_QUEUE_NUM, 0x10010);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK(needs_reset(&s));
	/* Rings outside guest RAM / misaligned. */
	st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1));
	sim_w32(&s, VIRTIO_MMIO_QUEUE_SEL, 0);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_NUM, 16);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)SIM_RAM_GPA);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)SIM_RAM_GPA + 0x1000);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK(needs_reset(&s));
	st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1));
	sim_w32(&s, VIRTIO_MMIO_QUEUE_NUM, 16);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)SIM_RAM_GPA + 8);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_QUEUE_READY), 0);
	sim_fini(&s);
}

TEST(notify_on_unready_or_missing_queue)
{
	struct sim s;
	sim_init(&s, virtio_rng_create());
	uint32_t id, len;
	/* Before anything: ignored. */
	sim_notify(&s, 0);
	sim_notify(&s, 7);
	sim_notify(&s, 0xffffffffu);
	uint32_t st = sim_negotiate(&s, F(VIRTIO_F_VERSION_1));
	CHECK_EQ(sim_setup_queue(&s, 0, 16), 1);
	/* Queue ready but no DRIVER_OK yet: the device must not consume. */
	uint64_t b = sim_alloc(&s, 8);
	struct sim_buf sb = { b, 8, true };
	sim_post(&s, 0, &sb, 1);
	sim_notify(&s, 0);
	CHECK(!sim_used(&s, 0, &id, &len));
	sim_w32(&s, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	/* Queue disabled again. */
	sim_w32(&s, VIRTIO_MMIO_QUEUE_READY, 0);
	sim_notify(&s, 0);
	CHECK(!sim_used(&s, 0, &id, &len));
	CHECK(!needs_reset(&s));
	/* Reconfiguring a ready queue is ignored. */
	CHECK_EQ(sim_setup_queue(&s, 0, 16), 1);
	sim_w32(&s, VIRTIO_MMIO_QUEUE_NUM, 4);
	sim_post(&s, 0, &sb, 1);
	sim_notify(&s, 0);
	CHECK(sim_used(&s, 0, &id, &len));
	CHECK_EQ(len, 8);
	sim_fini(&s);
}

TEST(empty_notify_raises_no_interrupt)
{
	struct sim s;
	rng_up(&s, NO_RING_FEATURES, 16);
	int edges = sim_edges(&s);
	sim_notify(&s, 0);
	CHECK_EQ(sim_edges(&s), edges);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	sim_fini(&s);
}

TEST(guest_mem_with_two_regions)
{
	/* A buffer may sit in any RAM region, but not straddle two. */
	struct sim s;
	rng_up(&s, ALL_FEATURES, 16);
	static uint8_t hi[4096] __attribute__((aligned(64)));
	s.mem.nr_regions = 2;
	s.mem.regions[1] = (struct guest_mem_region){ 0x80000000ull, sizeof(hi), hi };
	uint32_t id, len;
	sim_set_desc(&s, 0, 0, 0x80000000ull + 64, 128, VIRTQ_DESC_F_WRITE, 0);
	sim_publish(&s, 0, 0);
	sim_notify(&s, 0);
	CHECK(sim_used(&s, 0, &id, &len));
	CHECK_EQ(len, 128);
	sim_set_desc(&s, 0, 1, 0x80000000ull + 4000, 128, VIRTQ_DESC_F_WRITE, 0);
	sim_publish(&s, 0, 1);
	sim_notify(&s, 0);
	CHECK(needs_reset(&s));
	s.mem.nr_regions = 1;
	sim_fini(&s);
}

TEST(reachable_through_mmio_bus)
{
	/* The way the VMM wires it: a window on the bus, vCPU exits dispatched
	 * by address. */
	struct sim s;
	sim_init(&s, virtio_rng_create());
	struct mmio_bus bus = { 0 };
	CHECK_EQ(mmio_bus_register(&bus, 0x0a000000, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, s.m), 0);
	uint32_t v = 0;
	CHECK(mmio_bus_access(&bus, 0x0a000000 + VIRTIO_MMIO_MAGIC_VALUE, &v, 4, false));
	CHECK_EQ(v, VIRTIO_MMIO_MAGIC);
	CHECK(mmio_bus_access(&bus, 0x0a000000 + VIRTIO_MMIO_DEVICE_ID, &v, 4, false));
	CHECK_EQ(v, VIRTIO_ID_RNG);
	v = VIRTIO_STATUS_ACKNOWLEDGE;
	CHECK(mmio_bus_access(&bus, 0x0a000000 + VIRTIO_MMIO_STATUS, &v, 4, true));
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
	/* An access straddling the window end is bounded by the device. */
	uint64_t big = 0;
	mmio_bus_access(&bus, 0x0a000000 + VIRTIO_MMIO_SIZE - 4, &big, 8, false);
	sim_fini(&s);
}
