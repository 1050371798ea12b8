/*
 * The arm64 machine's guest physical memory map and boot placement.
 *
 *   0x0800_0000  GICv3 distributor            64 KiB
 *   0x080a_0000  GICv3 redistributors         128 KiB per vCPU (max 64)
 *   0x0900_0000  PL011 UART                   4 KiB, SPI 1
 *   0x0a00_0000  virtio-mmio transports       0x200 each (max 32), SPI 16+n
 *   0x8000_0000  RAM                          --memory bytes
 *
 * Devices sit below 2 GiB like QEMU's virt machine, so a guest that knows
 * that machine finds nothing surprising; RAM starts 2 MiB aligned.
 */
#ifndef PV_ARCH_ARM64_LAYOUT_H
#define PV_ARCH_ARM64_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define ARM64_GIC_DIST_BASE         0x08000000ULL
#define ARM64_GIC_DIST_SIZE         0x10000ULL
#define ARM64_GIC_REDIST_BASE       0x080a0000ULL
#define ARM64_GIC_REDIST_CPU_SIZE   0x20000ULL
#define ARM64_GIC_NR_IRQS           128u    /* 32 private + 96 SPIs */

#define ARM64_UART_BASE             0x09000000ULL
#define ARM64_UART_SIZE             0x1000ULL
#define ARM64_UART_SPI              1u

#define ARM64_VIRTIO_BASE           0x0a000000ULL
#define ARM64_VIRTIO_STRIDE         0x200ULL
#define ARM64_VIRTIO_MAX            32u
#define ARM64_VIRTIO_SPI_BASE       16u

#define ARM64_RAM_BASE              0x80000000ULL

#define ARM64_MAX_CPUS              64u
#define ARM64_MIN_RAM               (64ULL << 20)
#define ARM64_MAX_RAM               (256ULL << 30)  /* keeps the DTB < 512 GiB */
#define ARM64_RAM_ALIGN             (2ULL << 20)

#define ARM64_DTB_MAX_SIZE          (2ULL << 20)    /* booting.rst limit */

static inline uint64_t arm64_virtio_base(unsigned n)
{
	return ARM64_VIRTIO_BASE + n * ARM64_VIRTIO_STRIDE;
}

static inline unsigned arm64_virtio_spi(unsigned n)
{
	return ARM64_VIRTIO_SPI_BASE + n;
}

static inline uint64_t arm64_gic_redist_size(unsigned nr_cpus)
{
	return nr_cpus * ARM64_GIC_REDIST_CPU_SIZE;
}

/* The MPIDR_EL1 affinity KVM gives vCPU `index` (Aff0 holds 16 CPUs so a
 * GICv3 target list can address them); the FDT cpu@ reg must match it. */
static inline uint64_t arm64_vcpu_mpidr(unsigned index)
{
	return (uint64_t)(index & 0xf) | ((uint64_t)((index >> 4) & 0xff) << 8) |
	       ((uint64_t)((index >> 12) & 0xff) << 16);
}

/* Where the boot payload goes in RAM. */
struct arm64_boot_layout {
	uint64_t ram_base, ram_size;
	uint64_t kernel_gpa;       /* load address = entry point */
	uint64_t kernel_size;      /* image_size: includes BSS */
	uint64_t initrd_gpa, initrd_size;   /* size 0: none */
	uint64_t dtb_gpa;          /* DTB window: ARM64_DTB_MAX_SIZE bytes */
};

/*
 * Plans the placement: kernel at the 2 MiB aligned RAM base + text_offset,
 * DTB in the top 2 MiB of RAM, initrd page-aligned right below it. Returns 0,
 * or -1 with a message in err when the payload does not fit.
 */
int arm64_layout_plan(uint64_t ram_size, uint64_t text_offset, uint64_t image_size,
		      uint64_t initrd_size, struct arm64_boot_layout *out,
		      char *err, size_t errlen);

#endif
