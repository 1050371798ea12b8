#include <string.h>

#include "arch/arm64/layout.h"
#include "../unit/test.h"

TEST(map_does_not_overlap)
{
	/* Devices, in address order, must not run into each other or RAM. */
	CHECK(ARM64_GIC_DIST_BASE + ARM64_GIC_DIST_SIZE <= ARM64_GIC_REDIST_BASE);
	CHECK(ARM64_GIC_REDIST_BASE + arm64_gic_redist_size(ARM64_MAX_CPUS) <= ARM64_UART_BASE);
	CHECK(ARM64_UART_BASE + ARM64_UART_SIZE <= ARM64_VIRTIO_BASE);
	CHECK(arm64_virtio_base(ARM64_VIRTIO_MAX) <= ARM64_RAM_BASE);
	CHECK(ARM64_RAM_BASE % ARM64_RAM_ALIGN == 0);
	CHECK(arm64_virtio_spi(ARM64_VIRTIO_MAX - 1) + 32 < ARM64_GIC_NR_IRQS);
	CHECK(ARM64_UART_SPI < ARM64_VIRTIO_SPI_BASE);
	CHECK(ARM64_GIC_NR_IRQS % 32 == 0);
	CHECK(ARM64_RAM_BASE + ARM64_MAX_RAM <= (512ULL << 30));
}

TEST(typical_placement)
{
	struct arm64_boot_layout l;
	char err[200] = "";
	uint64_t ram = 512ULL << 20;
	CHECK_EQ(arm64_layout_plan(ram, 0, 40 << 20, 30 << 20, &l, err, sizeof(err)), 0);
	CHECK_EQ(l.kernel_gpa, ARM64_RAM_BASE);
	CHECK_EQ(l.dtb_gpa, ARM64_RAM_BASE + ram - (2 << 20));
	CHECK_EQ(l.dtb_gpa % (2 << 20), 0);
	CHECK_EQ(l.initrd_gpa % 4096, 0);
	CHECK(l.initrd_gpa + l.initrd_size <= l.dtb_gpa);
	CHECK(l.kernel_gpa + l.kernel_size <= l.initrd_gpa);
}

TEST(text_offset_respected)
{
	struct arm64_boot_layout l;
	char err[200];
	CHECK_EQ(arm64_layout_plan(64ULL << 20, 0x80000, 1 << 20, 0, &l, err, sizeof(err)), 0);
	CHECK_EQ(l.kernel_gpa, ARM64_RAM_BASE + 0x80000);
	CHECK_EQ(l.initrd_size, 0);
}

TEST(too_small)
{
	struct arm64_boot_layout l;
	char err[200] = "";
	/* Kernel + initrd larger than RAM minus the DTB window. */
	CHECK_EQ(arm64_layout_plan(64ULL << 20, 0, 40 << 20, 30 << 20, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "do not fit") != NULL);
	CHECK_EQ(arm64_layout_plan(64ULL << 20, 0, 1 << 20, 63 << 20, &l, err, sizeof(err)), -1);
	CHECK_EQ(arm64_layout_plan(64ULL << 20, 0, 100 << 20, 0, &l, err, sizeof(err)), -1);
	CHECK_EQ(arm64_layout_plan(32ULL << 20, 0, 1 << 20, 0, &l, err, sizeof(err)), -1);
	CHECK_EQ(arm64_layout_plan((64ULL << 20) + 4096, 0, 1 << 20, 0, &l, err, sizeof(err)), -1);
	CHECK_EQ(arm64_layout_plan(64ULL << 20, 0, 1 << 20, UINT64_MAX, &l, err, sizeof(err)), -1);
}

TEST(mpidr_matches_kvm)
{
	CHECK_EQ(arm64_vcpu_mpidr(0), 0);
	CHECK_EQ(arm64_vcpu_mpidr(15), 15);
	CHECK_EQ(arm64_vcpu_mpidr(16), 0x100);
	CHECK_EQ(arm64_vcpu_mpidr(63), 0x30f);
}
