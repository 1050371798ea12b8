/*
 * ARM PrimeCell PL011 UART, as much as Linux's amba-pl011 driver and its
 * earlycon use: TX goes straight to an fd (the FIFO is always empty), RX is
 * fed by the console with pl011_receive() and raises the RX interrupt, and
 * the PrimeCell ID registers let the AMBA bus match the driver.
 */
#ifndef PV_HW_PL011_H
#define PV_HW_PL011_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/irq.h"
#include "vmm/mmio_bus.h"

struct pl011;

/* out_fd receives the guest's output (-1: discard). */
struct pl011 *pl011_create(int out_fd, struct irq_line irq);
void pl011_destroy(struct pl011 *u);

/* Queues input for the guest; returns how many bytes fit. Thread-safe. */
size_t pl011_receive(struct pl011 *u, const uint8_t *buf, size_t len);

extern const struct mmio_ops pl011_mmio_ops;   /* opaque: struct pl011 * */

#endif
