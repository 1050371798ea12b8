/*
 * `pearvisor run --gpu`: the host side of the VM's virtio-gpu. Picks the
 * host Vulkan device (src/gpu), starts the Venus renderer, reserves the
 * host-visible window and creates the device; builds without the GPU stack
 * refuse --gpu instead of booting without it.
 */
#ifndef PV_VMM_VM_GPU_H
#define PV_VMM_VM_GPU_H

#include <stdint.h>

struct hv_vm;
struct virtio_device;
struct vm_config;
struct vm_gpu;

/* Window for blob mappings, right above guest RAM (1 GiB aligned). */
#define VM_GPU_SHM_SIZE (1ULL << 30)
#define VM_GPU_SCANOUT_W 1280
#define VM_GPU_SCANOUT_H 800

/* Returns 0 and sets *out and *dev (the caller attaches dev to a transport,
 * which then owns it), or -1 after saying why (no Vulkan device, renderer
 * failed, or this build has no GPU stack). */
int vm_gpu_create(const struct vm_config *cfg, uint64_t shm_gpa, struct vm_gpu **out,
		  struct virtio_device **dev);
/* Maps the host-visible window into the guest. 0 or -1. */
int vm_gpu_map(struct vm_gpu *g, struct hv_vm *hv);
/* Writes the scanout to --screenshot PATH, if one was given. */
void vm_gpu_screenshot(struct vm_gpu *g);
/* After the device is destroyed: renderer and window. NULL is fine. */
void vm_gpu_destroy(struct vm_gpu *g);

#endif
