/*
 * How a device raises its interrupt, independent of the backend: the VMM
 * gives each device an irq_line bound to the backend's injection call
 * (KVM_IRQ_LINE on KVM, hv_gic_set_spi on Hypervisor.framework).
 */
#ifndef PV_VMM_IRQ_H
#define PV_VMM_IRQ_H

#include <stdbool.h>

struct irq_line {
	void (*set_level)(void *opaque, unsigned irq, bool level);
	void *opaque;
	unsigned irq;   /* the SPI number as the device tree names it */
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l->set_level)
		l->set_level(l->opaque, l->irq, level);
}

#endif
