/* Driver-side helpers for the virtio-gpu tests (test_virtio_gpu.c). */
#ifndef PV_TEST_GPU_SIM_H
#define PV_TEST_GPU_SIM_H

#include "virtio/gpu.h"
#include "virtio_sim.h"

#define GPU_SIM_SHM_SIZE (1u << 20)

struct gpu_t {
	struct sim s;
	struct virtio_gpu_shm shm;
};

/* rd NULL: 2D only, no window. Otherwise a 1 MiB window at 4 GiB. */
void gpu_up_with(struct gpu_t *t, const struct virtio_gpu_renderer *rd);
void gpu_down(struct gpu_t *t);
void hdr(uint8_t *b, uint32_t type, uint32_t flags, uint64_t fence, uint32_t ctx, uint8_t ring);
void put32(uint8_t *b, size_t off, uint32_t v);
void put64(uint8_t *b, size_t off, uint64_t v);
uint16_t post(struct gpu_t *t, const void *req, uint32_t len, uint64_t *resp_gpa,
	      uint32_t resp_len);
/* Response type of one command, 0 when none came back. */
uint32_t cmd(struct gpu_t *t, const void *req, uint32_t len, void *resp, uint32_t resp_len);
uint32_t simple(struct gpu_t *t, uint32_t type, uint32_t ctx, const uint32_t *args, unsigned n);
uint32_t ctx_create(struct gpu_t *t, uint32_t ctx, uint32_t capset);
uint32_t create_blob(struct gpu_t *t, uint32_t ctx, uint32_t id, uint32_t mem, uint32_t flags,
		     uint64_t size);
uint32_t map_blob(struct gpu_t *t, uint32_t id, uint64_t off, uint32_t *map_info);

#endif
