/*
 * The device tree handed to an arm64 guest: CPUs (PSCI), memory, GICv3,
 * architected timer, PL011 (with the fixed APB clock the AMBA bus needs),
 * /chosen, and one virtio,mmio node per transport.
 */
#ifndef PV_ARCH_ARM64_FDT_H
#define PV_ARCH_ARM64_FDT_H

#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/layout.h"

struct arm64_fdt_config {
	unsigned nr_cpus;
	uint64_t ram_base, ram_size;
	const char *bootargs;            /* may be NULL */
	uint64_t initrd_gpa, initrd_size; /* size 0: no initrd */
	unsigned nr_virtio;              /* transports n = 0..nr_virtio-1 at
					  * arm64_virtio_base(n), SPI
					  * arm64_virtio_spi(n) */
};

/* Builds the DTB into buf (at most bufsize bytes). Returns its size, or a
 * negative libfdt error (-FDT_ERR_NOSPACE when it does not fit). */
int arm64_fdt_build(const struct arm64_fdt_config *cfg, void *buf, size_t bufsize);

#endif
