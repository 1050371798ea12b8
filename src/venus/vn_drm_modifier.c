/*
 * VK_EXT_image_drm_format_modifier, emulated with DRM_FORMAT_MOD_LINEAR
 * only, for host drivers that lack it (lavapipe) and wherever dma-buf is
 * emulated (NVIDIA). Mesa's Venus driver exposes VK_KHR_swapchain (and so
 * any WSI, headless included) only when the renderer lists this extension,
 * VK_EXT_external_memory_dma_buf and VK_EXT_queue_family_foreign, and its
 * WSI images are then created with tiling DRM_FORMAT_MODIFIER_EXT and a
 * one-entry LINEAR modifier list. Over vtest no memory is ever shared by
 * dma-buf, so "LINEAR modifier" is VK_IMAGE_TILING_LINEAR on the host (or
 * OPTIMAL where the host has no linear tiling for the image's usage):
 * queries and image creation are rewritten to that, and the modifier
 * structs are answered here.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "os/log.h"
#include "os/util.h"
#include "venus/vn_internal.h"

#define DRM_MOD_LINEAR 0ull

/* Also where dma-buf is emulated (vn_dma_buf.c), even over a host's own
 * modifiers: no image then ever leaves the host, so LINEAR is the only
 * modifier with a meaning, and answering for it here is what lets an image
 * the host cannot make linear be made OPTIMAL (rewrite_image_info). */
bool vn_drm_modifier_emulated(const struct vn_physical_device_data *pdd)
{
	return pdd && (!pdd->has_drm_format_modifier || pdd->dma_buf_emulated);
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
 * Where the host cannot give a LINEAR image the usage asked for, the image
 * is OPTIMAL on the host instead. Mesa 25's Venus WSI forces the LINEAR
 * modifier on its colour-attachment images whatever the format's features
 * say, and NVIDIA has no linear colour attachment for R8G8B8A8_UNORM: the
 * first draw into one lost the device (docs/PERFORMANCE.md, run 29). Over
 * vtest no image leaves the host, so the tiling is the host's business;
 * only vkGetImageSubresourceLayout has to be answered for it (below).
 */
static bool linear_supported(struct vn_exec *x, VkDevice dev, const VkImageCreateInfo *ci)
{
	struct vn_object *o = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkDevice,
						   (uint64_t)(uintptr_t)dev);
	struct vn_device_data *dd = o ? o->data : NULL;
	struct vn_object *pdo = dd ? dd->physical_device : NULL;
	struct vn_object *io = pdo ? vn_owner(pdo, VN_OBJ_VkInstance) : NULL;
	if (!io || !io->data)
		return true;
	const struct vn_instance_fns *f = &((struct vn_instance_data *)io->data)->fns;
	if (!f->GetPhysicalDeviceImageFormatProperties)
		return true;
	VkPhysicalDevice pd = (VkPhysicalDevice)(uintptr_t)pdo->handle;
	/* The format features too: NVIDIA's image-format query accepts what
	 * its linearTilingFeatures leave out (validation flagged the view). */
	if (f->GetPhysicalDeviceFormatProperties) {
		VkFormatProperties fp = { 0 };
		f->GetPhysicalDeviceFormatProperties(pd, ci->format, &fp);
		static const struct {
			VkImageUsageFlags usage;
			VkFormatFeatureFlags feature;
		} needs[] = {
			{ VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT },
			{ VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT,
			  VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT },
			{ VK_IMAGE_USAGE_SAMPLED_BIT, VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT },
			{ VK_IMAGE_USAGE_STORAGE_BIT, VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT },
			{ VK_IMAGE_USAGE_TRANSFER_SRC_BIT, VK_FORMAT_FEATURE_TRANSFER_SRC_BIT },
			{ VK_IMAGE_USAGE_TRANSFER_DST_BIT, VK_FORMAT_FEATURE_TRANSFER_DST_BIT },
		};
		VkFormatFeatureFlags need = 0;
		for (size_t i = 0; i < ARRAY_SIZE(needs); i++)
			if (ci->usage & needs[i].usage)
				need |= needs[i].feature;
		if ((fp.linearTilingFeatures & need) != need)
			return false;
	}
	VkImageFormatProperties props;
	return f->GetPhysicalDeviceImageFormatProperties(pd, ci->format, ci->imageType,
							 VK_IMAGE_TILING_LINEAR, ci->usage, ci->flags,
							 &props) == VK_SUCCESS;
}

enum rewrite { REWRITE_REJECT, REWRITE_KEPT, REWRITE_LINEAR, REWRITE_OPTIMAL };

/*
 * Rewrites a DRM_FORMAT_MODIFIER_EXT image to LINEAR (or OPTIMAL, above).
 * REWRITE_REJECT when the guest asked only for modifiers we cannot honour.
 */
static enum rewrite rewrite_image_info(struct vn_exec *x, VkDevice dev, VkImageCreateInfo *ci)
{
	const VkImageDrmFormatModifierListCreateInfoEXT *list = unlink_struct(
		&ci->pNext, VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_LIST_CREATE_INFO_EXT);
	const VkImageDrmFormatModifierExplicitCreateInfoEXT *expl = unlink_struct(
		&ci->pNext, VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT);
	if (ci->tiling != VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT)
		return REWRITE_KEPT;
	bool linear = false;
	for (uint32_t i = 0; list && list->pDrmFormatModifiers && i < list->drmFormatModifierCount; i++)
		linear |= list->pDrmFormatModifiers[i] == DRM_MOD_LINEAR;
	/* An explicit layout could only come with an imported dma-buf, which
	 * vtest never carries: the host's own linear layout is used. */
	if (expl && expl->drmFormatModifier == DRM_MOD_LINEAR)
		linear = true;
	if (!linear)
		return REWRITE_REJECT;
	if (!linear_supported(x, dev, ci)) {
		pv_debug("venus: ctx %u: LINEAR-modifier image of format %d, usage 0x%x made OPTIMAL",
			 x->ctx->id, ci->format, ci->usage);
		ci->tiling = VK_IMAGE_TILING_OPTIMAL;
		return REWRITE_OPTIMAL;
	}
	ci->tiling = VK_IMAGE_TILING_LINEAR;
	return REWRITE_LINEAR;
}

/* What an OPTIMAL-backed LINEAR-modifier image remembers to answer
 * vkGetImageSubresourceLayout (VkImage objects carry no other data). */
struct optimal_image {
	VkFormat format;
	VkExtent3D extent;
};

static void free_optimal_image(struct vn_object *o)
{
	free(o->data);
}

void vn_handle_create_image(struct vn_exec *x, const struct vn_cmd_desc *c,
			    void *args, struct vn_decoder *d)
{
	struct vn_args_vkCreateImage *a = args;
	VkImageCreateInfo *ci = (VkImageCreateInfo *)a->pCreateInfo;
	vn_dma_buf_strip_image(x, a->device, ci);
	enum rewrite rw = REWRITE_KEPT;
	if (ci && vn_drm_modifier_emulated(vn_physical_device_data_of_device(x, a->device)))
		rw = rewrite_image_info(x, a->device, ci);
	if (rw == REWRITE_REJECT) {
		a->ret = VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT;
		return;
	}
	vn_dispatch_generic(x, c, args, d);
	if (rw != REWRITE_OPTIMAL || d->fatal || a->ret != VK_SUCCESS || !a->pImage)
		return;
	struct vn_object *o = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkImage,
						   (uint64_t)(uintptr_t)*a->pImage);
	struct optimal_image *oi = o && !o->data ? malloc(sizeof(*oi)) : NULL;
	atomic_fetch_add_explicit(&x->ctx->optimal_images, 1, memory_order_relaxed);
	if (oi) {
		*oi = (struct optimal_image){ ci->format, ci->extent };
		o->data = oi;
		o->free_data = free_optimal_image;
	}
}

void vn_handle_device_image_reqs(struct vn_exec *x, const struct vn_cmd_desc *c,
				 void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetDeviceImageMemoryRequirements *a = args;
	if (a->pInfo)
		vn_dma_buf_strip_image(x, a->device, (VkImageCreateInfo *)a->pInfo->pCreateInfo);
	if (a->pInfo && a->pInfo->pCreateInfo &&
	    vn_drm_modifier_emulated(vn_physical_device_data_of_device(x, a->device)) &&
	    rewrite_image_info(x, a->device, (VkImageCreateInfo *)a->pInfo->pCreateInfo) ==
		    REWRITE_REJECT) {
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

/* Bytes per texel of the formats WSI images take; a nominal 4 otherwise
 * (the layout of an OPTIMAL-backed image is only ever a report). */
static uint32_t texel_bytes(VkFormat f)
{
	switch (f) {
	case VK_FORMAT_R5G6B5_UNORM_PACK16:
	case VK_FORMAT_B5G6R5_UNORM_PACK16:
		return 2;
	case VK_FORMAT_R16G16B16A16_UNORM:
	case VK_FORMAT_R16G16B16A16_SFLOAT:
		return 8;
	case VK_FORMAT_R32G32B32A32_SFLOAT:
		return 16;
	default:
		return 4;
	}
}

/* An OPTIMAL-backed LINEAR-modifier image's layout (vn_handle_create_image):
 * the host may not be asked, so the guest gets the tightly packed layout
 * it would have had, which nobody can map (over vtest the image never
 * leaves). False for every other image. */
static bool packed_layout(struct vn_exec *x, VkImage image, VkSubresourceLayout *out)
{
	struct vn_object *io = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkImage,
						    (uint64_t)(uintptr_t)image);
	if (!io || !io->data || io->free_data != free_optimal_image)
		return false;
	const struct optimal_image *oi = io->data;
	uint64_t row = (uint64_t)oi->extent.width * texel_bytes(oi->format);
	row = (row + 255) & ~(uint64_t)255;
	uint64_t plane = row * oi->extent.height;
	*out = (VkSubresourceLayout){ .offset = 0, .size = plane * oi->extent.depth,
				      .rowPitch = row, .arrayPitch = plane, .depthPitch = plane };
	return true;
}

/* A LINEAR-modifier image has one memory plane: the colour aspect. */
static void plane_to_color(struct vn_exec *x, VkDevice dev, VkImageSubresource *s)
{
	if (vn_drm_modifier_emulated(vn_physical_device_data_of_device(x, dev)) &&
	    s->aspectMask == VK_IMAGE_ASPECT_MEMORY_PLANE_0_BIT_EXT)
		s->aspectMask = VK_IMAGE_ASPECT_COLOR_BIT;
}

void vn_handle_image_subresource_layout2(struct vn_exec *x, const struct vn_cmd_desc *c,
					 void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetImageSubresourceLayout2 *a = args;
	if (a->pLayout && packed_layout(x, a->image, &a->pLayout->subresourceLayout))
		return;
	if (a->pSubresource)
		plane_to_color(x, a->device,
			       &((VkImageSubresource2 *)a->pSubresource)->imageSubresource);
	vn_dispatch_generic(x, c, args, d);
}

void vn_handle_image_subresource_layout(struct vn_exec *x, const struct vn_cmd_desc *c,
					void *args, struct vn_decoder *d)
{
	struct vn_args_vkGetImageSubresourceLayout *a = args;
	if (a->pLayout && packed_layout(x, a->image, a->pLayout))
		return;
	if (a->pSubresource)
		plane_to_color(x, a->device, (VkImageSubresource *)a->pSubresource);
	vn_dispatch_generic(x, c, args, d);
}
