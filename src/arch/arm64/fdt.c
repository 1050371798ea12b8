#include "arch/arm64/fdt.h"

#include <libfdt.h>
#include <stdio.h>

#define PHANDLE_GIC    1
#define PHANDLE_APBCLK 2

/* Interrupt specifier cells for arm,gic-v3 (bindings/interrupt-controller/arm,gic-v3.yaml). */
#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_EDGE_RISING 1
#define IRQ_LEVEL_HIGH  4

/* Every fdt_* call below returns 0 or a negative error; stop at the first. */
#define TRY(x) do { int _r = (x); if (_r < 0) return _r; } while (0)

static int prop_cells(void *fdt, const char *name, const uint32_t *cells, unsigned n)
{
	fdt32_t be[16];
	if (n > 16)
		return -FDT_ERR_BADVALUE;
	for (unsigned i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return fdt_property(fdt, name, be, (int)(n * sizeof(fdt32_t)));
}

/* A reg pair with #address-cells = #size-cells = 2. */
static int prop_reg64(void *fdt, const uint64_t *vals, unsigned n)
{
	fdt64_t be[8];
	if (n > 8)
		return -FDT_ERR_BADVALUE;
	for (unsigned i = 0; i < n; i++)
		be[i] = cpu_to_fdt64(vals[i]);
	return fdt_property(fdt, "reg", be, (int)(n * sizeof(fdt64_t)));
}

/* fdt_property_string lacks a list form: NUL-separated strings. */
static int prop_strings(void *fdt, const char *name, const char *const *s, unsigned n)
{
	char buf[256];
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%s", s[i]);
		if (w < 0 || (size_t)w + 1 > sizeof(buf) - len)
			return -FDT_ERR_BADVALUE;
		len += (size_t)w + 1;
	}
	return fdt_property(fdt, name, buf, (int)len);
}

static int add_cpus(void *fdt, unsigned nr_cpus)
{
	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 1));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned i = 0; i < nr_cpus; i++) {
		char name[32];
		uint64_t mpidr = arm64_vcpu_mpidr(i);
		snprintf(name, sizeof(name), "cpu@%llx", (unsigned long long)mpidr);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		TRY(fdt_property_u32(fdt, "reg", (uint32_t)mpidr));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_gic(void *fdt, unsigned nr_cpus)
{
	char name[32];
	snprintf(name, sizeof(name), "intc@%llx", ARM64_GIC_DIST_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	const uint64_t reg[] = {
		ARM64_GIC_DIST_BASE, ARM64_GIC_DIST_SIZE,
		ARM64_GIC_REDIST_BASE, arm64_gic_redist_size(nr_cpus),
	};
	TRY(prop_reg64(fdt, reg, 4));
	/* Maintenance interrupt: PPI 9. */
	const uint32_t irq[] = { GIC_PPI, 9, IRQ_LEVEL_HIGH };
	TRY(prop_cells(fdt, "interrupts", irq, 3));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_GIC));
	return fdt_end_node(fdt);
}

static int add_timer(void *fdt)
{
	TRY(fdt_begin_node(fdt, "timer"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	/* Secure, non-secure, virtual and hypervisor timer PPIs. */
	const uint32_t irqs[] = {
		GIC_PPI, 13, IRQ_LEVEL_HIGH, GIC_PPI, 14, IRQ_LEVEL_HIGH,
		GIC_PPI, 11, IRQ_LEVEL_HIGH, GIC_PPI, 10, IRQ_LEVEL_HIGH,
	};
	TRY(prop_cells(fdt, "interrupts", irqs, 12));
	TRY(fdt_property(fdt, "always-on", NULL, 0));
	return fdt_end_node(fdt);
}

static int add_uart(void *fdt)
{
	/* The AMBA bus will not probe a primecell without its apb_pclk. */
	TRY(fdt_begin_node(fdt, "apb-pclk"));
	TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
	TRY(fdt_property_u32(fdt, "#clock-cells", 0));
	TRY(fdt_property_u32(fdt, "clock-frequency", 24000000));
	TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_u32(fdt, "phandle", PHANDLE_APBCLK));
	TRY(fdt_end_node(fdt));

	char name[32];
	snprintf(name, sizeof(name), "pl011@%llx", ARM64_UART_BASE);
	TRY(fdt_begin_node(fdt, name));
	const char *const compat[] = { "arm,pl011", "arm,primecell" };
	TRY(prop_strings(fdt, "compatible", compat, 2));
	const uint64_t reg[] = { ARM64_UART_BASE, ARM64_UART_SIZE };
	TRY(prop_reg64(fdt, reg, 2));
	const uint32_t irq[] = { GIC_SPI, ARM64_UART_SPI, IRQ_LEVEL_HIGH };
	TRY(prop_cells(fdt, "interrupts", irq, 3));
	const uint32_t clocks[] = { PHANDLE_APBCLK, PHANDLE_APBCLK };
	TRY(prop_cells(fdt, "clocks", clocks, 2));
	const char *const clock_names[] = { "uartclk", "apb_pclk" };
	TRY(prop_strings(fdt, "clock-names", clock_names, 2));
	return fdt_end_node(fdt);
}

static int add_virtio(void *fdt, unsigned n)
{
	char name[40];
	snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)arm64_virtio_base(n));
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
	const uint64_t reg[] = { arm64_virtio_base(n), ARM64_VIRTIO_STRIDE };
	TRY(prop_reg64(fdt, reg, 2));
	const uint32_t irq[] = { GIC_SPI, arm64_virtio_spi(n), IRQ_EDGE_RISING };
	TRY(prop_cells(fdt, "interrupts", irq, 3));
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	return fdt_end_node(fdt);
}

static int build(const struct arm64_fdt_config *cfg, void *fdt, size_t bufsize)
{
	if (cfg->nr_cpus == 0 || cfg->nr_cpus > ARM64_MAX_CPUS ||
	    cfg->nr_virtio > ARM64_VIRTIO_MAX || bufsize > INT32_MAX)
		return -FDT_ERR_BADVALUE;
	TRY(fdt_create(fdt, (int)bufsize));
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	TRY(fdt_property_string(fdt, "model", "pearvisor"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_GIC));

	TRY(fdt_begin_node(fdt, "chosen"));
	if (cfg->bootargs)
		TRY(fdt_property_string(fdt, "bootargs", cfg->bootargs));
	char uart[32];
	snprintf(uart, sizeof(uart), "/pl011@%llx", ARM64_UART_BASE);
	TRY(fdt_property_string(fdt, "stdout-path", uart));
	if (cfg->initrd_size) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", cfg->initrd_gpa));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", cfg->initrd_gpa + cfg->initrd_size));
	}
	TRY(fdt_end_node(fdt));

	char mem[32];
	snprintf(mem, sizeof(mem), "memory@%llx", (unsigned long long)cfg->ram_base);
	TRY(fdt_begin_node(fdt, mem));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	const uint64_t reg[] = { cfg->ram_base, cfg->ram_size };
	TRY(prop_reg64(fdt, reg, 2));
	TRY(fdt_end_node(fdt));

	TRY(add_cpus(fdt, cfg->nr_cpus));

	TRY(fdt_begin_node(fdt, "psci"));
	const char *const psci[] = { "arm,psci-0.2", "arm,psci" };
	TRY(prop_strings(fdt, "compatible", psci, 2));
	TRY(fdt_property_string(fdt, "method", "hvc"));
	TRY(fdt_end_node(fdt));

	TRY(add_gic(fdt, cfg->nr_cpus));
	TRY(add_timer(fdt));
	TRY(add_uart(fdt));
	for (unsigned i = 0; i < cfg->nr_virtio; i++)
		TRY(add_virtio(fdt, i));

	TRY(fdt_end_node(fdt));
	TRY(fdt_finish(fdt));
	return fdt_totalsize(fdt);
}

int arm64_fdt_build(const struct arm64_fdt_config *cfg, void *buf, size_t bufsize)
{
	return build(cfg, buf, bufsize);
}
