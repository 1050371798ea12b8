/* `pearvisor run` options: parsing and validation, no side effects. */
#ifndef PV_VMM_CONFIG_H
#define PV_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_MAX_DISKS 16
#define VM_DEFAULT_MEM (512ULL << 20)
#define VM_DEFAULT_CPUS 1

struct vm_disk {
	const char *path;
	bool readonly;
	char path_buf[4096];    /* PATH without the ",readonly" suffix */
};

enum vm_console { VM_CONSOLE_STDIO, VM_CONSOLE_FILE };

struct vm_config {
	const char *kernel, *initrd, *append;
	unsigned cpus;
	uint64_t mem_size;
	unsigned nr_disks;
	struct vm_disk disks[VM_MAX_DISKS];
	enum vm_console console;
	const char *console_path;
	bool gpu;                   /* virtio-gpu with Venus (vm_gpu.c) */
	const char *gpu_device;     /* --gpu-device INDEX|NAME, NULL: default */
	const char *screenshot;     /* --screenshot PATH (SIGUSR1 and exit) */
};

enum vm_config_result { VM_CONFIG_OK, VM_CONFIG_HELP, VM_CONFIG_ERROR };

/* Parses argv (argv[0] is "run"). On VM_CONFIG_ERROR err holds the reason.
 * The config points into argv. */
enum vm_config_result vm_config_parse(struct vm_config *cfg, int argc, char **argv,
				      char *err, size_t errlen);

/* "512M", "1G", "2048" (MiB), "1.5G" is rejected. Returns 0 or -1. */
int vm_parse_size(const char *s, uint64_t *out);

extern const char vm_run_usage[];

#endif
