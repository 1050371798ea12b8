/*
 * KVM backend for arm64 hosts: one VM fd, an in-kernel GICv3 (vgic-v3), a
 * vCPU fd per vCPU with PSCI 0.2 handled by KVM (secondaries start powered
 * off; CPU_ON never reaches us). Exits are normalized into struct hv_exit.
 */
#include "hv/hv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os/log.h"

/* The signal that knocks a vCPU thread out of KVM_RUN. */
#define HV_KICK_SIGNAL SIGUSR1

#define HV_KVM_MAX_SLOTS 8

struct hv_vm {
	int kvm_fd, vm_fd, gic_fd;
	int run_size;
	unsigned nr_vcpus, nr_slots;
	struct kvm_vcpu_init init;   /* preferred target, from the VM */
};

struct hv_vcpu {
	struct hv_vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool pending_mmio_read;
};

const char *hv_backend_name(void) { return "kvm"; }

static void kick_handler(int sig) { (void)sig; }

/* Installed once per process: without a handler the kick would kill us, and
 * without SA_RESTART left out KVM_RUN would not return -EINTR. */
static int install_kick_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	return sigaction(HV_KICK_SIGNAL, &sa, NULL);
}

static int gic_attr(int fd, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = {
		.group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)val,
	};
	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static unsigned ipa_bits_for(uint64_t max_gpa)
{
	unsigned bits = 32;    /* KVM's minimum */
	while (bits < 64 && (max_gpa - 1) >> bits)
		bits++;
	return bits;
}

static int create_gic(struct hv_vm *vm, const struct hv_vm_config *cfg)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0) {
		int e = -errno;
		pv_err("kvm: cannot create an in-kernel GICv3 (%s); this host "
		       "has no vgic-v3", strerror(errno));
		return e;
	}
	vm->gic_fd = (int)cd.fd;
	uint64_t dist = cfg->gic_dist_base, redist = cfg->gic_redist_base;
	uint32_t nr_irqs = cfg->gic_nr_irqs;
	int r;
	if ((r = gic_attr(vm->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			  KVM_VGIC_V3_ADDR_TYPE_DIST, &dist)) ||
	    (r = gic_attr(vm->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			  KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist)) ||
	    (r = gic_attr(vm->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs))) {
		pv_err("kvm: GICv3 setup failed: %s", strerror(-r));
		return r;
	}
	return 0;
}

int hv_vm_create(const struct hv_vm_config *cfg, struct hv_vm **out)
{
	*out = NULL;
	struct hv_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = vm->vm_fd = vm->gic_fd = -1;
	vm->nr_vcpus = cfg->nr_vcpus;
	int r;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		r = -errno;
		pv_err("kvm: cannot open /dev/kvm: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		r = -EINVAL;
		pv_err("kvm: unexpected KVM API version");
		goto fail;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PSCI_0_2) <= 0) {
		r = -ENOTSUP;
		pv_err("kvm: host lacks PSCI 0.2 support (KVM_CAP_ARM_PSCI_0_2)");
		goto fail;
	}
	int max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus > 0 && cfg->nr_vcpus > (unsigned)max_vcpus) {
		r = -EINVAL;
		pv_err("kvm: %u vCPUs requested, this host allows %d",
		       cfg->nr_vcpus, max_vcpus);
		goto fail;
	}

	/* Ask for exactly the IPA space the memory map needs; a host that
	 * cannot choose (cap 0) gives every VM 40 bits. */
	unsigned need = ipa_bits_for(cfg->max_gpa);
	int ipa_max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	unsigned long type = 0;
	if (ipa_max > 0) {
		if (need > (unsigned)ipa_max) {
			r = -E2BIG;
			pv_err("kvm: guest memory map needs %u-bit guest physical "
			       "addresses, host supports %d: use less --memory",
			       need, ipa_max);
			goto fail;
		}
		type = KVM_VM_TYPE_ARM_IPA_SIZE(need);
	} else if (need > 40) {
		r = -E2BIG;
		pv_err("kvm: guest memory map needs %u-bit addresses, host fixes 40", need);
		goto fail;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, type);
	if (vm->vm_fd < 0) {
		r = -errno;
		pv_err("kvm: KVM_CREATE_VM failed: %s", strerror(errno));
		goto fail;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		r = -EINVAL;
		pv_err("kvm: bad KVM_GET_VCPU_MMAP_SIZE");
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &vm->init) < 0) {
		r = -errno;
		pv_err("kvm: KVM_ARM_PREFERRED_TARGET failed: %s", strerror(errno));
		goto fail;
	}
	/* Without this, a guest MMIO access with no instruction syndrome (a
	 * load pair, a writeback) makes KVM_RUN fail with a bare ENOSYS; with
	 * it we get the address and can say what happened. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_NISV_TO_USER) > 0) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };
		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			pv_debug("kvm: KVM_CAP_ARM_NISV_TO_USER: %s", strerror(errno));
	}
	/* The vgic must exist before the vCPUs; HVF has the same rule. */
	if ((r = create_gic(vm, cfg)))
		goto fail;
	if (install_kick_handler() < 0) {
		r = -errno;
		goto fail;
	}
	*out = vm;
	return 0;
fail:
	hv_vm_destroy(vm);
	return r;
}

void hv_vm_destroy(struct hv_vm *vm)
{
	if (!vm)
		return;
	if (vm->gic_fd >= 0)
		close(vm->gic_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm);
}

int hv_vm_map(struct hv_vm *vm, uint64_t gpa, void *host, uint64_t size)
{
	if (vm->nr_slots == HV_KVM_MAX_SLOTS)
		return -ENOSPC;
	struct kvm_userspace_memory_region mr = {
		.slot = vm->nr_slots,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0) {
		int e = -errno;
		pv_err("kvm: mapping guest RAM at 0x%llx failed: %s",
		       (unsigned long long)gpa, strerror(errno));
		return e;
	}
	vm->nr_slots++;
	return 0;
}

int hv_vm_finalize(struct hv_vm *vm)
{
	int r = gic_attr(vm->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			 KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (r)
		pv_err("kvm: GICv3 init failed: %s", strerror(-r));
	return r;
}

int hv_irq_set(struct hv_vm *vm, unsigned spi, bool level)
{
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
		       ((32 + spi) & KVM_ARM_IRQ_NUM_MASK),
		.level = level,
	};
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

int hv_vcpu_create(struct hv_vm *vm, unsigned index, struct hv_vcpu **out)
{
	*out = NULL;
	struct hv_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->index = index;
	v->thread = pthread_self();
	v->run = MAP_FAILED;
	int r;

	/* This is the vCPU's thread: let the kick through whatever mask the
	 * VMM gave it. */
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, HV_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		r = -errno;
		pv_err("kvm: KVM_CREATE_VCPU %u failed: %s", index, strerror(errno));
		goto fail;
	}
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	struct kvm_vcpu_init init = vm->init;
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (index)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		r = -errno;
		pv_err("kvm: KVM_ARM_VCPU_INIT %u failed: %s", index, strerror(errno));
		goto fail;
	}
	*out = v;
	return 0;
fail:
	hv_vcpu_destroy(v);
	return r;
}

void hv_vcpu_destroy(struct hv_vcpu *v)
{
	if (!v)
		return;
	if (v->run != MAP_FAILED)
		munmap(v->run, (size_t)v->vm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}

#define CORE_REG(field) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))

static int core_reg_id(enum hv_reg reg, uint64_t *id)
{
	switch (reg) {
	case HV_REG_X0: *id = CORE_REG(regs.regs[0]); return 0;
	case HV_REG_X1: *id = CORE_REG(regs.regs[1]); return 0;
	case HV_REG_X2: *id = CORE_REG(regs.regs[2]); return 0;
	case HV_REG_X3: *id = CORE_REG(regs.regs[3]); return 0;
	case HV_REG_PC: *id = CORE_REG(regs.pc); return 0;
	case HV_REG_PSTATE: *id = CORE_REG(regs.pstate); return 0;
	}
	return -EINVAL;
}

int hv_vcpu_set_reg(struct hv_vcpu *v, enum hv_reg reg, uint64_t value)
{
	uint64_t id;
	if (core_reg_id(reg, &id))
		return -EINVAL;
	struct kvm_one_reg one = { .id = id, .addr = (uint64_t)(uintptr_t)&value };
	return ioctl(v->fd, KVM_SET_ONE_REG, &one) < 0 ? -errno : 0;
}

int hv_vcpu_get_reg(struct hv_vcpu *v, enum hv_reg reg, uint64_t *value)
{
	uint64_t id;
	if (core_reg_id(reg, &id))
		return -EINVAL;
	struct kvm_one_reg one = { .id = id, .addr = (uint64_t)(uintptr_t)value };
	return ioctl(v->fd, KVM_GET_ONE_REG, &one) < 0 ? -errno : 0;
}

static void internal_error(struct hv_exit *exit, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void internal_error(struct hv_exit *exit, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	exit->reason = HV_EXIT_INTERNAL_ERROR;
	vsnprintf(exit->error.msg, sizeof(exit->error.msg), fmt, ap);
	va_end(ap);
}

int hv_vcpu_run(struct hv_vcpu *v, struct hv_exit *exit)
{
	struct kvm_run *run = v->run;
	for (;;) {
		if (v->pending_mmio_read) {
			memcpy(run->mmio.data, exit->mmio.data, sizeof(run->mmio.data));
			v->pending_mmio_read = false;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* A kick; clear it so the next entry runs. */
				__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				exit->reason = HV_EXIT_INTERRUPTED;
				return 0;
			}
			return -errno;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			exit->reason = HV_EXIT_MMIO;
			exit->mmio.addr = run->mmio.phys_addr;
			exit->mmio.len = run->mmio.len;
			exit->mmio.is_write = run->mmio.is_write;
			if (exit->mmio.len == 0 || exit->mmio.len > 8) {
				internal_error(exit, "MMIO access of %u bytes at 0x%llx",
					       run->mmio.len,
					       (unsigned long long)run->mmio.phys_addr);
				return 0;
			}
			memcpy(exit->mmio.data, run->mmio.data, sizeof(exit->mmio.data));
			v->pending_mmio_read = !run->mmio.is_write;
			return 0;
		case KVM_EXIT_SYSTEM_EVENT:
			switch (run->system_event.type) {
			case KVM_SYSTEM_EVENT_SHUTDOWN:
				exit->reason = HV_EXIT_SYSTEM_OFF;
				return 0;
			case KVM_SYSTEM_EVENT_RESET:
				exit->reason = HV_EXIT_SYSTEM_RESET;
				return 0;
			case KVM_SYSTEM_EVENT_CRASH:
				exit->reason = HV_EXIT_SYSTEM_CRASH;
				return 0;
			default:
				/* Wakeup/suspend events need nothing from us. */
				continue;
			}
		case KVM_EXIT_INTR:
			exit->reason = HV_EXIT_INTERRUPTED;
			return 0;
		case KVM_EXIT_ARM_NISV:
			internal_error(exit, "guest MMIO access KVM cannot decode "
				       "(no syndrome) at 0x%llx",
				       (unsigned long long)run->arm_nisv.fault_ipa);
			return 0;
		case KVM_EXIT_INTERNAL_ERROR:
			internal_error(exit, "KVM internal error, suberror %u",
				       run->internal.suberror);
			return 0;
		case KVM_EXIT_FAIL_ENTRY:
			internal_error(exit, "KVM entry failed, reason 0x%llx", (unsigned long long)
				       run->fail_entry.hardware_entry_failure_reason);
			return 0;
		default:
			internal_error(exit, "unexpected KVM exit %u",
				       run->exit_reason);
			return 0;
		}
	}
}

void hv_vcpu_kick(struct hv_vcpu *v)
{
	/* immediate_exit covers the window where the thread is between
	 * KVM_RUN calls; the signal covers the one where it is inside. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, HV_KICK_SIGNAL);
}
