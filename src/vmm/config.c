#include "vmm/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arch/arm64/layout.h"

const char vm_run_usage[] =
"usage: pearvisor run --kernel IMAGE [options]\n"
"\n"
"Boots an arm64 Linux kernel (Image, gzip'd Image or gzip EFI zboot).\n"
"\n"
"  --kernel IMAGE          kernel to boot (required)\n"
"  --initrd FILE           initial ramdisk\n"
"  --append CMDLINE        kernel command line (e.g. \"console=ttyAMA0\")\n"
"  --cpus N                vCPUs, 1-64 (default 1)\n"
"  --memory SIZE           guest RAM: 512M, 2G, or a number of MiB; a multiple\n"
"                          of 2 MiB, at least 64 MiB (default 512M)\n"
"  --disk PATH[,readonly]  virtio-blk disk (repeatable; first is /dev/vda)\n"
"  --console stdio|file:PATH\n"
"                          where the serial console (ttyAMA0) goes (default\n"
"                          stdio; raw terminal mode when stdin is a tty,\n"
"                          Ctrl-A x quits)\n"
"  --gpu                   virtio-gpu with Venus (Vulkan) on a host Vulkan\n"
"                          device; fails if there is none\n"
"  --gpu-device INDEX|NAME host device for --gpu (see `pearvisor gpu-list`;\n"
"                          implies --gpu)\n"
"  --screenshot PATH       with --gpu: write the display to PATH (PNG) on\n"
"                          SIGUSR1 and when the VM stops\n"
"  -h, --help              this text\n"
"\n"
"Devices: PL011 UART (ttyAMA0), virtio-mmio entropy source, one virtio-mmio\n"
"block device per --disk, GICv3, architected timer, PSCI.\n"
"\n"
"Exit status:\n"
"  0  the guest powered off (PSCI SYSTEM_OFF)\n"
"  1  runtime error: a bad input file, no hypervisor, VM setup failed,\n"
"     or stopped by a signal / Ctrl-A x\n"
"  2  usage error: unknown option, bad value\n"
"  3  the guest requested a reboot (PSCI SYSTEM_RESET)\n"
"  4  the guest crashed or its vCPU hit an internal hypervisor error\n";

int vm_parse_size(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 20;    /* a bare number is MiB */
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: return -1;
		}
		end++;
		if (*end && strcasecmp(end, "b") && strcasecmp(end, "ib"))
			return -1;
	}
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_cpus(const char *s, unsigned *out)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > ARM64_MAX_CPUS)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_disk(const char *s, struct vm_disk *d)
{
	const char *comma = strrchr(s, ',');
	size_t len = strlen(s);
	d->readonly = false;
	if (comma && (!strcmp(comma + 1, "readonly") || !strcmp(comma + 1, "ro"))) {
		d->readonly = true;
		len = (size_t)(comma - s);
	}
	if (len == 0 || len >= sizeof(d->path_buf))
		return -1;
	memcpy(d->path_buf, s, len);
	d->path_buf[len] = '\0';
	d->path = d->path_buf;
	return 0;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past the value. */
static int take_value(const char *name, int argc, char **argv, int *i,
		      const char **val, char *err, size_t errlen)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		snprintf(err, errlen, "option %s needs a value", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

enum vm_config_result vm_config_parse(struct vm_config *cfg, int argc, char **argv,
				      char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = VM_DEFAULT_CPUS;
	cfg->mem_size = VM_DEFAULT_MEM;
	cfg->console = VM_CONSOLE_STDIO;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		int r;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return VM_CONFIG_HELP;
#define OPT(name) ((r = take_value(name, argc, argv, &i, &v, err, errlen)) != 0)
		if (OPT("--kernel")) {
			if (r < 0) return VM_CONFIG_ERROR;
			cfg->kernel = v;
		} else if (OPT("--initrd")) {
			if (r < 0) return VM_CONFIG_ERROR;
			cfg->initrd = v;
		} else if (OPT("--append")) {
			if (r < 0) return VM_CONFIG_ERROR;
			cfg->append = v;
		} else if (OPT("--cpus")) {
			if (r < 0) return VM_CONFIG_ERROR;
			if (parse_cpus(v, &cfg->cpus)) {
				snprintf(err, errlen, "--cpus '%s': expected a number from 1 to %u",
					 v, ARM64_MAX_CPUS);
				return VM_CONFIG_ERROR;
			}
		} else if (OPT("--memory")) {
			if (r < 0) return VM_CONFIG_ERROR;
			if (vm_parse_size(v, &cfg->mem_size)) {
				snprintf(err, errlen, "--memory '%s': expected a size such as "
					 "512M, 2G or a number of MiB", v);
				return VM_CONFIG_ERROR;
			}
		} else if (OPT("--disk")) {
			if (r < 0) return VM_CONFIG_ERROR;
			if (cfg->nr_disks == VM_MAX_DISKS) {
				snprintf(err, errlen, "at most %d --disk options", VM_MAX_DISKS);
				return VM_CONFIG_ERROR;
			}
			if (parse_disk(v, &cfg->disks[cfg->nr_disks])) {
				snprintf(err, errlen, "--disk '%s': expected PATH[,readonly]", v);
				return VM_CONFIG_ERROR;
			}
			cfg->nr_disks++;
		} else if (OPT("--console")) {
			if (r < 0) return VM_CONFIG_ERROR;
			if (!strcmp(v, "stdio")) {
				cfg->console = VM_CONSOLE_STDIO;
			} else if (!strncmp(v, "file:", 5) && v[5]) {
				cfg->console = VM_CONSOLE_FILE;
				cfg->console_path = v + 5;
			} else {
				snprintf(err, errlen, "--console '%s': expected stdio or file:PATH", v);
				return VM_CONFIG_ERROR;
			}
		} else if (!strcmp(a, "--gpu")) {
			cfg->gpu = true;
		} else if (OPT("--gpu-device")) {
			if (r < 0) return VM_CONFIG_ERROR;
			cfg->gpu = true;
			cfg->gpu_device = v;
		} else if (OPT("--screenshot")) {
			if (r < 0) return VM_CONFIG_ERROR;
			if (!*v) {
				snprintf(err, errlen, "--screenshot needs a file name");
				return VM_CONFIG_ERROR;
			}
			cfg->screenshot = v;
		} else {
			snprintf(err, errlen, "unknown option '%s'", a);
			return VM_CONFIG_ERROR;
		}
#undef OPT
	}
	if (!cfg->kernel) {
		snprintf(err, errlen, "--kernel is required");
		return VM_CONFIG_ERROR;
	}
	if (cfg->screenshot && !cfg->gpu) {
		snprintf(err, errlen, "--screenshot needs --gpu");
		return VM_CONFIG_ERROR;
	}
	if (cfg->mem_size < ARM64_MIN_RAM || cfg->mem_size > ARM64_MAX_RAM ||
	    cfg->mem_size % ARM64_RAM_ALIGN) {
		snprintf(err, errlen, "--memory: %llu MiB is not allowed: a multiple of "
			 "2 MiB from %llu MiB to %llu GiB is",
			 (unsigned long long)(cfg->mem_size >> 20),
			 (unsigned long long)(ARM64_MIN_RAM >> 20),
			 (unsigned long long)(ARM64_MAX_RAM >> 30));
		return VM_CONFIG_ERROR;
	}
	return VM_CONFIG_OK;
}
