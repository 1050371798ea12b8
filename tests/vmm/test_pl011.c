#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "hw/pl011.h"
#include "../unit/test.h"

struct irq_log {
	int raises, lowers;
	int level;
};

static void set_level(void *opaque, unsigned irq, int level_in)
{
	(void)irq;
	struct irq_log *l = opaque;
	if (level_in)
		l->raises++;
	else
		l->lowers++;
	l->level = level_in;
}

static void set_level_cb(void *opaque, unsigned irq, bool level)
{
	set_level(opaque, irq, level);
}

static uint32_t rd(struct pl011 *u, uint64_t off)
{
	uint32_t v = 0xdeadbeef;
	pl011_mmio_ops.read(u, off, &v, 4);
	return v;
}

static void wr(struct pl011 *u, uint64_t off, uint32_t v)
{
	pl011_mmio_ops.write(u, off, &v, 4);
}

TEST(primecell_ids)
{
	struct pl011 *u = pl011_create(-1, (struct irq_line){ 0 });
	const uint8_t id[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	for (int i = 0; i < 8; i++)
		CHECK_EQ(rd(u, 0xfe0 + 4 * i), id[i]);
	pl011_destroy(u);
}

TEST(tx_goes_to_fd)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	struct pl011 *u = pl011_create(p[1], (struct irq_line){ 0 });
	CHECK(rd(u, 0x18) & (1u << 7));    /* TXFE */
	CHECK(!(rd(u, 0x18) & (1u << 5))); /* never TXFF */
	const char *msg = "hi\n";
	for (const char *c = msg; *c; c++) {
		uint8_t b = (uint8_t)*c;
		pl011_mmio_ops.write(u, 0, &b, 1);   /* earlycon's strb */
	}
	char buf[8] = { 0 };
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	CHECK(!strcmp(buf, "hi\n"));
	pl011_destroy(u);
	close(p[0]);
	close(p[1]);
}

TEST(rx_and_interrupts)
{
	struct irq_log log = { 0 };
	struct pl011 *u = pl011_create(-1, (struct irq_line){ set_level_cb, &log, 1 });
	CHECK(rd(u, 0x18) & (1u << 4));    /* RXFE */
	CHECK_EQ(pl011_receive(u, (const uint8_t *)"ab", 2), 2);
	/* Masked: input waits on the line, so Linux's drain-on-open keeps it. */
	CHECK(rd(u, 0x18) & (1u << 4));
	CHECK_EQ(rd(u, 0x00), 0);
	CHECK_EQ(log.raises, 0);
	wr(u, 0x38, 1u << 4);              /* IMSC: RX */
	CHECK(!(rd(u, 0x18) & (1u << 4)));
	CHECK_EQ(log.level, 1);
	CHECK(rd(u, 0x40) & (1u << 4));    /* MIS */
	CHECK_EQ(rd(u, 0x00), 'a');
	CHECK_EQ(log.level, 1);
	CHECK_EQ(rd(u, 0x00), 'b');
	CHECK_EQ(log.level, 0);
	CHECK(rd(u, 0x18) & (1u << 4));
	CHECK_EQ(rd(u, 0x00), 0);          /* empty FIFO reads 0, no crash */

	/* TX interrupt: asserted while unmasked (the FIFO is always empty). */
	wr(u, 0x38, 1u << 5);
	CHECK_EQ(log.level, 1);
	wr(u, 0x38, 0);
	CHECK_EQ(log.level, 0);
	pl011_destroy(u);
}

TEST(rx_buffer_bounded)
{
	struct pl011 *u = pl011_create(-1, (struct irq_line){ 0 });
	uint8_t big[1024];
	memset(big, 'x', sizeof(big));
	size_t n = pl011_receive(u, big, sizeof(big));
	CHECK(n > 0 && n < sizeof(big));
	CHECK_EQ(pl011_receive(u, big, 1), 0);
	wr(u, 0x38, 1u << 4);
	CHECK_EQ(rd(u, 0), 'x');
	CHECK_EQ(pl011_receive(u, big, 1), 1);
	pl011_destroy(u);
}

TEST(hostile_accesses)
{
	struct pl011 *u = pl011_create(-1, (struct irq_line){ 0 });
	uint64_t v = 0;
	pl011_mmio_ops.read(u, 0xffc, &v, 8);
	pl011_mmio_ops.read(u, 0x1001, &v, 2);
	pl011_mmio_ops.write(u, 0x3, &v, 1);
	pl011_mmio_ops.write(u, 0x7fff, &v, 8);
	wr(u, 0x30, 0xffffffff);
	CHECK_EQ(rd(u, 0x30), 0xffff);
	pl011_destroy(u);
}
