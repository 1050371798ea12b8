#include "arch/arm64/layout.h"

#include <stdio.h>

#define MIB(x) ((unsigned long long)(((x) + (1ULL << 20) - 1) >> 20))

int arm64_layout_plan(uint64_t ram_size, uint64_t text_offset, uint64_t image_size,
		      uint64_t initrd_size, struct arm64_boot_layout *out,
		      char *err, size_t errlen)
{
	*out = (struct arm64_boot_layout){ .ram_base = ARM64_RAM_BASE, .ram_size = ram_size };
	if (ram_size < ARM64_MIN_RAM || ram_size > ARM64_MAX_RAM ||
	    ram_size % ARM64_RAM_ALIGN) {
		snprintf(err, errlen, "memory size must be a multiple of 2 MiB "
			 "between %llu MiB and %llu GiB",
			 MIB(ARM64_MIN_RAM), (unsigned long long)(ARM64_MAX_RAM >> 30));
		return -1;
	}
	/* Values come from the image header: keep every sum overflow-free. */
	if (text_offset >= ram_size || image_size > ram_size) {
		snprintf(err, errlen, "kernel (%llu MiB) does not fit in %llu MiB of memory",
			 MIB(image_size), MIB(ram_size));
		return -1;
	}
	uint64_t ram_end = ARM64_RAM_BASE + ram_size;
	out->kernel_gpa = ARM64_RAM_BASE + text_offset;
	out->kernel_size = image_size;
	out->dtb_gpa = ram_end - ARM64_DTB_MAX_SIZE;
	uint64_t kernel_end = out->kernel_gpa + image_size;
	uint64_t payload_top = out->dtb_gpa;
	if (initrd_size) {
		if (initrd_size > payload_top - ARM64_RAM_BASE) {
			snprintf(err, errlen, "initrd (%llu MiB) does not fit in %llu MiB of memory",
				 MIB(initrd_size), MIB(ram_size));
			return -1;
		}
		out->initrd_gpa = (payload_top - initrd_size) & ~0xfffULL;
		out->initrd_size = initrd_size;
		payload_top = out->initrd_gpa;
	}
	if (kernel_end > payload_top) {
		snprintf(err, errlen, "kernel (%llu MiB)%s and device tree do not fit in "
			 "%llu MiB of memory", MIB(image_size),
			 initrd_size ? ", initrd" : "", MIB(ram_size));
		return -1;
	}
	return 0;
}
