/*
 * VK_EXT_external_memory_dma_buf, emulated for host drivers that lack it
 * (NVIDIA's; PEARVISOR_VENUS_EMULATE_DMA_BUF=1/0 forces it on/off). Mesa 25's Venus driver exposes VK_KHR_swapchain, and so any
 * WSI (headless included), only when the renderer lists this extension
 * with VK_EXT_image_drm_format_modifier and VK_EXT_queue_family_foreign:
 * dma-buf is the only external memory type it builds WSI on. Its WSI
 * images then name the DMA_BUF handle type in their create info and
 * format queries, and are bound to plain (not exported) memory.
 *
 * Over vtest no memory ever leaves the renderer as a dma-buf (the guest
 * masks import out itself, and export blobs come from our own shared
 * memory), so the handle type only has to be taken out of what reaches
 * the host driver and answered as exportable in queries. The guest sees
 * the same behaviour as on a host with the extension; a real dma-buf
 * (virtio-gpu's shared resources) would need the host's own support.
 */
#include <stdatomic.h>
#include <string.h>

#include "venus/vn_internal.h"

#define DMA_BUF VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT

bool vn_dma_buf_emulated(const struct vn_physical_device_data *pdd)
{
	return pdd && pdd->dma_buf_emulated;
}

/* Takes DMA_BUF out of the external-memory requests in a decoded chain
 * (ours to edit); a request left with no handle type is unlinked, since
 * an empty one still means "external" to some drivers. */
static void strip_chain(struct vn_exec *x, const void **head)
{
	VkBaseInStructure **pp = (VkBaseInStructure **)head;
	while (*pp) {
		VkExternalMemoryHandleTypeFlags *types = NULL;
		switch ((*pp)->sType) {
		case VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO:
			types = &((VkExternalMemoryImageCreateInfo *)*pp)->handleTypes;
			break;
		case VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO:
			types = &((VkExternalMemoryBufferCreateInfo *)*pp)->handleTypes;
			break;
		default:
			break;
		}
		if (types && (*types & DMA_BUF)) {
			atomic_fetch_add_explicit(&x->ctx->dma_buf_stripped, 1, memory_order_relaxed);
			*types &= ~(VkExternalMemoryHandleTypeFlags)DMA_BUF;
			if (!*types) {
				*pp = (VkBaseInStructure *)(*pp)->pNext;
				continue;
			}
		}
		pp = (VkBaseInStructure **)&(*pp)->pNext;
	}
}

void vn_dma_buf_strip_image(struct vn_exec *x, VkDevice dev, VkImageCreateInfo *ci)
{
	if (ci && vn_dma_buf_emulated(vn_physical_device_data_of_device(x, dev)))
		strip_chain(x, &ci->pNext);
}

void vn_handle_create_buffer(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			     struct vn_decoder *d)
{
	struct vn_args_vkCreateBuffer *a = args;
	if (a->pCreateInfo && vn_dma_buf_emulated(vn_physical_device_data_of_device(x, a->device)))
		strip_chain(x, &((VkBufferCreateInfo *)a->pCreateInfo)->pNext);
	vn_dispatch_generic(x, c, args, d);
}

void vn_handle_device_buffer_reqs(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
				  struct vn_decoder *d)
{
	struct vn_args_vkGetDeviceBufferMemoryRequirements *a = args;
	if (a->pInfo && a->pInfo->pCreateInfo && vn_dma_buf_emulated(vn_physical_device_data_of_device(x, a->device)))
		strip_chain(x, &((VkBufferCreateInfo *)a->pInfo->pCreateInfo)->pNext);
	vn_dispatch_generic(x, c, args, d);
}

/* What the guest is told of DMA_BUF: exportable (and, for the queries'
 * sake, importable: Mesa clears that bit itself over vtest). */
static void answer(VkExternalMemoryProperties *p, VkExternalMemoryFeatureFlags host_features)
{
	p->externalMemoryFeatures = (host_features & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT) |
				    VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT |
				    VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
	p->exportFromImportedHandleTypes = DMA_BUF;
	p->compatibleHandleTypes = DMA_BUF;
}

/* Called by vn_handle_image_format_props2 before the host call: a DMA_BUF
 * query becomes a plain one; true when the answer must be patched after. */
bool vn_dma_buf_image_format_query(struct vn_exec *x, VkPhysicalDevice pd,
				   VkPhysicalDeviceImageFormatInfo2 *info)
{
	if (!info || !vn_dma_buf_emulated(vn_physical_device_data_of(x, pd)))
		return false;
	VkBaseInStructure **pp = (VkBaseInStructure **)&info->pNext;
	while (*pp) {
		if ((*pp)->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO &&
		    ((VkPhysicalDeviceExternalImageFormatInfo *)*pp)->handleType == DMA_BUF) {
			*pp = (VkBaseInStructure *)(*pp)->pNext;
			atomic_fetch_add_explicit(&x->ctx->dma_buf_stripped, 1, memory_order_relaxed);
			return true;
		}
		pp = (VkBaseInStructure **)&(*pp)->pNext;
	}
	return false;
}

void vn_dma_buf_image_format_answer(VkImageFormatProperties2 *props)
{
	for (VkBaseOutStructure *s = props ? props->pNext : NULL; s; s = s->pNext)
		if (s->sType == VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES) {
			VkExternalImageFormatProperties *e = (void *)s;
			answer(&e->externalMemoryProperties, 0);
		}
}

void vn_handle_external_buffer_props(struct vn_exec *x, const struct vn_cmd_desc *c,
				     void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetPhysicalDeviceExternalBufferProperties *a = args;
	VkPhysicalDeviceExternalBufferInfo *info = (void *)a->pExternalBufferInfo;
	bool emulate = info && info->handleType == DMA_BUF &&
		       vn_dma_buf_emulated(vn_physical_device_data_of(x, a->physicalDevice));
	if (emulate) {
		atomic_fetch_add_explicit(&x->ctx->dma_buf_stripped, 1, memory_order_relaxed);
		/* Asked as opaque fd: what the host says of external memory
		 * for such a buffer at all (dedicated-only, say). */
		info->handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
	}
	vn_dispatch_generic(x, c, args, d);
	if (emulate && !d->fatal && a->pExternalBufferProperties) {
		VkExternalMemoryProperties *p = &a->pExternalBufferProperties->externalMemoryProperties;
		answer(p, p->externalMemoryFeatures);
	}
}
