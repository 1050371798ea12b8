/*
 * The renderer and context objects behind venus.h: capset, context life
 * cycle, blob resources, and the one-line loss report.
 */
#include "venus/venus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu/gpu_host_runtime.h"
#include "os/log.h"
#include "os/shm.h"
#include "os/util.h"
#include "venus/vn_internal.h"

/* Capset layout (all u32, little-endian): see docs/venus-renderer.md. */
#define CAP_WIRE_FORMAT 0
#define CAP_VK_XML 4
#define CAP_CMD_SERIALIZATION 8
#define CAP_VENUS_PROTOCOL 12
#define CAP_BLOB_ID_0 16
#define CAP_EXT_MASK 20
#define CAP_WAIT_SYNCS 148
#define CAP_MULTI_TIMELINES 152
#define CAP_GUEST_VRAM 156

static void put32(uint8_t *cap, size_t off, uint32_t v)
{
	memcpy(cap + off, &v, 4);
}

static uint32_t ext_spec(const char *name)
{
	for (size_t i = 0; i < vn_extension_count; i++)
		if (!strcmp(vn_extension_table[i].name, name))
			return vn_extension_table[i].spec_version;
	return 0;
}

static void build_capset(struct venus_renderer *r)
{
	uint8_t *cap = r->capset;
	memset(cap, 0, VN_CAPSET_SIZE);
	put32(cap, CAP_WIRE_FORMAT, 1);
	put32(cap, CAP_VK_XML, VK_HEADER_VERSION_COMPLETE);
	put32(cap, CAP_CMD_SERIALIZATION, ext_spec("VK_EXT_command_serialization"));
	put32(cap, CAP_VENUS_PROTOCOL, ext_spec("VK_MESA_venus_protocol"));
	put32(cap, CAP_BLOB_ID_0, 1);
	/* Bit 0 marks the mask valid; bit N = extension number N. */
	uint32_t mask[32] = { 1 };
	for (size_t i = 0; i < vn_extension_count; i++) {
		uint32_t n = vn_extension_table[i].number;
		if (n < 32 * 32)
			mask[n / 32] |= 1u << (n % 32);
	}
	memcpy(cap + CAP_EXT_MASK, mask, sizeof(mask));
	put32(cap, CAP_WAIT_SYNCS, 1);
	put32(cap, CAP_MULTI_TIMELINES, 1);
	put32(cap, CAP_GUEST_VRAM, 0);
}

/* A tuning knob in µs (0..VN_SPIN_MAX_US) as ns; unset or invalid is 0. */
static uint64_t env_us_as_ns(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return 0;
	char *end;
	unsigned long us = strtoul(v, &end, 10);
	if (*end || us > VN_SPIN_MAX_US) {
		pv_warn("venus: %s=%s is not 0..%u; ignored", name, v, VN_SPIN_MAX_US);
		return 0;
	}
	return (uint64_t)us * 1000;
}

/* PEARVISOR_VENUS_SPIN_US when set (0: never poll); otherwise adaptive
 * polling up to VN_SPIN_AUTO_US on hosts with cores to spare. On the
 * 2-core CI host a polling thread used up its share and was descheduled
 * just as the guest's next command came (docs/PERFORMANCE.md). */
static uint64_t default_spin_ns(void)
{
	const char *v = getenv("PEARVISOR_VENUS_SPIN_US");
	if (v && *v)
		return env_us_as_ns("PEARVISOR_VENUS_SPIN_US");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus >= VN_SPIN_AUTO_MIN_CPUS ? VN_SPIN_AUTO_US * 1000ull : 0;
}

static unsigned spin_threads_from_env(void)
{
	const char *v = getenv("PEARVISOR_VENUS_SPIN_THREADS");
	if (!v || !*v)
		return VN_SPIN_DEFAULT;
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "vtest", VN_SPIN_VTEST },
		{ "ring", VN_SPIN_RING },
		{ "fence", VN_SPIN_FENCE },
		{ "fencewait", VN_SPIN_FENCE_WAIT },
		{ "vtestrest", VN_SPIN_VTEST_REST },
		{ "seqno", VN_SPIN_SEQNO },
	};
	unsigned mask = 0;
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (strlen(names[i].name) == n && !strncmp(p, names[i].name, n))
				break;
		if (i == ARRAY_SIZE(names))
			pv_warn("venus: PEARVISOR_VENUS_SPIN_THREADS: unknown thread kind '%.*s' "
				"(vtest, ring, fence, fencewait, vtestrest, seqno)", (int)n, p);
		else
			mask |= names[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	return mask;
}

int venus_renderer_create(const struct venus_renderer_options *opts,
			  struct venus_renderer **out)
{
	struct venus_renderer *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->opts = *opts;
	r->loader_version = VK_API_VERSION_1_0;
	gpu_host_runtime_prepare();
	if (vkEnumerateInstanceVersion(&r->loader_version) != VK_SUCCESS)
		r->loader_version = VK_API_VERSION_1_0;
	if (r->loader_version < VK_MAKE_API_VERSION(0, 1, 1, 0)) {
		pv_err("venus: the host Vulkan loader is older than 1.1");
		free(r);
		return -ENODEV;
	}
	/* hostptr by default: it works where dma-buf export of host-visible
	 * memory does not (NVIDIA) and is zero-copy everywhere it exists;
	 * devices without VK_EXT_external_memory_host fall back to export. */
	r->memory_mode = VN_MEMORY_HOSTPTR;
	const char *mm = getenv("PEARVISOR_VENUS_MEMORY");
	if (mm && !strcmp(mm, "export")) {
		r->memory_mode = VN_MEMORY_EXPORT;
		r->memory_mode_forced = true;
	} else if (mm && !strcmp(mm, "hostptr")) {
		r->memory_mode_forced = true;
	} else if (mm && *mm) {
		pv_warn("venus: PEARVISOR_VENUS_MEMORY=%s unknown (export|hostptr); using hostptr", mm);
	}
	pthread_mutex_init(&r->hostptr_lock, NULL);
	r->dump_dir = getenv("PEARVISOR_VENUS_DUMP");
	r->spin_ns = default_spin_ns();
	r->spin_threads = spin_threads_from_env();
	r->fence_poll_ns = env_us_as_ns("PEARVISOR_VENUS_FENCE_POLL_US");
	/* On by default since run 56 (docs/PERFORMANCE.md): ahead on vkmark
	 * and token generation on the H100, level elsewhere. */
	const char *fa = getenv("PEARVISOR_VENUS_FENCE_ATTACH");
	r->fence_attach = !fa || strcmp(fa, "0") != 0;
	const char *fc = getenv("PEARVISOR_VENUS_FENCE_CHAIN");
	r->fence_chain = !fc || strcmp(fc, "0") != 0;
	const char *rb = getenv("PEARVISOR_VENUS_RING_BORROW");
	r->ring_borrow = !rb || strcmp(rb, "0") != 0;
	/* -1 (unset): emulated where the host lacks the feature. */
	const char *ed = getenv("PEARVISOR_VENUS_EMULATE_DMA_BUF");
	r->emulate_dma_buf = ed && *ed ? !strcmp(ed, "1") : -1;
	const char *es = getenv("PEARVISOR_VENUS_EMULATE_SYNC_FD");
	r->emulate_sync_fd = es && *es ? !strcmp(es, "1") : -1;
	const char *sp = getenv("PEARVISOR_VENUS_SUBMIT_PROBE");
	r->submit_probe = sp && !strcmp(sp, "1");
	const char *pl = getenv("PEARVISOR_VENUS_PIPELINE");
	r->pipeline = pl && *pl && strcmp(pl, "0") != 0;
	const char *tr = getenv("PEARVISOR_VENUS_TRACE");
	r->trace = tr && !strcmp(tr, "1");
	build_capset(r);
	pv_info("venus: renderer up: vk.xml %u.%u.%u, %zu protocol extensions, %zu commands",
		VK_API_VERSION_MAJOR(VK_HEADER_VERSION_COMPLETE),
		VK_API_VERSION_MINOR(VK_HEADER_VERSION_COMPLETE),
		VK_API_VERSION_PATCH(VK_HEADER_VERSION_COMPLETE), vn_extension_count,
		(size_t)VN_CMD_TYPE_COUNT);
	pv_debug("venus: replay pipelining %s", r->pipeline ? "on" : "off");
	if (r->spin_ns)
		pv_info("venus: threads poll up to %llu us before blocking (adaptive; "
			"PEARVISOR_VENUS_SPIN_US=0 turns it off; kinds 0x%x)",
			(unsigned long long)(r->spin_ns / 1000), r->spin_threads);
	*out = r;
	return 0;
}

uint64_t venus_renderer_spin_ns(const struct venus_renderer *r)
{
	return r->spin_threads & VN_SPIN_VTEST ? r->spin_ns : 0;
}

uint64_t venus_renderer_rest_spin_ns(const struct venus_renderer *r)
{
	uint64_t ns = vn_spin_ns(r, VN_SPIN_VTEST_REST);
	return ns < VN_SPIN_REST_US * 1000ull ? ns : VN_SPIN_REST_US * 1000ull;
}

uint64_t vn_spin_ns(const struct venus_renderer *r, unsigned kind)
{
	return r->spin_threads & kind ? r->spin_ns : 0;
}

void venus_renderer_destroy(struct venus_renderer *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->hostptr_lock);
	free(r);
}

size_t venus_renderer_get_capset(struct venus_renderer *r, void *buf, size_t size)
{
	if (buf)
		memcpy(buf, r->capset, PV_MIN(size, (size_t)VN_CAPSET_SIZE));
	return VN_CAPSET_SIZE;
}

int venus_context_create(struct venus_renderer *r, uint32_t ctx_id,
			 const char *debug_name,
			 const struct venus_context_callbacks *cb,
			 struct venus_context **out)
{
	struct venus_context *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->r = r;
	ctx->id = ctx_id;
	snprintf(ctx->name, sizeof(ctx->name), "%s", debug_name ? debug_name : "");
	if (cb)
		ctx->cb = *cb;
	if (vn_objects_init(&ctx->objs)) {
		free(ctx);
		return -ENOMEM;
	}
	vn_trace_init(&ctx->trace, r->trace, VN_CMD_TYPE_COUNT);
	pthread_mutex_init(&ctx->lost_lock, NULL);
	pthread_mutex_init(&ctx->res_lock, NULL);
	pthread_mutex_init(&ctx->ring_lock, NULL);
	vn_exec_init(&ctx->exec, ctx, NULL);
	int err = vn_fences_start(ctx);
	if (err) {
		venus_context_destroy(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

static void set_lost(struct venus_context *ctx, bool by_device, const char *why)
{
	pthread_mutex_lock(&ctx->lost_lock);
	bool first = !atomic_load(&ctx->lost);
	if (first) {
		/* Before the loss shows, so that whoever sees it sees why. */
		atomic_store(&ctx->device_lost, by_device);
		atomic_store(&ctx->lost, true);
		pv_err("venus: ctx %u lost: %s", ctx->id, why);
	}
	pthread_mutex_unlock(&ctx->lost_lock);
	if (first)
		vn_rings_set_fatal(ctx);
}

void vn_context_set_lost(struct venus_context *ctx, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	set_lost(ctx, false, why);
}

void vn_context_device_lost(struct venus_context *ctx, const char *what)
{
	char why[256];
	snprintf(why, sizeof(why), "the host driver lost the device (%s)", what);
	set_lost(ctx, true, why);
}

bool venus_context_is_lost(const struct venus_context *ctx)
{
	return atomic_load(&ctx->lost);
}

bool venus_context_device_lost(const struct venus_context *ctx)
{
	return atomic_load(&ctx->device_lost);
}

size_t venus_context_object_count(const struct venus_context *ctx)
{
	return vn_objects_count((struct vn_objects *)&ctx->objs);
}

int venus_context_submit(struct venus_context *ctx, const void *cmds, size_t size)
{
	if (atomic_load(&ctx->lost))
		return -EIO;
	return vn_exec_stream(&ctx->exec, cmds, size) ? 0 : -EIO;
}

/* ---- resources ------------------------------------------------------ */

struct vn_resource *vn_context_get_resource(struct venus_context *ctx, uint32_t res_id)
{
	pthread_mutex_lock(&ctx->res_lock);
	struct vn_resource *r = ctx->resources;
	while (r && r->res_id != res_id)
		r = r->next;
	if (r)
		r->refs++;
	pthread_mutex_unlock(&ctx->res_lock);
	return r;
}

static void resource_free(struct vn_resource *r)
{
	os_shm_unmap(r->map, r->size);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

void vn_resource_put(struct venus_context *ctx, struct vn_resource *res)
{
	pthread_mutex_lock(&ctx->res_lock);
	bool last = --res->refs == 0;
	pthread_mutex_unlock(&ctx->res_lock);
	if (last)
		resource_free(res);
}

int venus_context_create_blob(struct venus_context *ctx, uint32_t res_id,
			      uint32_t blob_mem, uint32_t blob_flags,
			      uint64_t blob_id, uint64_t size,
			      struct venus_blob *out)
{
	if (atomic_load(&ctx->lost))
		return -EIO;
	struct vn_resource *old = vn_context_get_resource(ctx, res_id);
	if (old) {
		vn_resource_put(ctx, old);
		pv_warn("venus: ctx %u: resource %u already exists", ctx->id, res_id);
		return -EEXIST;
	}
	if (blob_id)
		return vn_memory_export_blob(ctx, blob_id, out);
	if (blob_mem != VENUS_BLOB_MEM_HOST3D && blob_mem != VENUS_BLOB_MEM_GUEST) {
		pv_warn("venus: ctx %u: blob_mem %u unsupported for shared memory", ctx->id, blob_mem);
		return -EINVAL;
	}
	if (!size || size > (UINT64_C(1) << 32)) {
		pv_warn("venus: ctx %u: shared-memory blob of %llu bytes refused", ctx->id,
			(unsigned long long)size);
		return -EINVAL;
	}
	struct vn_resource *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->res_id = res_id;
	r->size = size;
	r->refs = 1;
	r->fd = os_shm_create("venus-shmem", size);
	if (r->fd < 0) {
		int err = r->fd;
		free(r);
		return err;
	}
	r->map = os_shm_map(r->fd, size);
	int fd = r->map ? dup(r->fd) : -1;
	if (fd < 0) {
		r->map = NULL;
		resource_free(r);
		return -ENOMEM;
	}
	pthread_mutex_lock(&ctx->res_lock);
	r->next = ctx->resources;
	ctx->resources = r;
	pthread_mutex_unlock(&ctx->res_lock);
	out->fd = fd;
	out->size = size;
	out->map_info = VENUS_MAP_CACHE_CACHED;
	return 0;
}

void venus_context_destroy_resource(struct venus_context *ctx, uint32_t res_id)
{
	pthread_mutex_lock(&ctx->res_lock);
	struct vn_resource **pp = &ctx->resources;
	while (*pp && (*pp)->res_id != res_id)
		pp = &(*pp)->next;
	struct vn_resource *r = *pp;
	if (r)
		*pp = r->next;
	pthread_mutex_unlock(&ctx->res_lock);
	if (r)
		vn_resource_put(ctx, r);
}

int venus_context_submit_fence(struct venus_context *ctx, uint32_t ring_idx,
			       uint64_t fence_id)
{
	return vn_fence_submit(ctx, ring_idx, fence_id);
}

void venus_context_fence_counts(const struct venus_context *ctx, uint64_t *total,
				uint64_t *attached, uint64_t *chained)
{
	*total = atomic_load(&ctx->fences_total);
	*attached = atomic_load(&ctx->fences_attached);
	*chained = atomic_load(&ctx->fences_chained);
}

/* ---- teardown -------------------------------------------------------- */

/* Destroys a device's children (deepest first), then the device. */
static void destroy_device_tree(struct venus_context *ctx, struct vn_object *dev)
{
	struct vn_device_data *dd = dev->data;
	VkDevice device = (VkDevice)(uintptr_t)dev->handle;
	if (!dd)
		return;
	dd->fns.DeviceWaitIdle(device);
	/* Pools free their command buffers and sets; destroy everything
	 * else explicitly, pools after their children are forgotten. */
	for (struct vn_object *o = dev->children; o; o = o->sib_next) {
		for (struct vn_object *ch = o->children; ch; ch = ch->sib_next)
			if (ch->type != VN_OBJ_VkCommandBuffer && ch->type != VN_OBJ_VkDescriptorSet)
				vn_destroy_host_object(&dd->fns, device, o->handle, ch->type, ch->handle);
	}
	for (struct vn_object *o = dev->children; o; o = o->sib_next)
		if (o->type != VN_OBJ_VkQueue)
			vn_destroy_host_object(&dd->fns, device, 0, o->type, o->handle);
	vn_device_fences_fini(ctx, dd, device);
	dd->fns.DestroyDevice(device, NULL);
}

void venus_context_destroy(struct venus_context *ctx)
{
	if (!ctx)
		return;
	vn_rings_stop_all(ctx);
	vn_fences_stop(ctx);
	/* Host objects the guest left behind: devices, then instances. */
	for (struct vn_object *inst = ctx->objs.roots; inst; inst = inst->sib_next) {
		if (inst->type != VN_OBJ_VkInstance || !inst->data)
			continue;
		for (struct vn_object *pd = inst->children; pd; pd = pd->sib_next)
			for (struct vn_object *dev = pd->children; dev; dev = dev->sib_next)
				if (dev->type == VN_OBJ_VkDevice)
					destroy_device_tree(ctx, dev);
		((struct vn_instance_data *)inst->data)->fns.DestroyInstance(
			(VkInstance)(uintptr_t)inst->handle, NULL);
	}
	vn_objects_fini(&ctx->objs);
	vn_exec_fini(&ctx->exec);
	uint64_t nf = atomic_load(&ctx->fences_total);
	if (nf)
		pv_info("venus: ctx %u: of %llu queue fences, %llu rode on the guest's own submits "
			"and %llu retired with the fence before them",
			ctx->id, (unsigned long long)nf,
			(unsigned long long)atomic_load(&ctx->fences_attached),
			(unsigned long long)atomic_load(&ctx->fences_chained));
	uint64_t ns = atomic_load(&ctx->dma_buf_stripped);
	if (ns)
		pv_info("venus: ctx %u: emulated dma-buf: took DMA_BUF out of %llu external-memory requests",
			ctx->id, (unsigned long long)ns);
	uint64_t no = atomic_load(&ctx->optimal_images);
	if (no)
		pv_info("venus: ctx %u: emulated drm modifier: %llu LINEAR-modifier images made "
			"OPTIMAL (no linear support for their usage)", ctx->id, (unsigned long long)no);
	vn_trace_fini(&ctx->trace, ctx->id);
	struct vn_resource *r = ctx->resources;
	while (r) {
		struct vn_resource *next = r->next;
		vn_resource_put(ctx, r);
		r = next;
	}
	pthread_mutex_destroy(&ctx->lost_lock);
	pthread_mutex_destroy(&ctx->res_lock);
	pthread_mutex_destroy(&ctx->ring_lock);
	free(ctx);
}
