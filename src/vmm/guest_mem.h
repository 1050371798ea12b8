/*
 * Guest physical memory as the VMM sees it: a few RAM regions, each mapped
 * once in the VMM's address space. Every access a device makes on behalf of
 * the guest goes through guest_mem_ptr(), which refuses any range that is not
 * wholly inside one region: guest-supplied addresses and lengths are hostile.
 */
#ifndef PV_VMM_GUEST_MEM_H
#define PV_VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 8

struct guest_mem_region {
	uint64_t gpa;      /* guest physical base */
	uint64_t size;
	void *host;        /* VMM mapping of the region */
};

struct guest_mem {
	unsigned nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/* Host pointer for [gpa, gpa+len), or NULL when the range leaves guest RAM. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copy helpers; return 0, or -EFAULT when the range is not guest RAM. */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);

#endif
