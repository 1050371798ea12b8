/*
 * Commands whose meaning differs between guest and host, so they cannot be
 * forwarded as decoded: instance and device creation (versions, extension
 * filtering, function tables), enumeration (one exposed physical device,
 * the protocol's extension table), queues (timeline binding), and pool
 * resets that free children implicitly. Decoding is still generated; these
 * only replace the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/log.h"
#include "os/util.h"
#include "venus/vn_internal.h"

#define VN_MIN_API VK_MAKE_API_VERSION(0, 1, 1, 0)

static const struct vn_extension_info *protocol_ext(const char *name)
{
	size_t lo = 0, hi = vn_extension_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(vn_extension_table[mid].name, name);
		if (!c)
			return &vn_extension_table[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Vulkan's two-call enumeration for n available items: with no array the
 * count is set to n; with one, to how many fit. Returns how many entries
 * to fill (0 when only counting) and sets *ret (VK_INCOMPLETE when some
 * did not fit). */
static uint32_t enum_count(uint32_t n, uint32_t *count, const void *array, VkResult *ret)
{
	*ret = VK_SUCCESS;
	if (!count)
		return 0;
	if (!array) {
		*count = n;
		return 0;
	}
	uint32_t k = *count < n ? *count : n;
	*count = k;
	if (k < n)
		*ret = VK_INCOMPLETE;
	return k;
}

/* Copies n properties into the guest's array with Vulkan's count rules. */
static VkResult emit_props(const VkExtensionProperties *src, uint32_t n,
			   uint32_t *count, VkExtensionProperties *dst)
{
	VkResult ret;
	uint32_t k = enum_count(n, count, dst, &ret);
	if (k)
		memcpy(dst, src, k * sizeof(*src));
	return ret;
}

static bool list_has(const VkExtensionProperties *v, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(v[i].extensionName, name))
			return true;
	return false;
}

static VkExtensionProperties *host_instance_exts(uint32_t *n)
{
	*n = 0;
	if (vkEnumerateInstanceExtensionProperties(NULL, n, NULL) != VK_SUCCESS)
		return NULL;
	VkExtensionProperties *v = calloc(*n + 2, sizeof(*v));
	if (v && vkEnumerateInstanceExtensionProperties(NULL, n, v) < 0)
		*n = 0;
	return v;
}

/* Device extensions the renderer can emulate (each file's header says
 * how): listed to the guest when emulated and not the host's already, and
 * never reported as dropped at vkCreateDevice. */
static const char *const emulated_exts[] = {
	"VK_KHR_external_semaphore_fd",     /* h_external_semaphore_props */
	"VK_EXT_image_drm_format_modifier", /* vn_drm_modifier.c */
	"VK_EXT_external_memory_dma_buf",   /* vn_dma_buf.c */
};

static bool ext_emulated(const struct vn_physical_device_data *pdd, const char *name)
{
	if (!strcmp(name, emulated_exts[0]))
		return pdd && pdd->sync_fd_emulated;
	if (!strcmp(name, emulated_exts[1]))
		return vn_drm_modifier_emulated(pdd);
	if (!strcmp(name, emulated_exts[2]))
		return vn_dma_buf_emulated(pdd);
	return false;
}

static VkExtensionProperties *host_device_exts(const struct vn_instance_fns *f,
					       VkPhysicalDevice pd, uint32_t *n)
{
	*n = 0;
	if (!f->EnumerateDeviceExtensionProperties ||
	    f->EnumerateDeviceExtensionProperties(pd, NULL, n, NULL) != VK_SUCCESS)
		return NULL;
	/* Room for the emulated ones h_enumerate_device_exts appends. */
	VkExtensionProperties *v = calloc(*n + ARRAY_SIZE(emulated_exts), sizeof(*v));
	if (v && f->EnumerateDeviceExtensionProperties(pd, NULL, n, v) < 0)
		*n = 0;
	return v;
}

static void h_enumerate_instance_version(struct vn_exec *x, const struct vn_cmd_desc *c,
					 void *args, struct vn_decoder *d)
{
	struct vn_args_vkEnumerateInstanceVersion *a = args;
	if (a->pApiVersion)
		*a->pApiVersion = x->ctx->r->loader_version;
	a->ret = VK_SUCCESS;
}

static void h_enumerate_instance_exts(struct vn_exec *x, const struct vn_cmd_desc *c,
				      void *args, struct vn_decoder *d)
{
	struct vn_args_vkEnumerateInstanceExtensionProperties *a = args;
	if (a->pLayerName) {
		a->ret = VK_ERROR_LAYER_NOT_PRESENT;
		return;
	}
	uint32_t n;
	VkExtensionProperties *host = host_instance_exts(&n);
	VkExtensionProperties *out = calloc(n + 2, sizeof(*out));
	uint32_t k = 0;
	for (uint32_t i = 0; host && out && i < n; i++) {
		const struct vn_extension_info *pe = protocol_ext(host[i].extensionName);
		if (!pe)
			continue;
		out[k] = host[i];
		if (out[k].specVersion > pe->spec_version)
			out[k].specVersion = pe->spec_version;
		k++;
	}
	static const char *const own[] = { "VK_EXT_command_serialization",
					   "VK_MESA_venus_protocol" };
	for (size_t i = 0; out && i < 2; i++) {
		const struct vn_extension_info *pe = protocol_ext(own[i]);
		snprintf(out[k].extensionName, sizeof(out[k].extensionName), "%s", own[i]);
		out[k].specVersion = pe ? pe->spec_version : 1;
		k++;
	}
	a->ret = out ? emit_props(out, k, a->pPropertyCount, a->pProperties)
		     : VK_ERROR_OUT_OF_HOST_MEMORY;
	free(host);
	free(out);
}

static void h_enumerate_layers(struct vn_exec *x, const struct vn_cmd_desc *c,
			       void *args, struct vn_decoder *d)
{
	/* Both layer commands put the count pointer right before the array;
	 * layers are never exposed. */
	for (unsigned i = 0; i < c->nparams; i++) {
		const struct vn_field *f = &c->params[i];
		if (f->shape == VN_S_PTR && (f->flags & VN_F_COUNT)) {
			uint32_t *p;
			memcpy(&p, (char *)args + f->offset, sizeof(p));
			if (p)
				*p = 0;
		}
	}
	*(VkResult *)((char *)args + c->ret_offset) = VK_SUCCESS;
}

static void free_instance(struct vn_object *o)
{
	free(o->data);
}

static void h_create_instance(struct vn_exec *x, const struct vn_cmd_desc *c,
			      void *args, struct vn_decoder *d)
{
	struct vn_args_vkCreateInstance *a = args;
	struct venus_renderer *r = x->ctx->r;
	VkInstanceCreateInfo ci = *a->pCreateInfo;
	VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO };
	if (ci.pApplicationInfo)
		app = *ci.pApplicationInfo;
	if (app.apiVersion < VN_MIN_API)
		app.apiVersion = VN_MIN_API;
	if (app.apiVersion > r->loader_version)
		app.apiVersion = r->loader_version;
	ci.pApplicationInfo = &app;
	ci.enabledLayerCount = 0;
	ci.ppEnabledLayerNames = NULL;

	uint32_t n;
	VkExtensionProperties *host = host_instance_exts(&n);
	const char **names = calloc(ci.enabledExtensionCount + 1, sizeof(*names));
	uint32_t k = 0;
	for (uint32_t i = 0; names && i < ci.enabledExtensionCount; i++) {
		const char *e = ci.ppEnabledExtensionNames[i];
		if (host && list_has(host, n, e) && protocol_ext(e))
			names[k++] = e;
	}
	ci.enabledExtensionCount = k;
	ci.ppEnabledExtensionNames = names;

	struct vn_instance_data *data = calloc(1, sizeof(*data));
	VkInstance inst = VK_NULL_HANDLE;
	a->ret = data && names ? vkCreateInstance(&ci, NULL, &inst) : VK_ERROR_OUT_OF_HOST_MEMORY;
	free(host);
	free(names);
	if (a->ret != VK_SUCCESS) {
		free(data);
		return;
	}
	data->api_version = app.apiVersion;
	vn_load_instance_fns(vkGetInstanceProcAddr, inst, &data->fns);
	*a->pInstance = inst;
	uint64_t id = vn_out_ids(a->pInstance, 1)[0];
	struct vn_object *o = vn_objects_add(&x->ctx->objs, id, VN_OBJ_VkInstance,
					     (uint64_t)(uintptr_t)inst, NULL);
	if (!o) {
		vkDestroyInstance(inst, NULL);
		free(data);
		vn_decoder_fail(d, "instance id %llu is 0 or in use", (unsigned long long)id);
		return;
	}
	o->data = data;
	o->free_data = free_instance;
}

/* The host physical device the renderer exposes, or NULL. */
static VkPhysicalDevice chosen_physical_device(struct venus_context *ctx,
					       const struct vn_instance_fns *f,
					       VkInstance inst)
{
	uint32_t n = 0;
	if (f->EnumeratePhysicalDevices(inst, &n, NULL) != VK_SUCCESS || !n)
		return VK_NULL_HANDLE;
	VkPhysicalDevice *v = calloc(n, sizeof(*v));
	if (!v)
		return VK_NULL_HANDLE;
	if (f->EnumeratePhysicalDevices(inst, &n, v) < 0)
		n = 0;
	static const uint8_t zero[VK_UUID_SIZE];
	bool any = !memcmp(ctx->r->opts.device_uuid, zero, VK_UUID_SIZE);
	VkPhysicalDevice pick = VK_NULL_HANDLE;
	for (uint32_t i = 0; i < n && !pick; i++) {
		VkPhysicalDeviceIDProperties id = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES };
		VkPhysicalDeviceProperties2 p = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &id };
		if (f->GetPhysicalDeviceProperties2)
			f->GetPhysicalDeviceProperties2(v[i], &p);
		if (any || !memcmp(id.deviceUUID, ctx->r->opts.device_uuid, VK_UUID_SIZE))
			pick = v[i];
	}
	free(v);
	return pick;
}

static void free_plain(struct vn_object *o)
{
	free(o->data);
}

static struct vn_object *register_physical_device(struct venus_context *ctx,
						  struct vn_object *inst, uint64_t id,
						  VkPhysicalDevice pd)
{
	struct vn_object *o = vn_objects_get(&ctx->objs, id);
	if (o)
		return o->type == VN_OBJ_VkPhysicalDevice && o->handle == (uint64_t)(uintptr_t)pd ? o : NULL;
	struct vn_physical_device_data *data = calloc(1, sizeof(*data));
	if (!data)
		return NULL;
	vn_physical_device_probe(ctx->r, &((struct vn_instance_data *)inst->data)->fns, pd, data);
	o = vn_objects_add(&ctx->objs, id, VN_OBJ_VkPhysicalDevice, (uint64_t)(uintptr_t)pd, inst);
	if (!o) {
		free(data);
		return NULL;
	}
	o->data = data;
	o->free_data = free_plain;
	return o;
}

/* The instance object and the one physical device it exposes (NULL when
 * the chosen device is missing); fails the decoder for a bad instance. */
static struct vn_object *instance_and_device(struct vn_exec *x, VkInstance inst,
					     struct vn_decoder *d, VkPhysicalDevice *pd)
{
	struct vn_object *io = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkInstance,
						    (uint64_t)(uintptr_t)inst);
	if (!io || !io->data) {
		vn_decoder_fail(d, "instance is NULL");
		return NULL;
	}
	*pd = chosen_physical_device(x->ctx, &((struct vn_instance_data *)io->data)->fns, inst);
	return io;
}

static void h_enumerate_physical_devices(struct vn_exec *x, const struct vn_cmd_desc *c,
					 void *args, struct vn_decoder *d)
{
	struct vn_args_vkEnumeratePhysicalDevices *a = args;
	VkPhysicalDevice pd;
	struct vn_object *io = instance_and_device(x, a->instance, d, &pd);
	if (!io)
		return;
	/* The guest's ids for the array come with it, sized by its count. */
	uint32_t cap = a->pPhysicalDeviceCount ? *a->pPhysicalDeviceCount : 0;
	if (enum_count(pd ? 1 : 0, a->pPhysicalDeviceCount, a->pPhysicalDevices, &a->ret)) {
		uint64_t id = vn_out_ids(a->pPhysicalDevices, cap)[0];
		if (!register_physical_device(x->ctx, io, id, pd)) {
			vn_decoder_fail(d, "physical device id %llu is 0 or in use",
					(unsigned long long)id);
			return;
		}
		a->pPhysicalDevices[0] = pd;
	}
}

static void h_enumerate_physical_device_groups(struct vn_exec *x, const struct vn_cmd_desc *c,
					       void *args, struct vn_decoder *d)
{
	struct vn_args_vkEnumeratePhysicalDeviceGroups *a = args;
	VkPhysicalDevice pd;
	struct vn_object *io = instance_and_device(x, a->instance, d, &pd);
	if (!io)
		return;
	if (enum_count(pd ? 1 : 0, a->pPhysicalDeviceGroupCount,
		       a->pPhysicalDeviceGroupProperties, &a->ret)) {
		VkPhysicalDeviceGroupProperties *g = &a->pPhysicalDeviceGroupProperties[0];
		g->physicalDeviceCount = 1;
		memset(g->physicalDevices, 0, sizeof(g->physicalDevices));
		g->physicalDevices[0] = pd;
		g->subsetAllocation = VK_FALSE;
	}
}

static struct vn_object *pd_obj(struct vn_exec *x, VkPhysicalDevice pd)
{
	return vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkPhysicalDevice,
				    (uint64_t)(uintptr_t)pd);
}

static void h_enumerate_device_exts(struct vn_exec *x, const struct vn_cmd_desc *c,
				    void *args, struct vn_decoder *d)
{
	struct vn_args_vkEnumerateDeviceExtensionProperties *a = args;
	struct vn_object *po = pd_obj(x, a->physicalDevice);
	struct vn_object *io = vn_owner(po, VN_OBJ_VkInstance);
	if (!po || !io || !io->data) {
		vn_decoder_fail(d, "physical device is NULL");
		return;
	}
	if (a->pLayerName) {
		a->ret = VK_ERROR_LAYER_NOT_PRESENT;
		return;
	}
	uint32_t n;
	VkExtensionProperties *host = host_device_exts(&((struct vn_instance_data *)io->data)->fns,
						       a->physicalDevice, &n);
	uint32_t k = 0;
	for (uint32_t i = 0; host && i < n; i++) {
		const struct vn_extension_info *pe = protocol_ext(host[i].extensionName);
		if (!pe)
			continue;
		host[k] = host[i];
		if (host[k].specVersion > pe->spec_version)
			host[k].specVersion = pe->spec_version;
		k++;
	}
	/* Emulated ones the host lacks (one forced on where the host has it
	 * stays listed once, as the host's); host_device_exts left room. */
	struct vn_physical_device_data *pdd = po->data;
	for (size_t i = 0; host && i < ARRAY_SIZE(emulated_exts); i++) {
		const struct vn_extension_info *pe = protocol_ext(emulated_exts[i]);
		if (!pe || !ext_emulated(pdd, pe->name) || list_has(host, k, pe->name))
			continue;
		snprintf(host[k].extensionName, sizeof(host[k].extensionName), "%s", pe->name);
		host[k].specVersion = pe->spec_version;
		k++;
	}
	a->ret = emit_props(host, k, a->pPropertyCount, a->pProperties);
	free(host);
}

/*
 * SYNC_FD binary semaphores, emulated when the host cannot both import
 * and export them (lavapipe lacks VK_KHR_external_semaphore_fd, NVIDIA's
 * 580 driver does not import them; PEARVISOR_VENUS_EMULATE_SYNC_FD=1/0
 * forces it on/off): Mesa keeps sync_fd payloads in the guest
 * and only asks the renderer to move the host semaphore's state
 * (vkImportSemaphoreResourceMESA / vkWaitSemaphoreResourceMESA, which fall
 * back to empty submits). Reporting SYNC_FD as importable/exportable is
 * what lets Mesa 25 enable VK_KHR_synchronization2 and Vulkan 1.3.
 */
static bool is_binary_sync_fd(const VkPhysicalDeviceExternalSemaphoreInfo *info)
{
	if (!info || info->handleType != VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT)
		return false;
	for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext)
		if (s->sType == VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO &&
		    ((const VkSemaphoreTypeCreateInfo *)s)->semaphoreType != VK_SEMAPHORE_TYPE_BINARY)
			return false;
	return true;
}

static void h_external_semaphore_props(struct vn_exec *x, const struct vn_cmd_desc *c,
				       void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetPhysicalDeviceExternalSemaphoreProperties *a = args;
	vn_dispatch_generic(x, c, args, d);
	struct vn_object *po = pd_obj(x, a->physicalDevice);
	struct vn_physical_device_data *pdd = po ? po->data : NULL;
	if (d->fatal || !pdd || !pdd->sync_fd_emulated || !a->pExternalSemaphoreProperties ||
	    !is_binary_sync_fd(a->pExternalSemaphoreInfo))
		return;
	VkExternalSemaphoreProperties *p = a->pExternalSemaphoreProperties;
	p->exportFromImportedHandleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT;
	p->compatibleHandleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT;
	p->externalSemaphoreFeatures = VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
				       VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT;
}

static void h_create_semaphore(struct vn_exec *x, const struct vn_cmd_desc *c,
			       void *args, struct vn_decoder *d)
{
	struct vn_args_vkCreateSemaphore *a = args;
	struct vn_physical_device_data *pdd = vn_physical_device_data_of_device(x, a->device);
	if (pdd && pdd->sync_fd_emulated && a->pCreateInfo) {
		/* The export request is the emulation's to honour, not the
		 * host driver's (the decoded chain is ours to edit). */
		const VkBaseInStructure **pp = (const VkBaseInStructure **)
			&((VkSemaphoreCreateInfo *)a->pCreateInfo)->pNext;
		while (*pp) {
			if ((*pp)->sType == VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO) {
				*pp = (*pp)->pNext;
				continue;
			}
			pp = (const VkBaseInStructure **)&(*pp)->pNext;
		}
	}
	vn_dispatch_generic(x, c, args, d);
}

static void free_device(struct vn_object *o)
{
	struct vn_device_data *dd = o->data;
	if (dd)
		pthread_mutex_destroy(&dd->fence_lock);
	free(dd);
}

static void h_destroy_device(struct vn_exec *x, const struct vn_cmd_desc *c,
			     void *args, struct vn_decoder *d)
{
	struct vn_args_vkDestroyDevice *a = args;
	struct vn_object *o = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkDevice,
						   (uint64_t)(uintptr_t)a->device);
	if (o && o->data)
		vn_device_fences_fini(x->ctx, o->data, a->device);
	vn_dispatch_generic(x, c, args, d);
}

static void h_create_device(struct vn_exec *x, const struct vn_cmd_desc *c,
			    void *args, struct vn_decoder *d)
{
	struct vn_args_vkCreateDevice *a = args;
	struct vn_object *po = pd_obj(x, a->physicalDevice);
	struct vn_object *io = vn_owner(po, VN_OBJ_VkInstance);
	if (!po || !io || !io->data || !po->data) {
		vn_decoder_fail(d, "physical device is NULL");
		return;
	}
	const struct vn_instance_fns *f = &((struct vn_instance_data *)io->data)->fns;
	struct vn_physical_device_data *pdd = po->data;
	VkDeviceCreateInfo ci = *a->pCreateInfo;
	uint32_t n;
	VkExtensionProperties *host = host_device_exts(f, a->physicalDevice, &n);
	const char **names = calloc(ci.enabledExtensionCount + 4, sizeof(*names));
	struct vn_device_data *data = calloc(1, sizeof(*data));
	if (!names || !data) {
		free(host);
		free(names);
		free(data);
		a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
		return;
	}
	uint32_t k = 0;
	for (uint32_t i = 0; i < ci.enabledExtensionCount; i++) {
		const char *e = ci.ppEnabledExtensionNames[i];
		/* Emulated dma-buf: never the host's, even where it has one. */
		if (vn_dma_buf_emulated(pdd) && !strcmp(e, emulated_exts[2]))
			continue;
		if (host && list_has(host, n, e) && protocol_ext(e))
			names[k++] = e;
		else if (!ext_emulated(pdd, e))
			pv_warn("venus: ctx %u: dropping device extension %s (not on host)",
				x->ctx->id, e);
	}
	/* The renderer's own needs for mappable memory. */
	enum vn_memory_mode mode = pdd->memory_mode;
	static const char *const extra[] = { "VK_EXT_external_memory_host",
					     "VK_KHR_external_memory_fd",
					     "VK_EXT_external_memory_dma_buf" };
	for (size_t i = 0; i < 3; i++) {
		bool want = mode == VN_MEMORY_HOSTPTR ? i == 0 : i > 0;
		bool have = false;
		for (uint32_t j = 0; j < k; j++)
			have |= !strcmp(names[j], extra[i]);
		if (want && !have && host && list_has(host, n, extra[i]))
			names[k++] = extra[i];
	}
	ci.enabledExtensionCount = k;
	ci.ppEnabledExtensionNames = names;
	ci.enabledLayerCount = 0;
	ci.ppEnabledLayerNames = NULL;
	VkDevice dev = VK_NULL_HANDLE;
	a->ret = f->CreateDevice(a->physicalDevice, &ci, NULL, &dev);
	free(host);
	free(names);
	if (a->ret != VK_SUCCESS) {
		free(data);
		return;
	}
	data->physical_device = po;
	data->memory_mode = mode;
	pthread_mutex_init(&data->fence_lock, NULL);
	vn_load_device_fns(f->GetDeviceProcAddr, dev, &data->fns);
	*a->pDevice = dev;
	uint64_t id = vn_out_ids(a->pDevice, 1)[0];
	struct vn_object *o = vn_objects_add(&x->ctx->objs, id, VN_OBJ_VkDevice,
					     (uint64_t)(uintptr_t)dev, po);
	if (!o) {
		data->fns.DestroyDevice(dev, NULL);
		free(data);
		vn_decoder_fail(d, "device id %llu is 0 or in use", (unsigned long long)id);
		return;
	}
	o->data = data;
	o->free_data = free_device;
	pv_debug("venus: ctx %u: device created, memory mode %s", x->ctx->id,
		 mode == VN_MEMORY_HOSTPTR ? "hostptr" : "export");
}

static void free_queue(struct vn_object *o)
{
	struct vn_queue_data *q = o->data;
	vn_timeline_unbind_queue(q->ctx, o);
	/* vn_device_fences_fini took any attached fence before the device
	 * went; one attached since (a guest racing its own vkDestroyDevice)
	 * is forgotten, not waited on a device that is gone. */
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static void register_queue(struct vn_exec *x, struct vn_decoder *d, VkDevice dev,
			   VkQueue queue, uint64_t id, int ring_idx)
{
	struct venus_context *ctx = x->ctx;
	if (!queue)
		return;
	struct vn_object *o = vn_objects_get(&ctx->objs, id);
	if (o && (o->type != VN_OBJ_VkQueue || o->handle != (uint64_t)(uintptr_t)queue)) {
		vn_decoder_fail(d, "queue id %llu already names another object",
				(unsigned long long)id);
		return;
	}
	if (!o) {
		struct vn_queue_data *q = calloc(1, sizeof(*q));
		if (!q) {
			vn_decoder_fail(d, "out of memory");
			return;
		}
		q->ctx = ctx;
		q->ring_idx = -1;
		pthread_mutex_init(&q->lock, NULL);
		o = vn_objects_add(&ctx->objs, id, VN_OBJ_VkQueue, (uint64_t)(uintptr_t)queue,
				   vn_objects_of_handle(&ctx->objs, VN_OBJ_VkDevice,
						(uint64_t)(uintptr_t)dev));
		if (!o) {
			pthread_mutex_destroy(&q->lock);
			free(q);
			vn_decoder_fail(d, "queue id %llu is 0", (unsigned long long)id);
			return;
		}
		o->data = q;
		o->free_data = free_queue;
	}
	if (ring_idx >= 0) {
		if (ring_idx >= VN_MAX_TIMELINES) {
			vn_decoder_fail(d, "ringIdx %d out of range", ring_idx);
			return;
		}
		vn_timeline_bind(ctx, (uint32_t)ring_idx, o);
	}
}

static const struct vn_device_fns *device_fns(struct vn_exec *x, VkDevice dev)
{
	struct vn_object *o = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkDevice,
						   (uint64_t)(uintptr_t)dev);
	return o && o->data ? &((struct vn_device_data *)o->data)->fns : NULL;
}

static void h_get_device_queue(struct vn_exec *x, const struct vn_cmd_desc *c,
			       void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetDeviceQueue *a = args;
	const struct vn_device_fns *f = device_fns(x, a->device);
	if (!f || !a->pQueue) {
		vn_decoder_fail(d, "device or pQueue is NULL");
		return;
	}
	f->GetDeviceQueue(a->device, a->queueFamilyIndex, a->queueIndex, a->pQueue);
	register_queue(x, d, a->device, *a->pQueue, vn_out_ids(a->pQueue, 1)[0], -1);
}

static void h_get_device_queue2(struct vn_exec *x, const struct vn_cmd_desc *c,
				void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetDeviceQueue2 *a = args;
	const struct vn_device_fns *f = device_fns(x, a->device);
	if (!f || !a->pQueue || !f->GetDeviceQueue2) {
		vn_decoder_fail(d, "device or pQueue is NULL");
		return;
	}
	VkDeviceQueueInfo2 info = *a->pQueueInfo;
	int ring_idx = -1;
	/* The timeline binding is ours; the host driver never sees it. */
	const VkBaseInStructure **pp = (const VkBaseInStructure **)&info.pNext;
	while (*pp) {
		if ((*pp)->sType == VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA) {
			ring_idx = (int)((const VkDeviceQueueTimelineInfoMESA *)*pp)->ringIdx;
			*pp = (*pp)->pNext;
			continue;
		}
		pp = (const VkBaseInStructure **)&(*pp)->pNext;
	}
	f->GetDeviceQueue2(a->device, &info, a->pQueue);
	register_queue(x, d, a->device, *a->pQueue, vn_out_ids(a->pQueue, 1)[0], ring_idx);
}

static void h_reset_descriptor_pool(struct vn_exec *x, const struct vn_cmd_desc *c,
				    void *args, struct vn_decoder *d)
{
	struct vn_args_vkResetDescriptorPool *a = args;
	vn_dispatch_generic(x, c, args, d);
	struct vn_object *o = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkDescriptorPool,
						   (uint64_t)(uintptr_t)a->descriptorPool);
	if (o)
		vn_objects_remove_children(&x->ctx->objs, o);
}

vn_handler_fn vn_handler_for(uint32_t t)
{
	switch (t) {
	case VN_CMD_vkCreateInstance: return h_create_instance;
	case VN_CMD_vkEnumerateInstanceVersion: return h_enumerate_instance_version;
	case VN_CMD_vkEnumerateInstanceExtensionProperties: return h_enumerate_instance_exts;
	case VN_CMD_vkEnumerateInstanceLayerProperties: return h_enumerate_layers;
	case VN_CMD_vkEnumerateDeviceLayerProperties: return h_enumerate_layers;
	case VN_CMD_vkEnumeratePhysicalDevices: return h_enumerate_physical_devices;
	case VN_CMD_vkEnumeratePhysicalDeviceGroups: return h_enumerate_physical_device_groups;
	case VN_CMD_vkEnumerateDeviceExtensionProperties: return h_enumerate_device_exts;
	case VN_CMD_vkCreateDevice: return h_create_device;
	case VN_CMD_vkDestroyDevice: return h_destroy_device;
	case VN_CMD_vkGetDeviceQueue: return h_get_device_queue;
	case VN_CMD_vkQueueWaitIdle: return vn_handle_queue_wait_idle;
	case VN_CMD_vkQueueSubmit: return vn_handle_queue_submit;
	case VN_CMD_vkQueueSubmit2: return vn_handle_queue_submit2;
	case VN_CMD_vkDeviceWaitIdle: return vn_handle_device_wait_idle;
	case VN_CMD_vkGetDeviceQueue2: return h_get_device_queue2;
	case VN_CMD_vkResetDescriptorPool: return h_reset_descriptor_pool;
	case VN_CMD_vkGetPhysicalDeviceExternalSemaphoreProperties: return h_external_semaphore_props;
	case VN_CMD_vkCreateSemaphore: return h_create_semaphore;
	case VN_CMD_vkCreateImage: return vn_handle_create_image;
	case VN_CMD_vkCreateBuffer: return vn_handle_create_buffer;
	case VN_CMD_vkGetDeviceBufferMemoryRequirements: return vn_handle_device_buffer_reqs;
	case VN_CMD_vkGetPhysicalDeviceExternalBufferProperties: return vn_handle_external_buffer_props;
	case VN_CMD_vkGetDeviceImageMemoryRequirements: return vn_handle_device_image_reqs;
	case VN_CMD_vkGetPhysicalDeviceFormatProperties2: return vn_handle_format_props2;
	case VN_CMD_vkGetPhysicalDeviceImageFormatProperties2: return vn_handle_image_format_props2;
	case VN_CMD_vkGetImageDrmFormatModifierPropertiesEXT: return vn_handle_image_modifier_props;
	case VN_CMD_vkGetImageSubresourceLayout: return vn_handle_image_subresource_layout;
	case VN_CMD_vkGetImageSubresourceLayout2: return vn_handle_image_subresource_layout2;
	case VN_CMD_vkAllocateMemory: return vn_handle_allocate_memory;
	case VN_CMD_vkGetPhysicalDeviceMemoryProperties: return vn_handle_memory_props;
	case VN_CMD_vkGetPhysicalDeviceMemoryProperties2: return vn_handle_memory_props2;
	case VN_CMD_vkGetMemoryResourcePropertiesMESA: return vn_handle_get_memory_resource_properties;
	default: return NULL;
	}
}
