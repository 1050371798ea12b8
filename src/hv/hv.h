/*
 * Hypervisor backend interface. The VMM core (devices, machine model, run
 * loop) sees only this; each backend turns its native exits into struct
 * hv_exit. KVM reports MMIO as decoded accesses; Hypervisor.framework
 * reports raw data aborts, which its backend decodes (ESR ISV/SAS/SRT/WnR)
 * and completes itself (write the load's register, advance PC by 4), so the
 * core never learns the difference.
 *
 * Threading contract (set by Hypervisor.framework, which binds a vCPU to
 * the thread that creates it): hv_vcpu_create, hv_vcpu_set_reg and
 * hv_vcpu_run are called on the vCPU's own thread; hv_vcpu_kick and
 * hv_irq_set from any thread.
 */
#ifndef PV_HV_HV_H
#define PV_HV_HV_H

#include <stdbool.h>
#include <stdint.h>

struct hv_vm;
struct hv_vcpu;

/* What the machine model tells the backend before any vCPU exists. */
struct hv_vm_config {
	unsigned nr_vcpus;
	uint64_t max_gpa;          /* highest guest physical address + 1 */
	/* In-kernel GICv3 (KVM vgic-v3, HVF hv_gic_create). */
	uint64_t gic_dist_base;
	uint64_t gic_redist_base;  /* one 128 KiB frame pair per vCPU */
	unsigned gic_nr_irqs;      /* SGIs+PPIs+SPIs, a multiple of 32 */
};

enum hv_exit_reason {
	HV_EXIT_MMIO,           /* see exit.mmio */
	HV_EXIT_SYSTEM_OFF,     /* PSCI SYSTEM_OFF */
	HV_EXIT_SYSTEM_RESET,   /* PSCI SYSTEM_RESET */
	HV_EXIT_SYSTEM_CRASH,   /* the guest reported a crash (PSCI/pvpanic) */
	HV_EXIT_INTERRUPTED,    /* hv_vcpu_kick or a signal: check for stop */
	HV_EXIT_INTERNAL_ERROR, /* vCPU unusable; exit.error says why */
};

struct hv_exit {
	enum hv_exit_reason reason;
	union {
		struct {
			uint64_t addr;
			uint8_t data[8];  /* little-endian; for a read, the
					   * caller fills it before the next
					   * hv_vcpu_run, which completes it */
			unsigned len;     /* 1, 2, 4 or 8 */
			bool is_write;
		} mmio;
		struct {
			char msg[160];
		} error;
	};
};

/* Registers the boot protocol needs; backends map them to their own ids. */
enum hv_reg {
	HV_REG_X0, HV_REG_X1, HV_REG_X2, HV_REG_X3,
	HV_REG_PC,
	HV_REG_PSTATE,
};

/* Name of the compiled-in backend ("kvm", "hvf", "none"). */
const char *hv_backend_name(void);

/* Creates the VM and its interrupt controller. Returns 0 or -errno and logs
 * the reason (e.g. no backend for this host, /dev/kvm missing). */
int hv_vm_create(const struct hv_vm_config *cfg, struct hv_vm **out);
void hv_vm_destroy(struct hv_vm *vm);

/* Maps host memory [host, host+size) at guest physical gpa as RAM. */
int hv_vm_map(struct hv_vm *vm, uint64_t gpa, void *host, uint64_t size);

/* Called once every vCPU exists and before any runs (KVM: vgic CTRL_INIT). */
int hv_vm_finalize(struct hv_vm *vm);

/* Drives an SPI (numbered as in the device tree: INTID 32 + spi). */
int hv_irq_set(struct hv_vm *vm, unsigned spi, bool level);

/* vCPU 0 starts running at its PC; the others start powered off and are
 * started by the guest through PSCI CPU_ON. */
int hv_vcpu_create(struct hv_vm *vm, unsigned index, struct hv_vcpu **out);
void hv_vcpu_destroy(struct hv_vcpu *vcpu);
int hv_vcpu_set_reg(struct hv_vcpu *vcpu, enum hv_reg reg, uint64_t value);
int hv_vcpu_get_reg(struct hv_vcpu *vcpu, enum hv_reg reg, uint64_t *value);

/* Runs until the next exit that needs the VMM. Returns 0 with *exit filled,
 * or -errno when the backend itself failed. */
int hv_vcpu_run(struct hv_vcpu *vcpu, struct hv_exit *exit);

/* Makes a running (or about to run) vCPU return HV_EXIT_INTERRUPTED soon.
 * Async-safe with respect to hv_vcpu_run on another thread. */
void hv_vcpu_kick(struct hv_vcpu *vcpu);

#endif
