/* Binds the virtio-gpu device to the Venus renderer (GPU builds only). */
#ifndef PV_VIRTIO_GPU_VENUS_H
#define PV_VIRTIO_GPU_VENUS_H

#include "venus/venus.h"
#include "virtio/gpu.h"

/* Fills *out; r must outlive every device using the table. */
void virtio_gpu_venus_renderer(struct venus_renderer *r, struct virtio_gpu_renderer *out);

#endif
