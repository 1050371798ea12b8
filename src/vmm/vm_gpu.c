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
	struct gpu_device_info *devs = NULL;
	uint32_t ndev = 0;
	struct vm_gpu *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	g->cfg = cfg;
	if (gpu_enumerate(&devs, &ndev) || ndev == 0) {
		pv_err("--gpu: no Vulkan device on this host (is a Vulkan driver such as "
		       "lavapipe installed?)");
		goto fail;
	}
	int sel = gpu_select(devs, ndev, cfg->gpu_device);
	if (sel < 0)
		goto fail;
	char uuid[37];
	gpu_format_uuid(devs[sel].uuid, uuid);
	pv_info("gpu: host device [%u] %s (%s, driver %s, uuid %s)", devs[sel].index,
		devs[sel].name, gpu_device_type_name(devs[sel].type),
		devs[sel].driver_name[0] ? devs[sel].driver_name : "?", uuid);
	struct venus_renderer_options ropts;
	memset(&ropts, 0, sizeof(ropts));
	memcpy(ropts.device_uuid, devs[sel].uuid, sizeof(ropts.device_uuid));
	int err = venus_renderer_create(&ropts, &g->renderer);
	if (err) {
		pv_err("--gpu: cannot start the Venus renderer on %s: %s", devs[sel].name,
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
	free(devs);
	*dev = g->dev;
	*out = g;
	return 0;
fail:
	free(devs);
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
