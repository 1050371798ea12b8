#include "vmm/mmio_bus.h"

#include <errno.h>
#include <string.h>

int mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		      const struct mmio_ops *ops, void *opaque)
{
	if (!size || base + size < base)
		return -EINVAL;
	for (unsigned i = 0; i < bus->nr; i++) {
		const struct mmio_window *w = &bus->win[i];
		if (base < w->base + w->size && w->base < base + size)
			return -EEXIST;
	}
	if (bus->nr == MMIO_BUS_MAX_WINDOWS)
		return -ENOSPC;
	bus->win[bus->nr++] = (struct mmio_window){ base, size, ops, opaque };
	return 0;
}

bool mmio_bus_access(struct mmio_bus *bus, uint64_t addr, void *data,
		     unsigned len, bool is_write)
{
	for (unsigned i = 0; i < bus->nr; i++) {
		const struct mmio_window *w = &bus->win[i];
		if (addr < w->base || addr - w->base >= w->size)
			continue;
		/* An access straddling the window end is the guest's bug; give
		 * the device the in-window offset and let it bound the length. */
		if (is_write)
			w->ops->write(w->opaque, addr - w->base, data, len);
		else
			w->ops->read(w->opaque, addr - w->base, data, len);
		return true;
	}
	if (!is_write)
		memset(data, 0, len);
	return false;
}
