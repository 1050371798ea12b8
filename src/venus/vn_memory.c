/*
 * Host-visible memory the guest maps without copies. Every allocation of a
 * HOST_VISIBLE memory type is made mappable by fd at vkAllocateMemory time
 * (the guest asks for the blob only later, at vkMapMemory):
 *
 *  hostptr: a memfd is mmap()ed here and imported with
 *           VK_EXT_external_memory_host, so the driver uses exactly the
 *           pages the client maps from the same memfd.
 *  export:  the memory is allocated exportable and vkGetMemoryFdKHR's fd
 *           (dma-buf, else opaque fd) is handed out for mmap.
 *
 * PEARVISOR_VENUS_MEMORY=hostptr|export forces one; see
 * docs/venus-renderer.md for the default and why.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/log.h"
#include "os/shm.h"
#include "os/util.h"
#include "venus/vn_internal.h"

static const VkMemoryPropertyFlags host_flags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
						VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
						VK_MEMORY_PROPERTY_HOST_CACHED_BIT;

/* A type the guest cannot map must not look mappable: applications pick
 * types by flags, and an allocation the renderer cannot share would only
 * fail later, at vkMapMemory or blob creation. */
void vn_memory_mask_props(VkPhysicalDeviceMemoryProperties *p, uint32_t visible_types)
{
	uint32_t n = p->memoryTypeCount < VK_MAX_MEMORY_TYPES ? p->memoryTypeCount
							      : VK_MAX_MEMORY_TYPES;
	for (uint32_t i = 0; i < n; i++)
		if (!(visible_types & (1u << i)))
			p->memoryTypes[i].propertyFlags &= ~host_flags;
}

/* vkGetMemoryHostPointerPropertiesEXT needs a VkDevice, but the guest sees
 * memory types long before it creates one: ask a throwaway device, with
 * memory made the way real allocations are (a shared memfd mapping). */
static uint32_t probe_importable_types(const struct vn_instance_fns *f, VkPhysicalDevice pd,
				       size_t align)
{
	float prio = 1.0f;
	VkDeviceQueueCreateInfo q = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
				      .queueFamilyIndex = 0, .queueCount = 1,
				      .pQueuePriorities = &prio };
	const char *ext = "VK_EXT_external_memory_host";
	VkDeviceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
				  .queueCreateInfoCount = 1, .pQueueCreateInfos = &q,
				  .enabledExtensionCount = 1, .ppEnabledExtensionNames = &ext };
	VkDevice dev = VK_NULL_HANDLE;
	if (!f->CreateDevice || f->CreateDevice(pd, &ci, NULL, &dev) != VK_SUCCESS) {
		pv_warn("venus: cannot create a device to probe host-pointer import");
		return 0;
	}
	PFN_vkGetMemoryHostPointerPropertiesEXT get_props =
		(PFN_vkGetMemoryHostPointerPropertiesEXT)f->GetDeviceProcAddr(
			dev, "vkGetMemoryHostPointerPropertiesEXT");
	PFN_vkDestroyDevice destroy =
		(PFN_vkDestroyDevice)f->GetDeviceProcAddr(dev, "vkDestroyDevice");
	uint32_t bits = 0;
	int fd = os_shm_create("venus-probe", align);
	void *p = fd >= 0 ? os_shm_map(fd, align) : NULL;
	if (p && get_props) {
		VkMemoryHostPointerPropertiesEXT hp = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT };
		if (get_props(dev, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, p,
			      &hp) == VK_SUCCESS)
			bits = hp.memoryTypeBits;
	}
	if (p)
		os_shm_unmap(p, align);
	if (fd >= 0)
		close(fd);
	if (destroy)
		destroy(dev, NULL);
	return bits;
}

static uint32_t importable_types(struct venus_renderer *r, const struct vn_instance_fns *f,
				 VkPhysicalDevice pd, size_t align, const char *name,
				 const uint8_t uuid[VK_UUID_SIZE])
{
	pthread_mutex_lock(&r->hostptr_lock);
	struct vn_hostptr_probe *slot = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(r->hostptr_probes) && !slot; i++) {
		struct vn_hostptr_probe *e = &r->hostptr_probes[i];
		if (!e->used || !memcmp(e->uuid, uuid, VK_UUID_SIZE))
			slot = e;
	}
	uint32_t bits;
	if (slot && slot->used) {
		bits = slot->importable_types;
	} else {
		bits = probe_importable_types(f, pd, align);
		pv_info("venus: %s: host-pointer import works for memory types 0x%x", name,
			bits);
		if (slot) {
			memcpy(slot->uuid, uuid, VK_UUID_SIZE);
			slot->importable_types = bits;
			slot->used = true;
		}
	}
	pthread_mutex_unlock(&r->hostptr_lock);
	return bits;
}

void vn_physical_device_probe(struct venus_renderer *r, const struct vn_instance_fns *f,
			      VkPhysicalDevice pd, struct vn_physical_device_data *data)
{
	f->GetPhysicalDeviceMemoryProperties(pd, &data->mem_props);
	uint32_t n = 0;
	if (f->EnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) == VK_SUCCESS && n) {
		VkExtensionProperties *v = calloc(n, sizeof(*v));
		if (v && f->EnumerateDeviceExtensionProperties(pd, NULL, &n, v) >= 0) {
			for (uint32_t i = 0; i < n; i++) {
				const char *e = v[i].extensionName;
				data->has_ext_memory_host |= !strcmp(e, "VK_EXT_external_memory_host");
				data->has_ext_memory_fd |= !strcmp(e, "VK_KHR_external_memory_fd");
				data->has_dma_buf |= !strcmp(e, "VK_EXT_external_memory_dma_buf");
				data->has_ext_semaphore_fd |= !strcmp(e, "VK_KHR_external_semaphore_fd");
				data->has_drm_format_modifier |=
					!strcmp(e, "VK_EXT_image_drm_format_modifier");
			}
		}
		free(v);
	}
	/* Mesa 25's Venus builds WSI (VK_KHR_swapchain, headless included) only
	 * on a renderer with dma-buf external memory and SYNC_FD semaphore
	 * import and export; NVIDIA's 580 driver has neither. Emulated there
	 * by default (docs/graphics.md); Mesa 26 ran as fast with them as
	 * without (docs/PERFORMANCE.md, runs 27-28). */
	bool sync_fd_both = false;
	if (data->has_ext_semaphore_fd && f->GetPhysicalDeviceExternalSemaphoreProperties) {
		const VkPhysicalDeviceExternalSemaphoreInfo si = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
			.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT };
		VkExternalSemaphoreProperties sp = {
			.sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES };
		f->GetPhysicalDeviceExternalSemaphoreProperties(pd, &si, &sp);
		const VkExternalSemaphoreFeatureFlags both = VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
							     VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT;
		sync_fd_both = (sp.externalSemaphoreFeatures & both) == both;
	}
	data->dma_buf_emulated = r->emulate_dma_buf < 0 ? !data->has_dma_buf : r->emulate_dma_buf;
	data->sync_fd_emulated = r->emulate_sync_fd < 0 ? !sync_fd_both : r->emulate_sync_fd;
	if (r->emulate_dma_buf < 0 && data->dma_buf_emulated)
		pv_info("venus: the host driver lacks VK_EXT_external_memory_dma_buf: emulated "
			"(PEARVISOR_VENUS_EMULATE_DMA_BUF=0 turns that off)");
	if (r->emulate_sync_fd < 0 && data->sync_fd_emulated)
		pv_info("venus: the host driver does not both import and export SYNC_FD "
			"semaphores: emulated (PEARVISOR_VENUS_EMULATE_SYNC_FD=0 turns that off)");
	data->host_ptr_align = os_page_size();
	VkPhysicalDeviceExternalMemoryHostPropertiesEXT hp = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT };
	VkPhysicalDeviceIDProperties id = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES,
		.pNext = data->has_ext_memory_host ? &hp : NULL };
	VkPhysicalDeviceProperties2 p2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
					   .pNext = &id };
	if (f->GetPhysicalDeviceProperties2) {
		f->GetPhysicalDeviceProperties2(pd, &p2);
		if (hp.minImportedHostPointerAlignment > data->host_ptr_align)
			data->host_ptr_align = hp.minImportedHostPointerAlignment;
	}

	uint32_t host_visible = 0;
	for (uint32_t i = 0; i < data->mem_props.memoryTypeCount && i < VK_MAX_MEMORY_TYPES; i++)
		if (data->mem_props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
			host_visible |= 1u << i;
	enum vn_memory_mode mode = r->memory_mode;
	if (mode == VN_MEMORY_HOSTPTR && !data->has_ext_memory_host)
		mode = VN_MEMORY_EXPORT;
	if (mode == VN_MEMORY_EXPORT && !data->has_ext_memory_fd && data->has_ext_memory_host)
		mode = VN_MEMORY_HOSTPTR;
	data->visible_types = host_visible;
	if (mode == VN_MEMORY_HOSTPTR && f->GetPhysicalDeviceProperties2) {
		uint32_t ok = host_visible & importable_types(r, f, pd, data->host_ptr_align,
							      p2.properties.deviceName,
							      id.deviceUUID);
		if (!ok && data->has_ext_memory_fd && !r->memory_mode_forced)
			mode = VN_MEMORY_EXPORT; /* nothing importable: try fds */
		else
			data->visible_types = ok;
	}
	data->memory_mode = mode;
	vn_memory_mask_props(&data->mem_props, data->visible_types);
}

void vn_handle_memory_props(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			    struct vn_decoder *d)
{
	struct vn_args_vkGetPhysicalDeviceMemoryProperties *a = args;
	struct vn_physical_device_data *pdd = vn_physical_device_data_of(x, a->physicalDevice);
	if (!pdd || !a->pMemoryProperties) {
		vn_decoder_fail(d, "physicalDevice or pMemoryProperties is NULL");
		return;
	}
	*a->pMemoryProperties = pdd->mem_props;
}

void vn_handle_memory_props2(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			     struct vn_decoder *d)
{
	struct vn_args_vkGetPhysicalDeviceMemoryProperties2 *a = args;
	struct vn_physical_device_data *pdd = vn_physical_device_data_of(x, a->physicalDevice);
	if (!pdd || !a->pMemoryProperties) {
		vn_decoder_fail(d, "physicalDevice or pMemoryProperties is NULL");
		return;
	}
	/* The host fills the chain (memory budget); the types are ours. */
	vn_dispatch_generic(x, c, args, d);
	vn_memory_mask_props(&a->pMemoryProperties->memoryProperties, pdd->visible_types);
}

static void free_memory(struct vn_object *o)
{
	struct vn_memory_data *m = o->data;
	os_shm_unmap(m->map, m->map_size);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

struct device_ctx {
	struct vn_object *dev;
	struct vn_device_data *dd;
	struct vn_physical_device_data *pdd;
};

static bool device_ctx(struct vn_exec *x, VkDevice device, struct device_ctx *out)
{
	out->dev = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkDevice,
					(uint64_t)(uintptr_t)device);
	out->dd = out->dev ? out->dev->data : NULL;
	out->pdd = out->dd && out->dd->physical_device ? out->dd->physical_device->data : NULL;
	return out->dd && out->pdd;
}

void vn_handle_allocate_memory(struct vn_exec *x, const struct vn_cmd_desc *c,
			       void *args, struct vn_decoder *d)
{
	struct vn_args_vkAllocateMemory *a = args;
	struct device_ctx dc;
	if (!device_ctx(x, a->device, &dc) || !a->pMemory) {
		vn_decoder_fail(d, "device is NULL");
		return;
	}
	const struct vn_device_fns *f = &dc.dd->fns;
	VkMemoryAllocateInfo info = *a->pAllocateInfo;
	if (info.memoryTypeIndex >= dc.pdd->mem_props.memoryTypeCount) {
		a->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
		return;
	}
	bool visible = dc.pdd->visible_types & (1u << info.memoryTypeIndex);

	/* Rebuild the chain without the guest's export/import requests: how
	 * memory reaches the guest is the renderer's business. */
	const VkBaseInStructure *kept[32];
	unsigned nkept = 0;
	for (const VkBaseInStructure *s = info.pNext; s; s = s->pNext) {
		if (s->sType == VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO)
			continue;
		if (s->sType == VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA) {
			/* Importing guest blobs as device memory needs
			 * dma-buf resources, which vtest does not have. */
			a->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
			return;
		}
		if (nkept == ARRAY_SIZE(kept)) {
			vn_decoder_fail(d, "pAllocateInfo chain too long");
			return;
		}
		kept[nkept++] = s;
	}
	struct vn_memory_data *m = calloc(1, sizeof(*m));
	if (!m) {
		a->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
		return;
	}
	m->fd = -1;
	m->size = info.allocationSize;
	VkImportMemoryHostPointerInfoEXT import = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
	};
	VkExportMemoryAllocateInfo exp = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
		/* Opaque fds first: lavapipe's are mmap()able memfds while
		 * its dma-bufs need udmabuf. */
		.handleTypes = dc.pdd->has_ext_memory_fd ? VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT
							 : VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	const VkBaseInStructure *ours = NULL;
	if (visible && dc.dd->memory_mode == VN_MEMORY_HOSTPTR) {
		uint64_t align = dc.pdd->host_ptr_align;
		uint64_t size = info.allocationSize;
		if (!size || size > (UINT64_C(1) << 40)) {
			free(m);
			a->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
			return;
		}
		size = (size + align - 1) / align * align;
		int fd = os_shm_create("venus-memory", size);
		void *p = fd >= 0 ? os_shm_map(fd, size) : NULL;
		VkMemoryHostPointerPropertiesEXT hp = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT };
		if (p && f->GetMemoryHostPointerPropertiesEXT)
			f->GetMemoryHostPointerPropertiesEXT(a->device, import.handleType, p, &hp);
		if (!p || !(hp.memoryTypeBits & (1u << info.memoryTypeIndex))) {
			pv_warn("venus: ctx %u: cannot import host memory for type %u (%s)",
				x->ctx->id, info.memoryTypeIndex, p ? "type not importable" : "no memfd");
			os_shm_unmap(p, size);
			if (fd >= 0)
				close(fd);
			free(m);
			a->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
			return;
		}
		m->fd = fd;
		m->map = p;
		m->map_size = size;
		m->mappable = true;
		import.pHostPointer = p;
		/* A dedicated allocation must be exactly its resource's size,
		 * an import a multiple of the host's alignment: where the two
		 * differ the dedication (a hint, for host-visible memory) goes
		 * (validation flagged Mesa 26's 800x600 WSI buffers). */
		if (size != info.allocationSize) {
			unsigned k = 0;
			for (unsigned i = 0; i < nkept; i++)
				if (kept[i]->sType != VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO)
					kept[k++] = kept[i];
			nkept = k;
		}
		info.allocationSize = size;
		ours = (const VkBaseInStructure *)&import;
	} else if (visible) {
		ours = (const VkBaseInStructure *)&exp;
	}
	/* Relink: ours first, then the kept guest structs. */
	const VkBaseInStructure *head = NULL;
	for (unsigned i = nkept; i-- > 0;) {
		((VkBaseInStructure *)kept[i])->pNext = head;
		head = kept[i];
	}
	if (ours) {
		((VkBaseInStructure *)ours)->pNext = head;
		head = ours;
	}
	info.pNext = head;

	VkDeviceMemory mem = VK_NULL_HANDLE;
	a->ret = f->AllocateMemory(a->device, &info, NULL, &mem);
	if (a->ret != VK_SUCCESS) {
		pv_warn("venus: ctx %u: vkAllocateMemory(%llu bytes, type %u) failed: %d",
			x->ctx->id, (unsigned long long)info.allocationSize,
			info.memoryTypeIndex, a->ret);
		free_memory(&(struct vn_object){ .data = m });
		return;
	}
	if (visible && dc.dd->memory_mode == VN_MEMORY_EXPORT && f->GetMemoryFdKHR) {
		VkMemoryGetFdInfoKHR gi = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
			.memory = mem,
			.handleType = (VkExternalMemoryHandleTypeFlagBits)exp.handleTypes,
		};
		/* lavapipe 25.0.7 reports success with fd -1: check the fd. */
		if (f->GetMemoryFdKHR(a->device, &gi, &m->fd) == VK_SUCCESS && m->fd >= 0) {
			m->mappable = true;
		} else {
			m->fd = -1;
			pv_warn("venus: ctx %u: vkGetMemoryFdKHR failed; memory not mappable",
				x->ctx->id);
		}
	}
	*a->pMemory = mem;
	uint64_t id = vn_out_ids(a->pMemory, 1)[0];
	struct vn_object *o = vn_objects_add(&x->ctx->objs, id, VN_OBJ_VkDeviceMemory,
					     (uint64_t)(uintptr_t)mem, dc.dev);
	if (!o) {
		f->FreeMemory(a->device, mem, NULL);
		free_memory(&(struct vn_object){ .data = m });
		vn_decoder_fail(d, "memory id %llu is 0 or in use", (unsigned long long)id);
		return;
	}
	o->data = m;
	o->free_data = free_memory;
}

void vn_handle_get_memory_resource_properties(struct vn_exec *x,
					      const struct vn_cmd_desc *c,
					      void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetMemoryResourcePropertiesMESA *a = args;
	struct device_ctx dc;
	if (!device_ctx(x, a->device, &dc)) {
		vn_decoder_fail(d, "device is NULL");
		return;
	}
	/* Only dma-buf resources can be imported; shm blobs are not. */
	a->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
}

int vn_memory_export_blob(struct venus_context *ctx, uint64_t mem_id,
			  struct venus_blob *out)
{
	struct vn_object *o = vn_objects_get(&ctx->objs, mem_id);
	if (!o || o->type != VN_OBJ_VkDeviceMemory || !o->data) {
		pv_warn("venus: ctx %u: blob_id %llu is not a VkDeviceMemory", ctx->id,
			(unsigned long long)mem_id);
		return -EINVAL;
	}
	struct vn_memory_data *m = o->data;
	if (!m->mappable || m->fd < 0) {
		pv_warn("venus: ctx %u: memory %llu is not host visible", ctx->id,
			(unsigned long long)mem_id);
		return -EINVAL;
	}
	int fd = dup(m->fd);
	if (fd < 0)
		return -errno;
	out->fd = fd;
	out->size = m->map_size ? m->map_size : m->size;
	out->map_info = VENUS_MAP_CACHE_CACHED;
	return 0;
}
