/*
 * The MMIO bus: devices register a window of guest physical address space
 * and get called for every trapped access in it. Dispatch is by address
 * only, so the same devices serve the KVM backend and, later, a
 * Hypervisor.framework backend that decodes data aborts itself.
 */
#ifndef PV_VMM_MMIO_BUS_H
#define PV_VMM_MMIO_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

struct mmio_ops {
	/* off is relative to the window base; len is 1, 2, 4 or 8. A read
	 * fills *data (little-endian value in the low bytes). */
	void (*read)(void *opaque, uint64_t off, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t off, const void *data, unsigned len);
};

struct mmio_window {
	uint64_t base, size;
	const struct mmio_ops *ops;
	void *opaque;
};

#define MMIO_BUS_MAX_WINDOWS 64

struct mmio_bus {
	unsigned nr;
	struct mmio_window win[MMIO_BUS_MAX_WINDOWS];
};

/* Returns 0, -EEXIST on overlap, -ENOSPC when full. */
int mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		      const struct mmio_ops *ops, void *opaque);

/* Returns false when no device claims the address (reads then yield 0). */
bool mmio_bus_access(struct mmio_bus *bus, uint64_t addr, void *data,
		     unsigned len, bool is_write);

#endif
