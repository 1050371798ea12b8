#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/fdt.h"
#include "arch/arm64/layout.h"
#include "../unit/test.h"

static void *build_default(int *size)
{
	struct arm64_fdt_config c = {
		.nr_cpus = 2,
		.ram_base = ARM64_RAM_BASE, .ram_size = 256ULL << 20,
		.bootargs = "console=ttyAMA0 root=/dev/vda",
		.initrd_gpa = 0x8e000000, .initrd_size = 0x123000,
		.nr_virtio = 2,
	};
	void *buf = malloc(64 << 10);
	*size = arm64_fdt_build(&c, buf, 64 << 10);
	return buf;
}

static const fdt32_t *cells(const void *fdt, const char *path, const char *prop, int *n)
{
	int node = fdt_path_offset(fdt, path);
	if (node < 0) {
		*n = 0;
		return NULL;
	}
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, prop, &len);
	*n = p ? len / 4 : 0;
	return p;
}

static const char *str(const void *fdt, const char *path, const char *prop)
{
	int node = fdt_path_offset(fdt, path);
	return node < 0 ? NULL : fdt_getprop(fdt, node, prop, NULL);
}

static uint64_t cell64(const fdt32_t *p, int i)
{
	return ((uint64_t)fdt32_to_cpu(p[i]) << 32) | fdt32_to_cpu(p[i + 1]);
}

TEST(valid_and_small)
{
	int size;
	void *fdt = build_default(&size);
	CHECK(size > 0);
	CHECK(size < 8192);
	CHECK_EQ(fdt_check_header(fdt), 0);
	CHECK_EQ((int)fdt_totalsize(fdt), size);
	free(fdt);
}

TEST(root_and_chosen)
{
	int size, n;
	void *fdt = build_default(&size);
	CHECK_EQ(fdt32_to_cpu(*cells(fdt, "/", "#address-cells", &n)), 2);
	CHECK_EQ(fdt32_to_cpu(*cells(fdt, "/", "#size-cells", &n)), 2);
	CHECK_EQ(fdt32_to_cpu(*cells(fdt, "/", "interrupt-parent", &n)), 1);
	CHECK(!strcmp(str(fdt, "/chosen", "bootargs"), "console=ttyAMA0 root=/dev/vda"));
	CHECK(!strcmp(str(fdt, "/chosen", "stdout-path"), "/pl011@9000000"));
	const fdt32_t *s = cells(fdt, "/chosen", "linux,initrd-start", &n);
	CHECK_EQ(n, 2);
	CHECK_EQ(cell64(s, 0), 0x8e000000);
	const fdt32_t *e = cells(fdt, "/chosen", "linux,initrd-end", &n);
	CHECK_EQ(cell64(e, 0), 0x8e123000);
	free(fdt);
}

TEST(memory_cpus_psci)
{
	int size, n;
	void *fdt = build_default(&size);
	const fdt32_t *reg = cells(fdt, "/memory@80000000", "reg", &n);
	CHECK_EQ(n, 4);
	CHECK_EQ(cell64(reg, 0), ARM64_RAM_BASE);
	CHECK_EQ(cell64(reg, 2), 256ULL << 20);
	CHECK(!strcmp(str(fdt, "/memory@80000000", "device_type"), "memory"));
	CHECK(!strcmp(str(fdt, "/cpus/cpu@0", "enable-method"), "psci"));
	CHECK(!strcmp(str(fdt, "/cpus/cpu@1", "enable-method"), "psci"));
	CHECK_EQ(fdt32_to_cpu(*cells(fdt, "/cpus/cpu@1", "reg", &n)), 1);
	CHECK(fdt_path_offset(fdt, "/cpus/cpu@2") < 0);
	CHECK(!strcmp(str(fdt, "/psci", "compatible"), "arm,psci-0.2"));
	CHECK(!strcmp(str(fdt, "/psci", "method"), "hvc"));
	free(fdt);
}

TEST(gic_timer_uart)
{
	int size, n;
	void *fdt = build_default(&size);
	CHECK(!strcmp(str(fdt, "/intc@8000000", "compatible"), "arm,gic-v3"));
	CHECK(fdt_getprop(fdt, fdt_path_offset(fdt, "/intc@8000000"), "interrupt-controller", NULL));
	const fdt32_t *reg = cells(fdt, "/intc@8000000", "reg", &n);
	CHECK_EQ(n, 8);
	CHECK_EQ(cell64(reg, 0), ARM64_GIC_DIST_BASE);
	CHECK_EQ(cell64(reg, 4), ARM64_GIC_REDIST_BASE);
	CHECK_EQ(cell64(reg, 6), 2 * ARM64_GIC_REDIST_CPU_SIZE);
	CHECK_EQ(fdt32_to_cpu(*cells(fdt, "/intc@8000000", "phandle", &n)), 1);

	const fdt32_t *t = cells(fdt, "/timer", "interrupts", &n);
	CHECK_EQ(n, 12);
	CHECK_EQ(fdt32_to_cpu(t[1]), 13);
	CHECK_EQ(fdt32_to_cpu(t[7]), 11);   /* virtual timer PPI */

	CHECK(!strcmp(str(fdt, "/pl011@9000000", "compatible"), "arm,pl011"));
	int node = fdt_path_offset(fdt, "/pl011@9000000");
	CHECK(fdt_node_check_compatible(fdt, node, "arm,primecell") == 0);
	const fdt32_t *irq = cells(fdt, "/pl011@9000000", "interrupts", &n);
	CHECK_EQ(n, 3);
	CHECK_EQ(fdt32_to_cpu(irq[0]), 0);              /* SPI */
	CHECK_EQ(fdt32_to_cpu(irq[1]), ARM64_UART_SPI);
	const fdt32_t *clk = cells(fdt, "/pl011@9000000", "clocks", &n);
	CHECK_EQ(n, 2);
	CHECK_EQ(fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(clk[0])),
		 fdt_path_offset(fdt, "/apb-pclk"));
	int len;
	const char *names = fdt_getprop(fdt, node, "clock-names", &len);
	CHECK(names && len == (int)sizeof("uartclk\0apb_pclk"));
	CHECK(names && !strcmp(names + 8, "apb_pclk"));
	free(fdt);
}

TEST(virtio_nodes)
{
	int size, n;
	void *fdt = build_default(&size);
	CHECK(!strcmp(str(fdt, "/virtio_mmio@a000000", "compatible"), "virtio,mmio"));
	const fdt32_t *reg = cells(fdt, "/virtio_mmio@a000200", "reg", &n);
	CHECK_EQ(n, 4);
	CHECK_EQ(cell64(reg, 0), 0x0a000200);
	CHECK_EQ(cell64(reg, 2), 0x200);
	const fdt32_t *irq = cells(fdt, "/virtio_mmio@a000200", "interrupts", &n);
	CHECK_EQ(n, 3);
	CHECK_EQ(fdt32_to_cpu(irq[0]), 0);
	CHECK_EQ(fdt32_to_cpu(irq[1]), ARM64_VIRTIO_SPI_BASE + 1);
	CHECK_EQ(fdt32_to_cpu(irq[2]), 1);              /* edge rising */
	CHECK(fdt_getprop(fdt, fdt_path_offset(fdt, "/virtio_mmio@a000200"), "dma-coherent", NULL));
	CHECK(fdt_path_offset(fdt, "/virtio_mmio@a000400") < 0);
	free(fdt);
}

TEST(no_initrd_no_bootargs)
{
	struct arm64_fdt_config c = {
		.nr_cpus = 1, .ram_base = ARM64_RAM_BASE, .ram_size = 64ULL << 20,
	};
	char buf[16384];
	CHECK(arm64_fdt_build(&c, buf, sizeof(buf)) > 0);
	CHECK(fdt_getprop(buf, fdt_path_offset(buf, "/chosen"), "linux,initrd-start", NULL) == NULL);
	CHECK(fdt_getprop(buf, fdt_path_offset(buf, "/chosen"), "bootargs", NULL) == NULL);
	CHECK(fdt_path_offset(buf, "/virtio_mmio@a000000") < 0);
}

TEST(limits)
{
	struct arm64_fdt_config c = {
		.nr_cpus = 2, .ram_base = ARM64_RAM_BASE, .ram_size = 64ULL << 20,
	};
	char small[256];
	CHECK_EQ(arm64_fdt_build(&c, small, sizeof(small)), -FDT_ERR_NOSPACE);
	char buf[65536];
	c.nr_cpus = 0;
	CHECK(arm64_fdt_build(&c, buf, sizeof(buf)) < 0);
	c.nr_cpus = ARM64_MAX_CPUS;
	CHECK(arm64_fdt_build(&c, buf, sizeof(buf)) > 0);
	/* vCPU 17 has MPIDR Aff1=1 Aff0=1, as KVM assigns it. */
	CHECK(fdt_path_offset(buf, "/cpus/cpu@101") >= 0);
	c.nr_virtio = ARM64_VIRTIO_MAX + 1;
	CHECK(arm64_fdt_build(&c, buf, sizeof(buf)) < 0);
}
