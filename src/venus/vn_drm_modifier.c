/*
 * VK_EXT_image_drm_format_modifier, emulated with DRM_FORMAT_MOD_LINEAR
 * only, for host drivers that lack it (lavapipe). Mesa's Venus driver
 * exposes VK_KHR_swapchain (and so any WSI, headless included) only when
 * the renderer lists this extension, VK_EXT_external_memory_dma_buf and
 * VK_EXT_queue_family_foreign, and its WSI images are then created with
 * tiling DRM_FORMAT_MODIFIER_EXT and a one-entry LINEAR modifier list.
 * Over vtest no memory is ever shared by dma-buf, so "LINEAR modifier" is
 * exactly VK_IMAGE_TILING_LINEAR on the host: queries and image creation
 * are rewritten to that, and the modifier structs are answered here.
 */
#include <string.h>

#include "os/log.h"
#include "venus/vn_internal.h"

#define DRM_MOD_LINEAR 0ull

bool vn_drm_modifier_emulated(const struct vn_physical_device_data *pdd)
{
	return pdd && !pdd->has_drm_format_modifier;
}

/* Unlinks every struct of type st from a decoded chain (ours to edit). */
static const void *unlink_struct(const void **head, VkStructureType st)
{
	const void *found = NULL;
	const VkBaseInStructure **pp = (const VkBaseInStructure **)head;
	while (*pp) {
		if ((*pp)->sType == st) {
			found = *pp;
			*pp = (*pp)->pNext;
			continue;
		}
		pp = (const VkBaseInStructure **)&(*pp)->pNext;
	}
	return found;
}

/*
 * Rewrites a DRM_FORMAT_MODIFIER_EXT image to LINEAR. Returns false when
 * the guest asked only for modifiers we cannot honour.
 */
static bool rewrite_image_info(VkImageCreateInfo *ci)
{
	const VkImageDrmFormatModifierListCreateInfoEXT *list = unlink_struct(
		&ci->pNext, VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_LIST_CREATE_INFO_EXT);
	const VkImageDrmFormatModifierExplicitCreateInfoEXT *expl = unlink_struct(
		&ci->pNext, VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT);
	if (ci->tiling != VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT)
		return true;
	bool linear = false;
	for (uint32_t i = 0; list && list->pDrmFormatModifiers && i < list->drmFormatModifierCount; i++)
		linear |= list->pDrmFormatModifiers[i] == DRM_MOD_LINEAR;
	/* An explicit layout could only come with an imported dma-buf, which
	 * vtest never carries: the host's own linear layout is used. */
	if (expl && expl->drmFormatModifier == DRM_MOD_LINEAR)
		linear = true;
	if (!linear)
		return false;
	ci->tiling = VK_IMAGE_TILING_LINEAR;
	return true;
}

void vn_handle_create_image(struct vn_exec *x, const struct vn_cmd_desc *c,
			    void *args, struct vn_decoder *d)
{
	struct vn_args_vkCreateImage *a = args;
	vn_dma_buf_strip_image(x, a->device, (VkImageCreateInfo *)a->pCreateInfo);
	if (a->pCreateInfo && vn_drm_modifier_emulated(vn_physical_device_data_of_device(x, a->device)) &&
	    !rewrite_image_info((VkImageCreateInfo *)a->pCreateInfo)) {
		a->ret = VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT;
		return;
	}
	vn_dispatch_generic(x, c, args, d);
}

void vn_handle_device_image_reqs(struct vn_exec *x, const struct vn_cmd_desc *c,
				 void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetDeviceImageMemoryRequirements *a = args;
	if (a->pInfo)
		vn_dma_buf_strip_image(x, a->device, (VkImageCreateInfo *)a->pInfo->pCreateInfo);
	if (a->pInfo && a->pInfo->pCreateInfo &&
	    vn_drm_modifier_emulated(vn_physical_device_data_of_device(x, a->device)) &&
	    !rewrite_image_info((VkImageCreateInfo *)a->pInfo->pCreateInfo)) {
		if (a->pMemoryRequirements)
			memset(&a->pMemoryRequirements->memoryRequirements, 0,
			       sizeof(a->pMemoryRequirements->memoryRequirements));
		return;
	}
	vn_dispatch_generic(x, c, args, d);
}

void vn_handle_format_props2(struct vn_exec *x, const struct vn_cmd_desc *c,
			     void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetPhysicalDeviceFormatProperties2 *a = args;
	vn_dispatch_generic(x, c, args, d);
	if (d->fatal || !a->pFormatProperties ||
	    !vn_drm_modifier_emulated(vn_physical_device_data_of(x, a->physicalDevice)))
		return;
	const VkFormatProperties *fp = &a->pFormatProperties->formatProperties;
	VkFormatFeatureFlags2 f3 = fp->linearTilingFeatures;
	for (VkBaseOutStructure *s = a->pFormatProperties->pNext; s; s = s->pNext)
		if (s->sType == VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3)
			f3 = ((VkFormatProperties3 *)s)->linearTilingFeatures;
	uint32_t n = fp->linearTilingFeatures ? 1 : 0;
	for (VkBaseOutStructure *s = a->pFormatProperties->pNext; s; s = s->pNext) {
		if (s->sType == VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_EXT) {
			VkDrmFormatModifierPropertiesListEXT *l = (void *)s;
			if (l->pDrmFormatModifierProperties && l->drmFormatModifierCount && n)
				l->pDrmFormatModifierProperties[0] = (VkDrmFormatModifierPropertiesEXT){
					DRM_MOD_LINEAR, 1, fp->linearTilingFeatures };
			l->drmFormatModifierCount = l->pDrmFormatModifierProperties &&
				l->drmFormatModifierCount < n ? l->drmFormatModifierCount : n;
		} else if (s->sType == VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_2_EXT) {
			VkDrmFormatModifierPropertiesList2EXT *l = (void *)s;
			if (l->pDrmFormatModifierProperties && l->drmFormatModifierCount && n)
				l->pDrmFormatModifierProperties[0] = (VkDrmFormatModifierProperties2EXT){
					DRM_MOD_LINEAR, 1, f3 };
			l->drmFormatModifierCount = l->pDrmFormatModifierProperties &&
				l->drmFormatModifierCount < n ? l->drmFormatModifierCount : n;
		}
	}
}

void vn_handle_image_format_props2(struct vn_exec *x, const struct vn_cmd_desc *c,
				   void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetPhysicalDeviceImageFormatProperties2 *a = args;
	VkPhysicalDeviceImageFormatInfo2 *info = (VkPhysicalDeviceImageFormatInfo2 *)a->pImageFormatInfo;
	if (info && vn_drm_modifier_emulated(vn_physical_device_data_of(x, a->physicalDevice))) {
		const VkPhysicalDeviceImageDrmFormatModifierInfoEXT *mi = unlink_struct(
			&info->pNext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_DRM_FORMAT_MODIFIER_INFO_EXT);
		if (info->tiling == VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT) {
			if (!mi || mi->drmFormatModifier != DRM_MOD_LINEAR) {
				a->ret = VK_ERROR_FORMAT_NOT_SUPPORTED;
				return;
			}
			info->tiling = VK_IMAGE_TILING_LINEAR;
		}
	}
	bool dma_buf = vn_dma_buf_image_format_query(x, a->physicalDevice, info);
	vn_dispatch_generic(x, c, args, d);
	if (dma_buf && !d->fatal && a->ret == VK_SUCCESS)
		vn_dma_buf_image_format_answer(a->pImageFormatProperties);
}

void vn_handle_image_modifier_props(struct vn_exec *x, const struct vn_cmd_desc *c,
				    void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetImageDrmFormatModifierPropertiesEXT *a = args;
	if (!vn_drm_modifier_emulated(vn_physical_device_data_of_device(x, a->device))) {
		vn_dispatch_generic(x, c, args, d);
		return;
	}
	if (!vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkImage, (uint64_t)(uintptr_t)a->image)) {
		vn_decoder_fail(d, "image is NULL or unknown");
		return;
	}
	if (a->pProperties)
		a->pProperties->drmFormatModifier = DRM_MOD_LINEAR;
	a->ret = VK_SUCCESS;
}

void vn_handle_image_subresource_layout(struct vn_exec *x, const struct vn_cmd_desc *c,
					void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetImageSubresourceLayout *a = args;
	/* A LINEAR-modifier image has one memory plane: the colour aspect. */
	if (a->pSubresource && vn_drm_modifier_emulated(vn_physical_device_data_of_device(x, a->device)) &&
	    a->pSubresource->aspectMask == VK_IMAGE_ASPECT_MEMORY_PLANE_0_BIT_EXT)
		((VkImageSubresource *)a->pSubresource)->aspectMask = VK_IMAGE_ASPECT_COLOR_BIT;
	vn_dispatch_generic(x, c, args, d);
}
