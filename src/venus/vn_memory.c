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

void vn_physical_device_probe(const struct vn_instance_fns *f, VkPhysicalDevice pd,
			      struct vn_physical_device_data *data)
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
	data->host_ptr_align = os_page_size();
	if (data->has_ext_memory_host && f->GetPhysicalDeviceProperties2) {
		VkPhysicalDeviceExternalMemoryHostPropertiesEXT hp = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT };
		VkPhysicalDeviceProperties2 p = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &hp };
		f->GetPhysicalDeviceProperties2(pd, &p);
		if (hp.minImportedHostPointerAlignment > data->host_ptr_align)
			data->host_ptr_align = hp.minImportedHostPointerAlignment;
	}
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
	uint64_t id = vn_objects_id_of(&x->ctx->objs, VN_OBJ_VkDevice, (uint64_t)(uintptr_t)device);
	out->dev = vn_objects_get(&x->ctx->objs, id);
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
	bool visible = dc.pdd->mem_props.memoryTypes[info.memoryTypeIndex].propertyFlags &
		       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;

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
