/*
 * virtio-gpu device model (see gpu.h). Queue 0 carries control commands,
 * queue 1 cursor commands. Each request chain is copied out of guest memory
 * once into a private buffer before it is parsed, so the guest cannot change
 * a command while we check it. Every failure is answered with an
 * VIRTIO_GPU_RESP_ERR_* response; nothing a guest sends can stop the host.
 *
 * Fences: a fenced command of a live 3D context is handed to the renderer
 * (submit_fence on its ring); its chain is held (already answered, not yet
 * returned) until fence_retired reports that fence or a later one on the
 * same (context, ring). The callback comes from renderer threads and only
 * queues the event; the device's fence thread takes the device lock and
 * returns the chains, so no renderer thread ever waits for the device lock
 * (venus_context_destroy, called under it, joins those threads).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os/log.h"
#include "os/util.h"
#include "virtio/gpu.h"
#include "virtio/iov.h"
#include "vmm/guest_mem.h"

#define GPU_CTRLQ 0
#define GPU_CURSORQ 1

#define GPU_MAX_DIM 16384
#define GPU_MAX_2D_BYTES (512ull << 20)   /* all 2D resources together */
#define GPU_MAX_BLOB_SIZE (1ull << 32)
#define GPU_MAX_RESOURCES 65536
#define GPU_MAX_CONTEXTS 1024
#define GPU_MAX_ENTRIES 262144             /* page list of a 1 GiB buffer */
#define GPU_MAX_REQUEST (16u << 20)
#define GPU_MAX_RING_IDX 64
#define GPU_PAGE 4096ull
#define GPU_RES_BUCKETS 1024

struct gpu_res {
	uint32_t id;
	bool is_blob;
	/* 2D */
	uint32_t format, width, height;
	uint8_t *pixels;             /* width*4 bytes per row */
	/* guest backing (2D and GUEST blobs) */
	struct iovec *backing;
	unsigned nr_backing;
	/* blob */
	uint32_t blob_mem, blob_flags, map_info;
	uint64_t blob_size;
	int fd;
	uint32_t ctx_id;             /* 0: no renderer resource (or ctx gone) */
	bool mapped;
	uint64_t map_off, map_len;
	struct gpu_res *next;
};

struct gpu_ctx {
	struct gpu_dev *g;
	uint32_t id;
	/* NULL for a context created without a capset (see cmd_ctx_create). */
	struct venus_context *vctx;
	struct gpu_ctx *next;
};

struct held_fence {
	bool used;
	uint32_t ctx_id, ring;
	uint64_t fence_id;
	uint16_t head;
	uint32_t len;
};

struct retired_fence {
	uint32_t ctx_id, ring;
	uint64_t fence_id;
};

struct gpu_dev {
	struct virtio_device vdev;
	struct virtio_gpu_config cfg;
	struct virtq_chain chain;

	uint8_t *req;                /* copy of the current request */
	size_t req_cap;

	struct gpu_res *res[GPU_RES_BUCKETS];
	unsigned nr_res;
	uint64_t bytes_2d;
	struct gpu_ctx *ctxs;
	unsigned nr_ctx;

	uint32_t scanout_res;        /* 0: disabled */
	struct virtio_gpu_rect scanout_rect;
	/* The last frame shown before the scanout went away (disabled, its
	 * resource freed, the device reset): a guest that shuts down turns
	 * its display off, and the exit screenshot should still show what
	 * it last had on screen. RGB, last_w x last_h. */
	uint8_t *last_rgb;
	uint32_t last_w, last_h;

	struct held_fence held[VIRTQ_MAX_SIZE];

	/* fence_lock guards retired[] and stop; taken without the device lock
	 * by renderer threads. */
	pthread_mutex_t fence_lock;
	pthread_cond_t fence_cond;
	struct retired_fence *retired;
	size_t nr_retired, cap_retired;
	bool stop;
	pthread_t fence_thread;
	bool fence_thread_started;
};

#define TO_GPU(d) container_of(d, struct gpu_dev, vdev)

/* ---- tables ---- */

static struct gpu_res *res_find(struct gpu_dev *g, uint32_t id)
{
	for (struct gpu_res *r = g->res[id % GPU_RES_BUCKETS]; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

static struct gpu_ctx *ctx_find(struct gpu_dev *g, uint32_t id)
{
	for (struct gpu_ctx *c = g->ctxs; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void res_insert(struct gpu_dev *g, struct gpu_res *r)
{
	struct gpu_res **b = &g->res[r->id % GPU_RES_BUCKETS];
	r->next = *b;
	*b = r;
	g->nr_res++;
}

static void res_unmap(struct gpu_dev *g, struct gpu_res *r)
{
	if (!r->mapped)
		return;
	/* Put the reservation back so the window never holds a stale page. */
	void *p = (uint8_t *)g->cfg.shm->host + r->map_off;
	if (mmap(p, r->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0) == MAP_FAILED)
		pv_err("virtio-gpu: cannot restore the window at +0x%llx: %s",
		       (unsigned long long)r->map_off, strerror(errno));
	r->mapped = false;
}

static void res_free(struct gpu_dev *g, struct gpu_res *r)
{
	res_unmap(g, r);
	if (r->ctx_id) {
		struct gpu_ctx *c = ctx_find(g, r->ctx_id);
		if (c && c->vctx)
			g->cfg.renderer->destroy_resource(c->vctx, r->id);
	}
	if (r->fd >= 0)
		close(r->fd);
	if (r->pixels)
		g->bytes_2d -= (uint64_t)r->width * r->height * 4;
	free(r->pixels);
	free(r->backing);
	free(r);
}

static void keep_last_frame(struct gpu_dev *g);

static void res_remove(struct gpu_dev *g, uint32_t id)
{
	for (struct gpu_res **p = &g->res[id % GPU_RES_BUCKETS]; *p; p = &(*p)->next) {
		if ((*p)->id == id) {
			struct gpu_res *r = *p;
			if (g->scanout_res == id) {
				keep_last_frame(g);   /* while it is still found */
				g->scanout_res = 0;
			}
			*p = r->next;
			g->nr_res--;
			res_free(g, r);
			return;
		}
	}
}

/* ---- fences ---- */

static void fence_retired_cb(void *opaque, uint32_t ring_idx, uint64_t fence_id)
{
	struct gpu_ctx *c = opaque;
	struct gpu_dev *g = c->g;

	pthread_mutex_lock(&g->fence_lock);
	if (g->nr_retired == g->cap_retired) {
		size_t ncap = g->cap_retired ? g->cap_retired * 2 : 64;
		void *n = realloc(g->retired, ncap * sizeof(*g->retired));
		if (!n) {
			/* The guest's fence would hang; say so instead of
			 * failing silently. */
			pv_err("virtio-gpu: out of memory queueing fence %llu",
			       (unsigned long long)fence_id);
			pthread_mutex_unlock(&g->fence_lock);
			return;
		}
		g->retired = n;
		g->cap_retired = ncap;
	}
	g->retired[g->nr_retired++] = (struct retired_fence){ c->id, ring_idx, fence_id };
	pthread_cond_signal(&g->fence_cond);
	pthread_mutex_unlock(&g->fence_lock);
}

/* Lock held. Returns the held chains matching (ctx, ring, <= fence). */
static bool complete_held(struct gpu_dev *g, uint32_t ctx_id, bool any_ring, uint32_t ring,
			  uint64_t fence_id)
{
	struct virtqueue *vq = &g->vdev.vqs[GPU_CTRLQ];
	bool pushed = false;

	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++) {
		struct held_fence *h = &g->held[i];
		if (!h->used || h->ctx_id != ctx_id || (!any_ring && h->ring != ring) ||
		    h->fence_id > fence_id)
			continue;
		h->used = false;
		if (vq->started) {
			virtq_push(vq, h->head, h->len);
			pushed = true;
		}
	}
	return pushed;
}

/* Lock held. */
static void drain_retired(struct gpu_dev *g)
{
	struct retired_fence batch[64];
	bool pushed = false;

	for (;;) {
		size_t n;
		pthread_mutex_lock(&g->fence_lock);
		n = PV_MIN(g->nr_retired, ARRAY_SIZE(batch));
		if (n) {
			memcpy(batch, g->retired, n * sizeof(batch[0]));
			memmove(g->retired, g->retired + n,
				(g->nr_retired - n) * sizeof(batch[0]));
			g->nr_retired -= n;
		}
		pthread_mutex_unlock(&g->fence_lock);
		if (!n)
			break;
		for (size_t i = 0; i < n; i++)
			pushed |= complete_held(g, batch[i].ctx_id, false, batch[i].ring,
						batch[i].fence_id);
	}
	if (pushed)
		virtio_dev_signal_used(&g->vdev, GPU_CTRLQ);
}

static void *fence_thread(void *arg)
{
	struct gpu_dev *g = arg;

	pthread_mutex_lock(&g->fence_lock);
	while (!g->stop) {
		if (!g->nr_retired) {
			pthread_cond_wait(&g->fence_cond, &g->fence_lock);
			continue;
		}
		pthread_mutex_unlock(&g->fence_lock);
		pthread_mutex_lock(&g->vdev.lock);
		drain_retired(g);
		pthread_mutex_unlock(&g->vdev.lock);
		pthread_mutex_lock(&g->fence_lock);
	}
	pthread_mutex_unlock(&g->fence_lock);
	return NULL;
}

static bool hold_chain(struct gpu_dev *g, uint32_t ctx_id, uint32_t ring, uint64_t fence_id,
		       uint16_t head, uint32_t len)
{
	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++) {
		if (!g->held[i].used) {
			g->held[i] = (struct held_fence){ true, ctx_id, ring, fence_id, head, len };
			return true;
		}
	}
	return false;   /* cannot happen: at most queue-size chains are out */
}

/* ---- contexts ---- */

static void ctx_destroy(struct gpu_dev *g, struct gpu_ctx *c)
{
	for (struct gpu_ctx **p = &g->ctxs; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	g->nr_ctx--;
	/* Its blobs stay (the guest unrefs them) but no longer name renderer
	 * resources: the renderer frees them with the context. */
	for (unsigned b = 0; b < GPU_RES_BUCKETS; b++)
		for (struct gpu_res *r = g->res[b]; r; r = r->next)
			if (r->ctx_id == c->id)
				r->ctx_id = 0;
	if (c->vctx)
		g->cfg.renderer->ctx_destroy(c->vctx);
	/* Fences it will never retire complete now; the guest must not wait
	 * forever on a dead context. */
	if (complete_held(g, c->id, true, 0, UINT64_MAX))
		virtio_dev_signal_used(&g->vdev, GPU_CTRLQ);
	free(c);
}

/* ---- requests ---- */

struct gpu_req {
	struct virtio_gpu_ctrl_hdr hdr;
	const uint8_t *buf;          /* whole request, hdr included */
	size_t len;
	uint8_t resp[1024 + 64];     /* response body, hdr first */
	size_t resp_len;
	uint8_t *big_resp;           /* capset responses beyond resp[] */
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static bool bpp4_format(uint32_t f)
{
	switch (f) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM: case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM: case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM: case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM: case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return true;
	default:
		return false;
	}
}

static bool rect_ok(const struct virtio_gpu_rect *r, uint32_t w, uint32_t h)
{
	return pv_range_ok(r->x, r->width, w) && pv_range_ok(r->y, r->height, h);
}

static struct virtio_gpu_rect rd_rect(const uint8_t *p)
{
	return (struct virtio_gpu_rect){ rd32(p), rd32(p + 4), rd32(p + 8), rd32(p + 12) };
}

/* Builds the iovec list for nr page entries at ents; every entry must lie
 * wholly in guest RAM. total gets the summed length. */
static uint32_t parse_entries(struct gpu_dev *g, const uint8_t *ents, uint32_t nr,
			      struct iovec **out, unsigned *nr_out, uint64_t *total)
{
	struct iovec *iov = calloc(nr ? nr : 1, sizeof(*iov));
	uint64_t sum = 0;
	unsigned n = 0;

	if (!iov)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t addr = rd64(ents + i * 16ull);
		uint32_t len = rd32(ents + i * 16ull + 8);
		if (!len)
			continue;
		void *p = guest_mem_ptr(g->vdev.mem, addr, len);
		if (!p) {
			virtio_dev_guest_error(&g->vdev, "backing entry %u (0x%llx+0x%x) is not "
					       "guest RAM", i, (unsigned long long)addr, len);
			free(iov);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
		iov[n++] = (struct iovec){ p, len };
		sum += len;
	}
	if (!n) {
		free(iov);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	*out = iov;
	*nr_out = n;
	*total = sum;
	return 0;
}

static uint32_t cmd_get_display_info(struct gpu_dev *g, struct gpu_req *q)
{
	uint8_t *pm = q->resp + sizeof(struct virtio_gpu_ctrl_hdr);
	memset(pm, 0, 16 * 24);
	wr32(pm + 8, g->cfg.width);
	wr32(pm + 12, g->cfg.height);
	wr32(pm + 16, 1);
	q->resp_len = sizeof(struct virtio_gpu_ctrl_hdr) + 16 * 24;
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

static uint32_t cmd_create_2d(struct gpu_dev *g, struct gpu_req *q)
{
	const uint8_t *p = q->buf + 24;
	uint32_t id = rd32(p), fmt = rd32(p + 4), w = rd32(p + 8), h = rd32(p + 12);

	if (!id || res_find(g, id) || g->nr_res >= GPU_MAX_RESOURCES)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!bpp4_format(fmt) || !w || !h || w > GPU_MAX_DIM || h > GPU_MAX_DIM)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	uint64_t bytes = (uint64_t)w * h * 4;
	if (g->bytes_2d + bytes > GPU_MAX_2D_BYTES)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	struct gpu_res *r = calloc(1, sizeof(*r));
	if (r)
		r->pixels = calloc(1, bytes);
	if (!r || !r->pixels) {
		free(r);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	r->id = id;
	r->format = fmt;
	r->width = w;
	r->height = h;
	r->fd = -1;
	g->bytes_2d += bytes;
	res_insert(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_unref(struct gpu_dev *g, struct gpu_req *q)
{
	uint32_t id = rd32(q->buf + 24);
	if (!res_find(g, id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	res_remove(g, id);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_set_scanout(struct gpu_dev *g, struct gpu_req *q)
{
	struct virtio_gpu_rect r = rd_rect(q->buf + 24);
	uint32_t scanout = rd32(q->buf + 40), id = rd32(q->buf + 44);

	if (scanout != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (!id) {
		keep_last_frame(g);
		g->scanout_res = 0;
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	struct gpu_res *res = res_find(g, id);
	if (!res || !res->pixels)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r.width || !r.height || !rect_ok(&r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	g->scanout_res = id;
	g->scanout_rect = r;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_flush(struct gpu_dev *g, struct gpu_req *q)
{
	struct virtio_gpu_rect r = rd_rect(q->buf + 24);
	struct gpu_res *res = res_find(g, rd32(q->buf + 40));

	/* The host keeps the last transferred image; there is no window to
	 * present to, so a flush only checks its arguments. */
	if (!res || !res->pixels)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_ok(&r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_transfer_2d(struct gpu_dev *g, struct gpu_req *q)
{
	struct virtio_gpu_rect r = rd_rect(q->buf + 24);
	uint64_t off = rd64(q->buf + 40);
	struct gpu_res *res = res_find(g, rd32(q->buf + 48));

	if (!res || !res->pixels)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!rect_ok(&r, res->width, res->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	size_t stride = (size_t)res->width * 4, row = (size_t)r.width * 4;
	for (uint32_t y = 0; y < r.height; y++) {
		/* off + y*stride cannot overflow: off is checked by iov_to_buf
		 * against the (finite) backing, y*stride < 2^30. */
		uint64_t src = off + (uint64_t)y * stride;
		if (src < off)
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		uint8_t *dst = res->pixels + (size_t)(r.y + y) * stride + (size_t)r.x * 4;
		if (iov_to_buf(res->backing, res->nr_backing, src, dst, row) != row)
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_attach_backing(struct gpu_dev *g, struct gpu_req *q)
{
	struct gpu_res *res = res_find(g, rd32(q->buf + 24));
	uint32_t nr = rd32(q->buf + 28);

	if (!res || res->is_blob)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (res->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (nr > GPU_MAX_ENTRIES || !pv_range_ok(32, nr * 16ull, q->len))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	uint64_t total;
	struct iovec *iov;
	unsigned n;
	uint32_t err = parse_entries(g, q->buf + 32, nr, &iov, &n, &total);
	if (err)
		return err;
	res->backing = iov;
	res->nr_backing = n;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_detach_backing(struct gpu_dev *g, struct gpu_req *q)
{
	struct gpu_res *res = res_find(g, rd32(q->buf + 24));

	if (!res || res->is_blob)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!res->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	free(res->backing);
	res->backing = NULL;
	res->nr_backing = 0;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_capset_info(struct gpu_dev *g, struct gpu_req *q)
{
	const struct virtio_gpu_renderer *rd = g->cfg.renderer;
	uint8_t *p = q->resp + 24;

	if (!rd || rd32(q->buf + 24) != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	wr32(p, rd->capset_id);
	wr32(p + 4, rd->capset_version);
	wr32(p + 8, (uint32_t)rd->get_capset(rd->opaque, NULL, 0));
	wr32(p + 12, 0);
	q->resp_len = 40;
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

static uint32_t cmd_capset(struct gpu_dev *g, struct gpu_req *q)
{
	const struct virtio_gpu_renderer *rd = g->cfg.renderer;

	if (!rd || rd32(q->buf + 24) != rd->capset_id || rd32(q->buf + 28) > rd->capset_version)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	size_t size = rd->get_capset(rd->opaque, NULL, 0);
	if (size > 65536)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	q->big_resp = calloc(1, 24 + size);
	if (!q->big_resp)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	rd->get_capset(rd->opaque, q->big_resp + 24, size);
	q->resp_len = 24 + size;
	return VIRTIO_GPU_RESP_OK_CAPSET;
}

static uint32_t cmd_ctx_create(struct gpu_dev *g, struct gpu_req *q)
{
	const struct virtio_gpu_renderer *rd = g->cfg.renderer;
	uint32_t id = q->hdr.ctx_id, nlen = rd32(q->buf + 24), init = rd32(q->buf + 28);
	char name[65];

	if (!rd)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!id || ctx_find(g, id) || g->nr_ctx >= GPU_MAX_CONTEXTS)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	/* Only the renderer's capset exists. capset 0 (no CONTEXT_INIT) is
	 * what Linux sends for every DRM client that never asked for a capset,
	 * e.g. its own fbdev console creating a dumb buffer: such a context
	 * exists (attach/detach work, so the guest logs no errors) but has no
	 * renderer context; SUBMIT_3D and HOST3D blobs on it fail, so a
	 * guest virgl driver still fails cleanly. */
	uint32_t capset = init & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
	if ((capset && capset != rd->capset_id) || (init & ~VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	nlen = PV_MIN(nlen, 64u);
	memcpy(name, q->buf + 32, nlen);
	name[nlen] = 0;
	struct gpu_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	c->g = g;
	c->id = id;
	struct venus_context_callbacks cb = { .opaque = c, .fence_retired = fence_retired_cb };
	if (capset && rd->ctx_create(rd->opaque, id, name, &cb, &c->vctx)) {
		free(c);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	c->next = g->ctxs;
	g->ctxs = c;
	g->nr_ctx++;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_ctx_destroy(struct gpu_dev *g, struct gpu_req *q)
{
	struct gpu_ctx *c = ctx_find(g, q->hdr.ctx_id);
	if (!c)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	ctx_destroy(g, c);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_ctx_resource(struct gpu_dev *g, struct gpu_req *q)
{
	/* Venus contexts reach resources by id through their own blobs;
	 * attach/detach only have to name things that exist. */
	if (!ctx_find(g, q->hdr.ctx_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (!res_find(g, rd32(q->buf + 24)))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_submit_3d(struct gpu_dev *g, struct gpu_req *q)
{
	struct gpu_ctx *c = ctx_find(g, q->hdr.ctx_id);
	uint32_t size = rd32(q->buf + 24);

	if (!c)
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	if (!c->vctx) {
		virtio_dev_guest_error(&g->vdev, "SUBMIT_3D to context %u, which has no capset",
				       c->id);
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	if (!pv_range_ok(32, size, q->len))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (g->cfg.renderer->submit(c->vctx, q->buf + 32, size))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_create_blob(struct gpu_dev *g, struct gpu_req *q)
{
	const uint8_t *p = q->buf + 24;
	uint32_t id = rd32(p), mem = rd32(p + 4), flags = rd32(p + 8), nr = rd32(p + 12);
	uint64_t blob_id = rd64(p + 16), size = rd64(p + 24);

	if (!id || res_find(g, id) || g->nr_res >= GPU_MAX_RESOURCES)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!size || size > GPU_MAX_BLOB_SIZE ||
	    (flags & ~(uint32_t)(VENUS_BLOB_FLAG_MAPPABLE | VENUS_BLOB_FLAG_SHAREABLE |
				 VENUS_BLOB_FLAG_CROSS_DEVICE)))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (nr > GPU_MAX_ENTRIES || !pv_range_ok(56, nr * 16ull, q->len))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;

	struct gpu_res *r = calloc(1, sizeof(*r));
	if (!r)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	r->id = id;
	r->is_blob = true;
	r->blob_mem = mem;
	r->blob_flags = flags;
	r->blob_size = size;
	r->fd = -1;

	uint32_t err = 0;
	if (mem == VENUS_BLOB_MEM_GUEST) {
		uint64_t total = 0;
		if (!nr || flags & VENUS_BLOB_FLAG_MAPPABLE)
			err = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		else if (!(err = parse_entries(g, q->buf + 56, nr, &r->backing, &r->nr_backing,
						 &total))) {
			if (total < size)
				err = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
	} else if (mem == VENUS_BLOB_MEM_HOST3D) {
		struct gpu_ctx *c = ctx_find(g, q->hdr.ctx_id);
		struct venus_blob b = { .fd = -1 };
		if (!c || !c->vctx)
			err = VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
		else if (nr)
			err = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		else if (g->cfg.renderer->create_blob(c->vctx, id, mem, flags, blob_id, size, &b))
			err = VIRTIO_GPU_RESP_ERR_UNSPEC;
		else {
			r->ctx_id = c->id;
			r->fd = b.fd;
			r->map_info = b.map_info;
			if (b.fd < 0 || b.size < size)
				err = VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
	} else {
		err = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (err) {
		res_free(g, r);
		return err;
	}
	res_insert(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_map_blob(struct gpu_dev *g, struct gpu_req *q)
{
	struct gpu_res *r = res_find(g, rd32(q->buf + 24));
	uint64_t off = rd64(q->buf + 32);
	const struct virtio_gpu_shm *shm = g->cfg.shm;

	if (!r || !r->is_blob)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!shm || !shm->size || r->fd < 0 || !(r->blob_flags & VENUS_BLOB_FLAG_MAPPABLE) ||
	    r->mapped)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	uint64_t len = PV_ALIGN_UP(r->blob_size, GPU_PAGE);
	if (off % GPU_PAGE || !pv_range_ok(off, len, shm->size))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	for (unsigned b = 0; b < GPU_RES_BUCKETS; b++)
		for (struct gpu_res *o = g->res[b]; o; o = o->next)
			if (o->mapped && off < o->map_off + o->map_len && o->map_off < off + len)
				return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	void *at = (uint8_t *)shm->host + off;
	if (mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, r->fd, 0) == MAP_FAILED) {
		virtio_dev_guest_error(&g->vdev, "map of resource %u failed: %s", r->id,
				       strerror(errno));
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	r->mapped = true;
	r->map_off = off;
	r->map_len = len;
	wr32(q->resp + 24, r->map_info);
	wr32(q->resp + 28, 0);
	q->resp_len = 32;
	return VIRTIO_GPU_RESP_OK_MAP_INFO;
}

static uint32_t cmd_unmap_blob(struct gpu_dev *g, struct gpu_req *q)
{
	struct gpu_res *r = res_find(g, rd32(q->buf + 24));

	if (!r || !r->is_blob)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->mapped)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	res_unmap(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

struct cmd_desc {
	uint32_t type;
	uint32_t min_len;            /* request bytes, hdr included */
	bool needs_3d;
	uint32_t (*fn)(struct gpu_dev *g, struct gpu_req *q);
};

static const struct cmd_desc cmds[] = {
	{ VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 24, false, cmd_get_display_info },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 40, false, cmd_create_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_UNREF, 32, false, cmd_unref },
	{ VIRTIO_GPU_CMD_SET_SCANOUT, 48, false, cmd_set_scanout },
	{ VIRTIO_GPU_CMD_RESOURCE_FLUSH, 48, false, cmd_flush },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 56, false, cmd_transfer_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 32, false, cmd_attach_backing },
	{ VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 32, false, cmd_detach_backing },
	{ VIRTIO_GPU_CMD_GET_CAPSET_INFO, 32, true, cmd_capset_info },
	{ VIRTIO_GPU_CMD_GET_CAPSET, 32, true, cmd_capset },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, 56, true, cmd_create_blob },
	{ VIRTIO_GPU_CMD_CTX_CREATE, 96, true, cmd_ctx_create },
	{ VIRTIO_GPU_CMD_CTX_DESTROY, 24, true, cmd_ctx_destroy },
	{ VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 32, true, cmd_ctx_resource },
	{ VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 32, true, cmd_ctx_resource },
	{ VIRTIO_GPU_CMD_SUBMIT_3D, 32, true, cmd_submit_3d },
	{ VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, 40, true, cmd_map_blob },
	{ VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 32, true, cmd_unmap_blob },
};

/* Lock held. Parses and runs one chain; answers or holds it. Returns true
 * when the chain was pushed. */
static bool handle_chain(struct gpu_dev *g, unsigned qi, struct virtq_chain *c)
{
	struct virtqueue *vq = &g->vdev.vqs[qi];
	struct gpu_req *q = calloc(1, sizeof(*q));
	uint32_t type = VIRTIO_GPU_RESP_ERR_UNSPEC;

	if (!q) {
		virtq_push(vq, c->head, 0);
		return true;
	}
	q->resp_len = sizeof(struct virtio_gpu_ctrl_hdr);
	if (c->out_len < sizeof(q->hdr) || c->out_len > GPU_MAX_REQUEST) {
		virtio_dev_guest_error(&g->vdev, "request of %llu bytes refused",
				       (unsigned long long)c->out_len);
		type = c->out_len < sizeof(q->hdr) ? VIRTIO_GPU_RESP_ERR_UNSPEC
						   : VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
		goto respond;
	}
	if (c->out_len > g->req_cap) {
		uint8_t *nb = realloc(g->req, c->out_len);
		if (!nb) {
			type = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
			goto respond;
		}
		g->req = nb;
		g->req_cap = c->out_len;
	}
	q->len = iov_to_buf(c->iov, c->nr_out, 0, g->req, c->out_len);
	q->buf = g->req;
	memcpy(&q->hdr, q->buf, sizeof(q->hdr));

	const struct cmd_desc *d = NULL;
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++)
		if (cmds[i].type == q->hdr.type)
			d = &cmds[i];
	if (qi == GPU_CURSORQ) {
		/* No cursor plane on the host; accept well-formed requests. */
		type = (q->hdr.type == VIRTIO_GPU_CMD_UPDATE_CURSOR ||
			q->hdr.type == VIRTIO_GPU_CMD_MOVE_CURSOR) && q->len >= 56
			       ? VIRTIO_GPU_RESP_OK_NODATA : VIRTIO_GPU_RESP_ERR_UNSPEC;
	} else if (!d) {
		virtio_dev_guest_error(&g->vdev, "unsupported command 0x%x", q->hdr.type);
		type = VIRTIO_GPU_RESP_ERR_UNSPEC;
	} else if (q->len < d->min_len) {
		type = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	} else if (d->needs_3d && !g->cfg.renderer) {
		type = VIRTIO_GPU_RESP_ERR_UNSPEC;
	} else {
		type = d->fn(g, q);
	}

respond:;
	uint8_t *resp = q->big_resp ? q->big_resp : q->resp;
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC)
		q->resp_len = sizeof(struct virtio_gpu_ctrl_hdr);
	struct virtio_gpu_ctrl_hdr rh = {
		.type = type,
		.flags = q->hdr.flags & (VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX),
		.fence_id = q->hdr.fence_id,
		.ctx_id = q->hdr.ctx_id,
		.ring_idx = q->hdr.ring_idx,
	};
	memcpy(resp, &rh, sizeof(rh));
	uint32_t written = (uint32_t)iov_from_buf(c->iov + c->nr_out, c->nr_in, 0, resp,
						  q->resp_len);
	if (written < q->resp_len)
		virtio_dev_guest_error(&g->vdev, "response buffer of %llu bytes too small for %zu",
				       (unsigned long long)c->in_len, q->resp_len);

	bool hold = false;
	struct gpu_ctx *ctx = (q->hdr.flags & VIRTIO_GPU_FLAG_FENCE) && q->hdr.type != VIRTIO_GPU_CMD_CTX_DESTROY
				      ? ctx_find(g, q->hdr.ctx_id) : NULL;
	/* Only a renderer context retires fences; others answer at once. */
	if (ctx && ctx->vctx && qi == GPU_CTRLQ) {
		uint32_t ring = (q->hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) ? q->hdr.ring_idx : 0;
		/* Hold first: the renderer may retire ring 0 inside the call. */
		if (ring < GPU_MAX_RING_IDX &&
		    hold_chain(g, ctx->id, ring, q->hdr.fence_id, c->head, written)) {
			hold = true;
			if (g->cfg.renderer->submit_fence(ctx->vctx, ring, q->hdr.fence_id)) {
				complete_held(g, ctx->id, false, ring, q->hdr.fence_id);
				/* complete_held pushed it (and any older ones). */
				free(q->big_resp);
				free(q);
				return true;
			}
		}
	}
	free(q->big_resp);
	free(q);
	if (hold)
		return false;
	virtq_push(vq, c->head, written);
	return true;
}

static void gpu_notify(struct virtio_device *dev, unsigned qi)
{
	struct gpu_dev *g = TO_GPU(dev);
	struct virtqueue *vq = &dev->vqs[qi];
	bool pushed = false;
	int got = 0;

	while (dev->active && (got = virtq_pop(vq, &g->chain)) > 0)
		pushed |= handle_chain(g, qi, &g->chain);
	if (dev->active && got < 0)
		virtio_dev_queue_broken(dev, qi);
	if (pushed)
		virtio_dev_signal_used(dev, qi);
	/* Ring 0 fences retire inside submit_fence; return them now. */
	if (qi == GPU_CTRLQ)
		drain_retired(g);
}

static void gpu_drop_all(struct gpu_dev *g)
{
	/* Held chains die with the rings (reset) or the device; forget them
	 * first so tearing down contexts pushes nothing. */
	memset(g->held, 0, sizeof(g->held));
	keep_last_frame(g);
	while (g->ctxs)
		ctx_destroy(g, g->ctxs);
	for (unsigned b = 0; b < GPU_RES_BUCKETS; b++) {
		while (g->res[b]) {
			struct gpu_res *r = g->res[b];
			g->res[b] = r->next;
			res_free(g, r);
		}
	}
	g->nr_res = 0;
	g->scanout_res = 0;
	pthread_mutex_lock(&g->fence_lock);
	g->nr_retired = 0;
	pthread_mutex_unlock(&g->fence_lock);
}

static void gpu_reset(struct virtio_device *dev)
{
	gpu_drop_all(TO_GPU(dev));
}

static void gpu_config_read(struct virtio_device *dev, uint32_t off, void *data, unsigned len)
{
	struct gpu_dev *g = TO_GPU(dev);
	uint32_t cfg[4] = { 0, 0, 1, g->cfg.renderer ? 1 : 0 };
	virtio_config_copy(cfg, sizeof(cfg), off, data, len);
}

static void gpu_config_write(struct virtio_device *dev, uint32_t off, const void *data,
			     unsigned len)
{
	/* Only events_clear is writable, and we never raise events. */
}

static bool gpu_shm_region(struct virtio_device *dev, uint8_t id, uint64_t *base, uint64_t *len)
{
	struct gpu_dev *g = TO_GPU(dev);
	if (id != VIRTIO_GPU_SHM_ID_HOST_VISIBLE || !g->cfg.shm || !g->cfg.shm->size)
		return false;
	*base = g->cfg.shm->gpa;
	*len = g->cfg.shm->size;
	return true;
}

static void gpu_destroy(struct virtio_device *dev)
{
	struct gpu_dev *g = TO_GPU(dev);

	if (g->fence_thread_started) {
		pthread_mutex_lock(&g->fence_lock);
		g->stop = true;
		pthread_cond_signal(&g->fence_cond);
		pthread_mutex_unlock(&g->fence_lock);
		pthread_join(g->fence_thread, NULL);
	}
	pthread_mutex_lock(&dev->lock);
	gpu_drop_all(g);
	free(g->last_rgb);
	g->last_rgb = NULL;
	pthread_mutex_unlock(&dev->lock);
	pthread_cond_destroy(&g->fence_cond);
	pthread_mutex_destroy(&g->fence_lock);
	free(g->retired);
	free(g->req);
	free((void *)dev->ops);
	virtio_dev_fini(dev);
	free(g);
}

/* The current scanout as RGB; the device lock is held. */
static int scanout_rgb_locked(struct gpu_dev *g, uint8_t **rgb, uint32_t *w, uint32_t *h)
{
	struct gpu_res *r = g->scanout_res ? res_find(g, g->scanout_res) : NULL;
	if (!r || !r->pixels)
		return -ENODATA;
	struct virtio_gpu_rect sr = g->scanout_rect;
	uint8_t *out = malloc((size_t)sr.width * sr.height * 3);
	if (!out)
		return -ENOMEM;
	/* Byte positions of R, G, B in a pixel, by format name order. */
	unsigned ri, gi, bi;
	switch (r->format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM: case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
		ri = 2; gi = 1; bi = 0; break;
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM: case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		ri = 1; gi = 2; bi = 3; break;
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM: case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
		ri = 3; gi = 2; bi = 1; break;
	default:
		ri = 0; gi = 1; bi = 2; break;
	}
	for (uint32_t y = 0; y < sr.height; y++) {
		const uint8_t *src = r->pixels + ((size_t)(sr.y + y) * r->width + sr.x) * 4;
		uint8_t *dst = out + (size_t)y * sr.width * 3;
		for (uint32_t x = 0; x < sr.width; x++, src += 4, dst += 3) {
			dst[0] = src[ri];
			dst[1] = src[gi];
			dst[2] = src[bi];
		}
	}
	*rgb = out;
	*w = sr.width;
	*h = sr.height;
	return 0;
}

static void keep_last_frame(struct gpu_dev *g)
{
	uint8_t *rgb;
	uint32_t w, h;
	if (scanout_rgb_locked(g, &rgb, &w, &h))
		return;
	free(g->last_rgb);
	g->last_rgb = rgb;
	g->last_w = w;
	g->last_h = h;
}

int virtio_gpu_scanout_rgb(struct virtio_device *dev, uint8_t **rgb, uint32_t *w, uint32_t *h)
{
	struct gpu_dev *g = TO_GPU(dev);

	pthread_mutex_lock(&dev->lock);
	int err = scanout_rgb_locked(g, rgb, w, h);
	if (err == -ENODATA && g->last_rgb) {
		size_t n = (size_t)g->last_w * g->last_h * 3;
		*rgb = malloc(n);
		if (*rgb) {
			memcpy(*rgb, g->last_rgb, n);
			*w = g->last_w;
			*h = g->last_h;
			err = 0;
		} else {
			err = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return err;
}

int virtio_gpu_screenshot(struct virtio_device *dev, const char *path)
{
	uint8_t *rgb;
	uint32_t w, h;
	int err = virtio_gpu_scanout_rgb(dev, &rgb, &w, &h);
	if (err)
		return err;
	err = pv_png_write_rgb(path, rgb, w, h);
	free(rgb);
	return err;
}

int virtio_gpu_shm_reserve(uint64_t size, struct virtio_gpu_shm *out)
{
	if (!size || size % GPU_PAGE)
		return -EINVAL;
	void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	out->host = p;
	out->size = size;
	return 0;
}

void virtio_gpu_shm_release(struct virtio_gpu_shm *shm)
{
	if (shm->host)
		munmap(shm->host, shm->size);
	shm->host = NULL;
	shm->size = 0;
}

struct virtio_device *virtio_gpu_create(const struct virtio_gpu_config *cfg)
{
	struct gpu_dev *g = calloc(1, sizeof(*g));
	/* ops carry the feature set, which depends on the renderer. */
	struct virtio_device_ops *ops = calloc(1, sizeof(*ops));

	if (!g || !ops || !cfg->width || !cfg->height || cfg->width > GPU_MAX_DIM ||
	    cfg->height > GPU_MAX_DIM) {
		pv_err("virtio-gpu: %s", g && ops ? "bad scanout size" : "out of memory");
		free(g);
		free(ops);
		return NULL;
	}
	*ops = (struct virtio_device_ops){
		.name = "virtio-gpu",
		.device_id = VIRTIO_ID_GPU,
		.num_queues = 2,
		.queue_max = VIRTQ_MAX_SIZE,
		.config_size = 16,
		.config_read = gpu_config_read,
		.config_write = gpu_config_write,
		.queue_notify = gpu_notify,
		.reset = gpu_reset,
		.destroy = gpu_destroy,
		.shm_region = gpu_shm_region,
	};
	if (cfg->renderer)
		ops->features = (1ull << VIRTIO_GPU_F_VIRGL) | (1ull << VIRTIO_GPU_F_RESOURCE_BLOB) |
				(1ull << VIRTIO_GPU_F_CONTEXT_INIT);
	g->cfg = *cfg;
	virtio_dev_init(&g->vdev, ops);
	pthread_mutex_init(&g->fence_lock, NULL);
	pthread_cond_init(&g->fence_cond, NULL);
	if (cfg->renderer) {
		int e = pthread_create(&g->fence_thread, NULL, fence_thread, g);
		if (e) {
			pv_err("virtio-gpu: cannot start the fence thread: %s", strerror(e));
			gpu_destroy(&g->vdev);
			return NULL;
		}
		g->fence_thread_started = true;
	}
	return &g->vdev;
}
