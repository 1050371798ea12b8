/* Host side of --gpu (see vm_gpu.h). */
#include "vmm/vm_gpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hv.h"
#include "os/log.h"
#include "vmm/config.h"

#if defined(PV_HAVE_GPU) && defined(PV_HAVE_VIRTIO)
#include "gpu/gpu_device.h"
#include "venus/venus.h"
#include "virtio/gpu.h"
#include "virtio/gpu_venus.h"

struct vm_gpu {
	const struct vm_config *cfg;
	struct venus_renderer *renderer;
	struct virtio_gpu_renderer table;
	struct virtio_gpu_shm shm;
	struct virtio_device *dev;     /* owned by its transport */
};

int vm_gpu_create(const struct vm_config *cfg, uint64_t shm_gpa, struct vm_gpu **out,
		  struct virtio_device **dev)
{
	struct vm_gpu *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	g->cfg = cfg;
	struct venus_renderer_options ropts;
	memset(&ropts, 0, sizeof(ropts));
	if (gpu_choose(cfg->gpu_device, "gpu", "host", ropts.device_uuid))
		goto fail;
	int err = venus_renderer_create(&ropts, &g->renderer);
	if (err) {
		pv_err("--gpu: cannot start the Venus renderer: %s",
		       strerror(-err));
		goto fail;
	}
	virtio_gpu_venus_renderer(g->renderer, &g->table);
	if ((err = virtio_gpu_shm_reserve(VM_GPU_SHM_SIZE, &g->shm))) {
		pv_err("--gpu: cannot reserve the host-visible window: %s", strerror(-err));
		goto fail;
	}
	g->shm.gpa = shm_gpa;
	struct virtio_gpu_config dc = {
		.width = VM_GPU_SCANOUT_W, .height = VM_GPU_SCANOUT_H,
		.renderer = &g->table, .shm = &g->shm,
	};
	g->dev = virtio_gpu_create(&dc);
	if (!g->dev)
		goto fail;
	*dev = g->dev;
	*out = g;
	return 0;
fail:
	vm_gpu_destroy(g);
	return -1;
}

int vm_gpu_map(struct vm_gpu *g, struct hv_vm *hv)
{
	if (hv_vm_map(hv, g->shm.gpa, g->shm.host, g->shm.size)) {
		pv_err("--gpu: cannot map the host-visible window at 0x%llx",
		       (unsigned long long)g->shm.gpa);
		return -1;
	}
	return 0;
}

void vm_gpu_screenshot(struct vm_gpu *g)
{
	if (!g || !g->cfg->screenshot || !g->dev)
		return;
	int err = virtio_gpu_screenshot(g->dev, g->cfg->screenshot);
	if (err == -ENODATA)
		pv_warn("screenshot: the guest has nothing on the display yet");
	else if (!err)
		pv_info("screenshot written to %s", g->cfg->screenshot);
}

void vm_gpu_destroy(struct vm_gpu *g)
{
	if (!g)
		return;
	if (g->renderer)
		venus_renderer_destroy(g->renderer);
	virtio_gpu_shm_release(&g->shm);
	free(g);
}

#else

int vm_gpu_create(const struct vm_config *cfg, uint64_t shm_gpa, struct vm_gpu **out,
		  struct virtio_device **dev)
{
	pv_err("--gpu: this pearvisor was built without the GPU stack "
	       "(build with `make ARCH=aarch64 GPU=1`)");
	return -1;
}

int vm_gpu_map(struct vm_gpu *g, struct hv_vm *hv)
{
	return -1;
}

void vm_gpu_screenshot(struct vm_gpu *g)
{
}

void vm_gpu_destroy(struct vm_gpu *g)
{
}

#endif
