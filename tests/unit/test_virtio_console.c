/* virtio-console through the simulated driver, with pipes for in/out. */
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "test.h"
#include "virtio_sim.h"

#define F(bit) (1ull << (bit))
#define CONSOLE_F_EMERG_WRITE 2

struct con {
	struct sim s;
	int in[2], out[2];
};

static void con_up(struct con *c)
{
	if (pipe(c->in) || pipe(c->out))
		abort();
	fcntl(c->out[0], F_SETFL, O_NONBLOCK);
	struct virtio_device *dev = virtio_console_create(c->in[0], c->out[1]);
	CHECK(dev != NULL);
	sim_init(&c->s, dev);
	uint32_t st = sim_bring_up(&c->s, ~0ull, 2, 16);
	CHECK(st & VIRTIO_STATUS_DRIVER_OK);
}

static void con_down(struct con *c)
{
	sim_fini(&c->s);
	close(c->in[0]); close(c->in[1]);
	close(c->out[0]); close(c->out[1]);
}

TEST(console_transmit)
{
	struct con c;
	con_up(&c);
	uint64_t a = sim_alloc(&c.s, 5), b = sim_alloc(&c.s, 6);
	memcpy(sim_host(&c.s, a), "hello", 5);
	memcpy(sim_host(&c.s, b), " world", 6);
	struct sim_buf bufs[] = { { a, 5, false }, { b, 6, false } };
	uint16_t head = sim_post(&c.s, 1, bufs, 2);
	sim_notify(&c.s, 1);
	uint32_t id, len;
	CHECK(sim_used(&c.s, 1, &id, &len));
	CHECK_EQ(id, head);
	CHECK_EQ(len, 0);
	char got[32] = { 0 };
	CHECK_EQ(read(c.out[0], got, sizeof(got)), 11);
	CHECK(strcmp(got, "hello world") == 0);
	con_down(&c);
}

TEST(console_receive)
{
	struct con c;
	con_up(&c);
	uint64_t rx = sim_alloc(&c.s, 64);
	struct sim_buf b = { rx, 64, true };
	uint16_t head = sim_post(&c.s, 0, &b, 1);
	sim_notify(&c.s, 0);
	int edges = sim_edges(&c.s);
	CHECK_EQ(write(c.in[1], "abc", 3), 3);
	uint32_t id, len;
	CHECK(sim_wait_used(&c.s, 0, &id, &len));
	CHECK_EQ(id, head);
	CHECK_EQ(len, 3);
	CHECK(memcmp(sim_host(&c.s, rx), "abc", 3) == 0);
	CHECK(sim_edges(&c.s) > edges);
	CHECK(sim_r32(&c.s, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_USED_BUFFER);
	con_down(&c);
}

TEST(console_input_waits_for_buffers)
{
	struct con c;
	con_up(&c);
	/* Input arrives before the driver posts receive buffers. */
	CHECK_EQ(write(c.in[1], "0123456789", 10), 10);
	uint32_t id, len;
	/* Give the input thread a chance to read it; nothing can complete. */
	usleep(20000);
	CHECK(!sim_used(&c.s, 0, &id, &len));
	/* Two small buffers: the input is split across them, nothing lost. */
	uint64_t r1 = sim_alloc(&c.s, 4), r2 = sim_alloc(&c.s, 16);
	struct sim_buf b1 = { r1, 4, true }, b2 = { r2, 16, true };
	sim_post(&c.s, 0, &b1, 1);
	sim_post(&c.s, 0, &b2, 1);
	sim_notify(&c.s, 0);
	CHECK(sim_wait_used(&c.s, 0, &id, &len));
	CHECK_EQ(len, 4);
	CHECK(sim_wait_used(&c.s, 0, &id, &len));
	CHECK_EQ(len, 6);
	CHECK(memcmp(sim_host(&c.s, r1), "0123", 4) == 0);
	CHECK(memcmp(sim_host(&c.s, r2), "456789", 6) == 0);
	con_down(&c);
}

TEST(console_emergency_write)
{
	struct con c;
	con_up(&c);
	CHECK(virtio_dev_has_feature(c.s.dev, CONSOLE_F_EMERG_WRITE));
	uint32_t ch = '!';
	virtio_mmio_ops.write(c.s.m, VIRTIO_MMIO_CONFIG + 8, &ch, 4);
	char got = 0;
	CHECK_EQ(read(c.out[0], &got, 1), 1);
	CHECK_EQ(got, '!');
	uint32_t ports = 0;
	virtio_mmio_ops.read(c.s.m, VIRTIO_MMIO_CONFIG + 4, &ports, 4);
	CHECK_EQ(ports, 1);
	con_down(&c);
}

TEST(console_without_input_fd)
{
	int out[2];
	if (pipe(out))
		abort();
	struct sim s;
	sim_init(&s, virtio_console_create(-1, out[1]));
	CHECK(sim_bring_up(&s, ~0ull, 2, 16) & VIRTIO_STATUS_DRIVER_OK);
	sim_fini(&s);
	close(out[0]);
	close(out[1]);
}
