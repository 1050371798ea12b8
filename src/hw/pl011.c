#include "hw/pl011.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Register offsets and bits (ARM DDI 0183). */
#define UART_DR     0x000
#define UART_RSR    0x004
#define UART_FR     0x018
#define UART_ILPR   0x020
#define UART_IBRD   0x024
#define UART_FBRD   0x028
#define UART_LCR_H  0x02c
#define UART_CR     0x030
#define UART_IFLS   0x034
#define UART_IMSC   0x038
#define UART_RIS    0x03c
#define UART_MIS    0x040
#define UART_ICR    0x044
#define UART_DMACR  0x048
#define UART_ID     0xfe0   /* PeriphID0-3, then PCellID0-3 at 0xff0 */

#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define FR_TXFE (1u << 7)

#define INT_RX  (1u << 4)
#define INT_TX  (1u << 5)
#define INT_RT  (1u << 6)
#define INT_ALL 0x7ffu

/* Part 0x011, designer ARM (0x41), revision r1p5 (3: 32-byte FIFOs). */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

#define RX_BUF 256

struct pl011 {
	pthread_mutex_t lock;
	int out_fd;
	struct irq_line irq;
	bool irq_level;
	uint32_t ibrd, fbrd, lcr_h, cr, ifls, imsc, dmacr, ilpr;
	uint32_t ris_latched;      /* interrupts cleared only by ICR */
	uint8_t rx[RX_BUF];
	unsigned rx_head, rx_count;
};

/*
 * Host input is a line, not a FIFO: it becomes visible to the guest only
 * while the guest has RX interrupts unmasked. Linux drains the RX FIFO
 * before it unmasks them when it opens the port (pl011_enable_interrupts),
 * and masks them to throttle; without this, input sent before the guest's
 * shell is up (a script piped to stdin) would be thrown away.
 */
static unsigned rx_visible(const struct pl011 *u)
{
	return (u->imsc & (INT_RX | INT_RT)) ? u->rx_count : 0;
}

/* TX is level-like: our FIFO is always empty, so TXRIS stays set and the
 * driver masks it when it has nothing to send. RX is set while data waits. */
static uint32_t ris(const struct pl011 *u)
{
	uint32_t r = u->ris_latched | INT_TX;
	if (rx_visible(u))
		r |= INT_RX | INT_RT;
	return r;
}

/* Called with the lock held; the backend call is cheap and ordered. */
static void update_irq(struct pl011 *u)
{
	bool level = (ris(u) & u->imsc) != 0;
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, level);
	}
}

struct pl011 *pl011_create(int out_fd, struct irq_line irq)
{
	struct pl011 *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	u->out_fd = out_fd;
	u->irq = irq;
	u->cr = 0x300;       /* TXE | RXE, the reset value */
	u->ifls = 0x12;
	return u;
}

void pl011_destroy(struct pl011 *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

size_t pl011_receive(struct pl011 *u, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&u->lock);
	size_t n = 0;
	while (n < len && u->rx_count < RX_BUF) {
		u->rx[(u->rx_head + u->rx_count) % RX_BUF] = buf[n++];
		u->rx_count++;
	}
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static void tx(struct pl011 *u, uint8_t c)
{
	if (u->out_fd < 0)
		return;
	/* Blocking write: a slow terminal throttles the guest, as a real UART
	 * would, rather than losing output. */
	for (;;) {
		ssize_t w = write(u->out_fd, &c, 1);
		if (w == 1 || (w < 0 && errno != EINTR))
			return;
	}
}

static uint32_t reg_read(struct pl011 *u, uint64_t off)
{
	switch (off) {
	case UART_DR: {
		if (!rx_visible(u))
			return 0;
		uint32_t c = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % RX_BUF;
		u->rx_count--;
		update_irq(u);
		return c;
	}
	case UART_RSR:   return 0;
	case UART_FR:    return FR_TXFE | (rx_visible(u) ? 0 : FR_RXFE);
	case UART_ILPR:  return u->ilpr;
	case UART_IBRD:  return u->ibrd;
	case UART_FBRD:  return u->fbrd;
	case UART_LCR_H: return u->lcr_h;
	case UART_CR:    return u->cr;
	case UART_IFLS:  return u->ifls;
	case UART_IMSC:  return u->imsc;
	case UART_RIS:   return ris(u);
	case UART_MIS:   return ris(u) & u->imsc;
	case UART_DMACR: return u->dmacr;
	}
	if (off >= UART_ID && off < UART_ID + 0x20 && !(off & 3))
		return pl011_id[(off - UART_ID) / 4];
	return 0;
}

static void reg_write(struct pl011 *u, uint64_t off, uint32_t v)
{
	switch (off) {
	case UART_DR:
		tx(u, (uint8_t)v);
		break;
	case UART_RSR:   break;   /* error clear: we have no errors */
	case UART_ILPR:  u->ilpr = v & 0xff; break;
	case UART_IBRD:  u->ibrd = v & 0xffff; break;
	case UART_FBRD:  u->fbrd = v & 0x3f; break;
	case UART_LCR_H: u->lcr_h = v & 0xff; break;
	case UART_CR:    u->cr = v & 0xffff; break;
	case UART_IFLS:  u->ifls = v & 0x3f; break;
	case UART_IMSC:  u->imsc = v & INT_ALL; update_irq(u); break;
	case UART_ICR:   u->ris_latched &= ~v; update_irq(u); break;
	case UART_DMACR: u->dmacr = v & 0x7; break;
	default: break;   /* read-only or unknown: ignored */
	}
}

static void pl011_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pl011 *u = opaque;
	pthread_mutex_lock(&u->lock);
	uint32_t v = reg_read(u, off & ~3ULL);
	pthread_mutex_unlock(&u->lock);
	uint64_t wide = v >> ((off & 3) * 8);
	memcpy(data, &wide, len > 8 ? 8 : len);   /* little-endian host */
}

static void pl011_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pl011 *u = opaque;
	uint64_t wide = 0;
	memcpy(&wide, data, len > 8 ? 8 : len);
	/* Registers are 32-bit; a narrower store to a register's base (earlycon
	 * writes DR with strb) is taken as the low bits. */
	if (off & 3)
		return;
	pthread_mutex_lock(&u->lock);
	reg_write(u, off, (uint32_t)wide);
	pthread_mutex_unlock(&u->lock);
}

const struct mmio_ops pl011_mmio_ops = {
	.read = pl011_read,
	.write = pl011_write,
};
