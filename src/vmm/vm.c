/*
 * One arm64 VM from a validated config: check and load the boot payload,
 * create the VM through the hv backend, place the devices, start a thread
 * per vCPU and wait for the reason to stop.
 *
 * Threads: the main thread only waits (sigwait) for a stop request, a signal
 * or Ctrl-A x; each vCPU thread runs its vCPU and handles its exits; the
 * console thread feeds input to the UART. Teardown kicks every vCPU and
 * joins them before anything they use is freed.
 */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arch/arm64/fdt.h"
#include "arch/arm64/image.h"
#include "arch/arm64/layout.h"
#include "hv/hv.h"
#include "hw/pl011.h"
#include "os/log.h"
#include "vmm/console.h"
#include "vmm/guest_mem.h"
#include "vmm/mmio_bus.h"
#include "vmm/vm_gpu.h"
#ifdef PV_HAVE_VIRTIO
#include "virtio/mmio.h"
#include "virtio/virtio.h"
#endif

/* Wakes the main thread's sigwait when a vCPU or the console stops the VM. */
#define WAKE_SIGNAL SIGUSR2

/* PSTATE at entry: EL1h with D, A, I and F masked (booting.rst). */
#define PSTATE_EL1H_DAIF 0x3c5ULL

enum stop_reason {
	STOP_NONE,
	STOP_POWER_OFF,
	STOP_RESET,
	STOP_CRASH,
	STOP_ERROR,        /* the VMM or backend failed */
	STOP_SIGNAL,
	STOP_USER,         /* Ctrl-A x */
};

struct vcpu_slot {
	struct vm *vm;
	unsigned index;
	pthread_t thread;
	bool thread_started;
	struct hv_vcpu *hv;
	int create_err;
};

struct vm {
	const struct vm_config *cfg;
	struct hv_vm *hv;
	void *ram;
	struct guest_mem mem;
	struct mmio_bus bus;
	struct arm64_boot_layout layout;
	struct pl011 *uart;
	struct console *con;
	unsigned nr_virtio;
#ifdef PV_HAVE_VIRTIO
	struct virtio_device *pending[ARM64_VIRTIO_MAX];   /* before transports */
	struct virtio_mmio *virtio[ARM64_VIRTIO_MAX];
#endif
	struct vcpu_slot vcpus[ARM64_MAX_CPUS];
	pthread_barrier_t created, started;
	pthread_t main_thread;

	pthread_mutex_t stop_lock;
	_Atomic int stop;          /* enum stop_reason */
	char stop_msg[200];
	atomic_uint unhandled_mmio;
	struct vm_gpu *gpu;        /* --gpu */
	uint64_t gpu_shm_gpa;
};

static bool vm_stopping(struct vm *vm)
{
	return atomic_load(&vm->stop) != STOP_NONE;
}

/* First reason wins: a guest that powers off while a signal arrives reports
 * whichever came first. */
static void vm_request_stop(struct vm *vm, enum stop_reason why, const char *msg)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (atomic_load(&vm->stop) == STOP_NONE) {
		snprintf(vm->stop_msg, sizeof(vm->stop_msg), "%s", msg ? msg : "");
		atomic_store(&vm->stop, why);
		if (!pthread_equal(pthread_self(), vm->main_thread))
			pthread_kill(vm->main_thread, WAKE_SIGNAL);
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

static void console_quit(void *opaque)
{
	vm_request_stop(opaque, STOP_USER, NULL);
}

/* irq_line callbacks. The UART's SPI is level-triggered; virtio-mmio SPIs are
 * edge-rising in the device tree, so a raise becomes one edge whatever level
 * protocol the transport follows. */
static void irq_level(void *opaque, unsigned spi, bool level)
{
	struct vm *vm = opaque;
	if (hv_irq_set(vm->hv, spi, level))
		pv_warn("vmm: cannot set SPI %u", spi);
}

static void irq_edge(void *opaque, unsigned spi, bool level)
{
	struct vm *vm = opaque;
	if (!level)
		return;
	if (hv_irq_set(vm->hv, spi, true) || hv_irq_set(vm->hv, spi, false))
		pv_warn("vmm: cannot raise SPI %u", spi);
}

static void handle_mmio(struct vm *vm, struct hv_exit *e)
{
	if (mmio_bus_access(&vm->bus, e->mmio.addr, e->mmio.data, e->mmio.len,
			    e->mmio.is_write))
		return;
	/* Reads of holes return 0 (done by the bus). Log a few, not a flood. */
	if (atomic_fetch_add(&vm->unhandled_mmio, 1) < 8)
		pv_debug("vmm: guest %s of %u bytes at unassigned 0x%llx",
			 e->mmio.is_write ? "write" : "read", e->mmio.len,
			 (unsigned long long)e->mmio.addr);
}

static int set_boot_regs(struct vm *vm, struct hv_vcpu *v)
{
	int r;
	if ((r = hv_vcpu_set_reg(v, HV_REG_PC, vm->layout.kernel_gpa)) ||
	    (r = hv_vcpu_set_reg(v, HV_REG_X0, vm->layout.dtb_gpa)) ||
	    (r = hv_vcpu_set_reg(v, HV_REG_X1, 0)) ||
	    (r = hv_vcpu_set_reg(v, HV_REG_X2, 0)) ||
	    (r = hv_vcpu_set_reg(v, HV_REG_X3, 0)) ||
	    (r = hv_vcpu_set_reg(v, HV_REG_PSTATE, PSTATE_EL1H_DAIF)))
		return r;
	return 0;
}

static void vcpu_loop(struct vm *vm, struct vcpu_slot *s)
{
	struct hv_exit e;
	memset(&e, 0, sizeof(e));
	while (!vm_stopping(vm)) {
		int r = hv_vcpu_run(s->hv, &e);
		if (r) {
			char msg[120];
			/* KVM_RUN itself refusing (e.g. a vCPU left in a state it
			 * cannot enter) counts with internal errors as a crash. */
			snprintf(msg, sizeof(msg), "vCPU %u: cannot run: %s", s->index, strerror(-r));
			vm_request_stop(vm, STOP_CRASH, msg);
			return;
		}
		switch (e.reason) {
		case HV_EXIT_MMIO:
			handle_mmio(vm, &e);
			break;
		case HV_EXIT_SYSTEM_OFF:
			vm_request_stop(vm, STOP_POWER_OFF, NULL);
			return;
		case HV_EXIT_SYSTEM_RESET:
			vm_request_stop(vm, STOP_RESET, NULL);
			return;
		case HV_EXIT_SYSTEM_CRASH:
			vm_request_stop(vm, STOP_CRASH, "the guest reported a crash");
			return;
		case HV_EXIT_INTERNAL_ERROR: {
			char msg[200];
			uint64_t pc = 0;
			if (hv_vcpu_get_reg(s->hv, HV_REG_PC, &pc) == 0)
				snprintf(msg, sizeof(msg), "vCPU %u: %s (guest pc 0x%llx)",
					 s->index, e.error.msg, (unsigned long long)pc);
			else
				snprintf(msg, sizeof(msg), "vCPU %u: %s", s->index, e.error.msg);
			vm_request_stop(vm, STOP_CRASH, msg);
			return;
		}
		case HV_EXIT_INTERRUPTED:
			break;
		}
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_slot *s = arg;
	struct vm *vm = s->vm;

	s->create_err = hv_vcpu_create(vm->hv, s->index, &s->hv);
	pthread_barrier_wait(&vm->created);   /* main: finalize the VM */
	pthread_barrier_wait(&vm->started);
	if (!s->hv || vm_stopping(vm))
		return NULL;
	if (s->index == 0) {
		int r = set_boot_regs(vm, s->hv);
		if (r) {
			char msg[120];
			snprintf(msg, sizeof(msg), "cannot set boot registers: %s", strerror(-r));
			vm_request_stop(vm, STOP_ERROR, msg);
			return NULL;
		}
	}
	vcpu_loop(vm, s);
	return NULL;
}

/* ---- boot payload ---- */

static int read_fd_into(int fd, void *dst, uint64_t len)
{
	uint8_t *p = dst;
	while (len) {
		ssize_t n = read(fd, p, len > (1u << 30) ? (1u << 30) : (size_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int check_disks(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct vm_disk *d = &cfg->disks[i];
		struct stat st;
		if (stat(d->path, &st) < 0) {
			pv_err("disk %s: %s", d->path, strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			pv_err("disk %s is not a file or block device", d->path);
			return -1;
		}
		if (access(d->path, d->readonly ? R_OK : R_OK | W_OK) < 0) {
			pv_err("disk %s: %s", d->path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Creates the virtio devices before the VM so a missing or locked disk stops
 * us before anything else happens. */
static int create_virtio_devices(struct vm *vm)
{
#ifdef PV_HAVE_VIRTIO
	const struct vm_config *cfg = vm->cfg;
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		struct virtio_device *d = virtio_blk_create(cfg->disks[i].path,
							     cfg->disks[i].readonly);
		if (!d)
			return -1;    /* virtio_blk_create said why */
		vm->pending[vm->nr_virtio++] = d;
	}
	struct virtio_device *rng = virtio_rng_create();
	if (!rng) {
		pv_err("cannot create the entropy device");
		return -1;
	}
	vm->pending[vm->nr_virtio++] = rng;
	if (cfg->gpu) {
		struct virtio_device *gd;
		if (vm_gpu_create(cfg, vm->gpu_shm_gpa, &vm->gpu, &gd))
			return -1;
		vm->pending[vm->nr_virtio++] = gd;
	}
	return 0;
#else
	if (vm->cfg->gpu) {
		pv_err("--gpu needs virtio support, which this build lacks");
		return -1;
	}
	if (vm->cfg->nr_disks) {
		pv_err("--disk needs virtio support, which this build lacks");
		return -1;
	}
	return 0;
#endif
}

static int attach_virtio(struct vm *vm)
{
#ifdef PV_HAVE_VIRTIO
	for (unsigned i = 0; i < vm->nr_virtio; i++) {
		struct irq_line irq = { irq_edge, vm, arm64_virtio_spi(i) };
		struct virtio_mmio *m = virtio_mmio_create(vm->pending[i], &vm->mem, irq);
		if (!m) {
			pv_err("cannot create virtio-mmio transport %u", i);
			return -1;
		}
		vm->pending[i] = NULL;   /* the transport owns it now */
		vm->virtio[i] = m;
		if (mmio_bus_register(&vm->bus, arm64_virtio_base(i), VIRTIO_MMIO_SIZE,
				      &virtio_mmio_ops, m))
			return -1;
	}
#else
	(void)irq_edge;
	(void)vm;
#endif
	return 0;
}

static void destroy_virtio(struct vm *vm)
{
#ifdef PV_HAVE_VIRTIO
	for (unsigned i = 0; i < vm->nr_virtio; i++) {
		if (vm->virtio[i])
			virtio_mmio_destroy(vm->virtio[i]);
		else if (vm->pending[i])
			virtio_device_destroy(vm->pending[i]);
	}
#else
	(void)vm;
#endif
}

static int build_dtb(struct vm *vm)
{
	const struct arm64_boot_layout *l = &vm->layout;
	struct arm64_fdt_config fc = {
		.nr_cpus = vm->cfg->cpus,
		.ram_base = l->ram_base, .ram_size = l->ram_size,
		.bootargs = vm->cfg->append,
		.initrd_gpa = l->initrd_gpa, .initrd_size = l->initrd_size,
		.nr_virtio = vm->nr_virtio,
	};
	void *dst = guest_mem_ptr(&vm->mem, l->dtb_gpa, ARM64_DTB_MAX_SIZE);
	if (!dst)
		return -1;
	int n = arm64_fdt_build(&fc, dst, ARM64_DTB_MAX_SIZE);
	if (n < 0) {
		pv_err("cannot build the device tree (libfdt error %d)", n);
		return -1;
	}
	pv_debug("vmm: DTB %d bytes at 0x%llx", n, (unsigned long long)l->dtb_gpa);
	return 0;
}

static int alloc_ram(struct vm *vm)
{
	uint64_t size = vm->layout.ram_size;
	vm->ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		pv_err("cannot allocate %llu MiB of guest memory: %s",
		       (unsigned long long)(size >> 20), strerror(errno));
		return -1;
	}
	/* Fewer stage-2 faults and TLB misses; harmless where THP is off. */
	madvise(vm->ram, size, MADV_HUGEPAGE);
	vm->mem.nr_regions = 1;
	vm->mem.regions[0] = (struct guest_mem_region){
		.gpa = vm->layout.ram_base, .size = size, .host = vm->ram,
	};
	return hv_vm_map(vm->hv, vm->layout.ram_base, vm->ram, size) ? -1 : 0;
}

/* ---- run ---- */

static int start_vcpus(struct vm *vm)
{
	unsigned n = vm->cfg->cpus;
	pthread_barrier_init(&vm->created, NULL, n + 1);
	pthread_barrier_init(&vm->started, NULL, n + 1);
	for (unsigned i = 0; i < n; i++) {
		struct vcpu_slot *s = &vm->vcpus[i];
		s->vm = vm;
		s->index = i;
		int r = pthread_create(&s->thread, NULL, vcpu_thread, s);
		if (r) {
			/* The barriers count n+1 parties; without the thread
			 * they would never open. A fatal setup error. */
			pv_err("cannot start vCPU thread %u: %s", i, strerror(r));
			exit(1);
		}
		s->thread_started = true;
	}
	pthread_barrier_wait(&vm->created);
	int err = 0;
	for (unsigned i = 0; i < n; i++)
		if (vm->vcpus[i].create_err)
			err = vm->vcpus[i].create_err;
	if (!err)
		err = hv_vm_finalize(vm->hv);
	if (err)
		vm_request_stop(vm, STOP_ERROR, "VM setup failed");
	pthread_barrier_wait(&vm->started);
	return err;
}

static void stop_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg->cpus; i++)
		if (vm->vcpus[i].hv)
			hv_vcpu_kick(vm->vcpus[i].hv);
	for (unsigned i = 0; i < vm->cfg->cpus; i++) {
		struct vcpu_slot *s = &vm->vcpus[i];
		if (s->thread_started)
			pthread_join(s->thread, NULL);
		hv_vcpu_destroy(s->hv);
		s->hv = NULL;
	}
	pthread_barrier_destroy(&vm->created);
	pthread_barrier_destroy(&vm->started);
}

static void wait_for_stop(struct vm *vm, const sigset_t *set)
{
	while (!vm_stopping(vm)) {
		int sig;
		if (sigwait(set, &sig))
			continue;
		if (sig == SIGUSR1) {
			vm_gpu_screenshot(vm->gpu);
			continue;
		}
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			char msg[40];
			snprintf(msg, sizeof(msg), "%s", strsignal(sig));
			vm_request_stop(vm, STOP_SIGNAL, msg);
		}
	}
	/* A wake signal may still be pending (sent when we stopped for another
	 * reason); consume it, or unblocking it later would kill us. */
	sigset_t wake;
	sigemptyset(&wake);
	sigaddset(&wake, WAKE_SIGNAL);
	const struct timespec zero = { 0, 0 };
	while (sigtimedwait(&wake, NULL, &zero) > 0)
		;
}

/* The outcome line is the command's result, not a log message: it is
 * printed whatever PEARVISOR_LOG says. */
static int report(struct vm *vm)
{
	switch (atomic_load(&vm->stop)) {
	case STOP_POWER_OFF:
		fprintf(stderr, "pearvisor: guest powered off\n");
		return VM_EXIT_POWER_OFF;
	case STOP_RESET:
		fprintf(stderr, "pearvisor: guest requested reboot\n");
		return VM_EXIT_REBOOT;
	case STOP_CRASH:
		fprintf(stderr, "pearvisor: guest crashed: %s\n", vm->stop_msg);
		return VM_EXIT_CRASH;
	case STOP_SIGNAL:
		fprintf(stderr, "pearvisor: stopped by signal (%s)\n", vm->stop_msg);
		return VM_EXIT_ERROR;
	case STOP_USER:
		fprintf(stderr, "pearvisor: stopped from the console (Ctrl-A x)\n");
		return VM_EXIT_ERROR;
	default:
		fprintf(stderr, "pearvisor: error: %s\n",
			vm->stop_msg[0] ? vm->stop_msg : "internal error");
		return VM_EXIT_ERROR;
	}
}

static int open_initrd(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		pv_err("cannot open initrd %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		pv_err("initrd %s is not a non-empty regular file", path);
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int vm_run(const struct vm_config *cfg)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return VM_EXIT_ERROR;
	vm->cfg = cfg;
	pthread_mutex_init(&vm->stop_lock, NULL);
	vm->main_thread = pthread_self();
	int rc = VM_EXIT_ERROR;
	int initrd_fd = -1;
	uint64_t initrd_size = 0;
	struct arm64_image img = { 0 };
	char err[300];
	sigset_t stop_set, old_set;
	bool masked = false, ran = false;

	/* 1. Inputs: everything checkable before the VM exists. */
	if (arm64_image_load_file(cfg->kernel, &img, err, sizeof(err))) {
		pv_err("%s", err);
		goto out;
	}
	if (cfg->initrd && (initrd_fd = open_initrd(cfg->initrd, &initrd_size)) < 0)
		goto out;
	if (arm64_layout_plan(cfg->mem_size, img.hdr.text_offset, img.hdr.image_size,
			      initrd_size, &vm->layout, err, sizeof(err))) {
		pv_err("%s", err);
		goto out;
	}
	if (cfg->append && strlen(cfg->append) >= 2048)
		pv_warn("the kernel keeps only the first 2047 bytes of --append");
	/* The GPU's host-visible window sits right above RAM. */
	vm->gpu_shm_gpa = (vm->layout.ram_base + vm->layout.ram_size + VM_GPU_SHM_SIZE - 1) &
			  ~(VM_GPU_SHM_SIZE - 1);
	if (check_disks(cfg) || create_virtio_devices(vm))
		goto out;
	pv_debug("vmm: kernel %s (%s), %zu bytes at 0x%llx; initrd %llu bytes at 0x%llx",
		 cfg->kernel, img.packing, img.size, (unsigned long long)vm->layout.kernel_gpa,
		 (unsigned long long)initrd_size, (unsigned long long)vm->layout.initrd_gpa);

	/* 2. The VM and its memory. */
	struct hv_vm_config hc = {
		.nr_vcpus = cfg->cpus,
		.max_gpa = cfg->gpu ? vm->gpu_shm_gpa + VM_GPU_SHM_SIZE
				    : vm->layout.ram_base + vm->layout.ram_size,
		.gic_dist_base = ARM64_GIC_DIST_BASE,
		.gic_redist_base = ARM64_GIC_REDIST_BASE,
		.gic_nr_irqs = ARM64_GIC_NR_IRQS,
	};
	if (hv_vm_create(&hc, &vm->hv))
		goto out;
	if (alloc_ram(vm) || (vm->gpu && vm_gpu_map(vm->gpu, vm->hv)))
		goto out;
	memcpy(guest_mem_ptr(&vm->mem, vm->layout.kernel_gpa, img.size), img.data, img.size);
	arm64_image_free(&img);
	if (initrd_fd >= 0 &&
	    read_fd_into(initrd_fd, guest_mem_ptr(&vm->mem, vm->layout.initrd_gpa, initrd_size),
			 initrd_size)) {
		pv_err("cannot read initrd %s", cfg->initrd);
		goto out;
	}

	/* 3. Devices. A console reader that goes away (`| head`) must cost the
	 * guest its output, not kill the VMM with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	vm->con = console_open(cfg->console, cfg->console_path, err, sizeof(err));
	if (!vm->con) {
		pv_err("%s", err);
		goto out;
	}
#ifdef PV_HAVE_VIRTIO
	/* The guest also gets a virtio console (hvc0) writing to the same
	 * place. Host input stays with the UART, which Linux has from the first
	 * instruction on; two readers of one stdin would split keystrokes. */
	struct virtio_device *vcon = virtio_console_create(-1, console_out_fd(vm->con));
	if (!vcon) {
		pv_err("cannot create the virtio console");
		goto out;
	}
	vm->pending[vm->nr_virtio++] = vcon;
#endif
	struct irq_line uart_irq = { irq_level, vm, ARM64_UART_SPI };
	vm->uart = pl011_create(console_out_fd(vm->con), uart_irq);
	if (!vm->uart ||
	    mmio_bus_register(&vm->bus, ARM64_UART_BASE, ARM64_UART_SIZE, &pl011_mmio_ops, vm->uart) ||
	    attach_virtio(vm) || build_dtb(vm))
		goto out;

	/* 4. Run. Stop signals are taken synchronously by the main thread;
	 * threads created from here inherit the mask. */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	sigaddset(&stop_set, WAKE_SIGNAL);
	if (vm->gpu)
		sigaddset(&stop_set, SIGUSR1);   /* screenshot request */
	pthread_sigmask(SIG_BLOCK, &stop_set, &old_set);
	masked = true;
	if (console_start_input(vm->con, vm->uart, console_quit, vm))
		pv_warn("no console input");
	start_vcpus(vm);
	wait_for_stop(vm, &stop_set);
	stop_vcpus(vm);
	ran = true;
out:
	console_close(vm->con);   /* restore the terminal before reporting */
	vm->con = NULL;
	if (ran)
		rc = report(vm);
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	if (ran)
		vm_gpu_screenshot(vm->gpu);
	destroy_virtio(vm);
	vm_gpu_destroy(vm->gpu);
	pl011_destroy(vm->uart);
	if (vm->ram)
		munmap(vm->ram, vm->layout.ram_size);
	hv_vm_destroy(vm->hv);
	arm64_image_free(&img);
	if (initrd_fd >= 0)
		close(initrd_fd);
	pthread_mutex_destroy(&vm->stop_lock);
	free(vm);
	return rc;
}
