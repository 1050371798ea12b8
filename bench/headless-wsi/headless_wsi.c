/*
 * headless_wsi.c: a Vulkan layer that gives any driver VK_EXT_headless_surface
 * and the VK_KHR_swapchain that goes with it, for benchmarks only.
 *
 * Why: vkmark's `--winsys headless` needs VK_EXT_headless_surface. Mesa's
 * drivers have it (Mesa's common WSI code), so it works through Venus, where
 * the guest's Mesa provides it; NVIDIA's driver does not, so vkmark could
 * not run natively on the H100 and no native-vs-PearVisor ratio existed.
 * This layer implements the surface and the swapchain itself, the way Mesa's
 * headless WSI does: swapchain images are plain device-local images, acquire
 * hands them out round robin (signalling the semaphore/fence with an empty
 * submit), present only waits for the present's semaphores. Nothing is shown
 * anywhere.
 *
 * Not for production: one present/acquire queue per device (the first queue
 * the application created), no VK_KHR_get_surface_capabilities2, no
 * device groups. Handle-to-state maps are global (a layer receives only the
 * driver's handles) and guarded by one mutex. PV_HEADLESS_WSI_DEBUG=1 prints
 * a line per swapchain (tests check with it that the layer did the work).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <vulkan/vulkan.h>
#include <vulkan/vk_layer.h>

#define EXPORT __attribute__((visibility("default")))

/* First member of every state keyed by a dispatchable handle. */
struct link {
	struct link *next;
	void *key; /* the handle's dispatch table pointer */
};

struct inst {
	struct link link;
	VkInstance handle;
	PFN_vkGetInstanceProcAddr gipa;
	PFN_vkDestroyInstance destroy;
	PFN_vkGetPhysicalDeviceProperties props;
	PFN_vkGetPhysicalDeviceMemoryProperties mem_props;
	PFN_vkGetPhysicalDeviceFormatProperties fmt_props;
};

struct dev {
	struct link link;
	VkDevice handle;
	VkPhysicalDeviceMemoryProperties mem;
	uint32_t max_dim;
	VkQueue queue; /* acquire's signalling submits go here */
	pthread_mutex_t queue_lock;
	PFN_vkGetDeviceProcAddr gdpa;
	PFN_vkDestroyDevice destroy;
	PFN_vkGetDeviceQueue get_queue;
	PFN_vkCreateImage create_image;
	PFN_vkDestroyImage destroy_image;
	PFN_vkGetImageMemoryRequirements image_reqs;
	PFN_vkAllocateMemory alloc;
	PFN_vkFreeMemory free_mem;
	PFN_vkBindImageMemory bind;
	PFN_vkQueueSubmit submit;
	PFN_vkDeviceWaitIdle wait_idle;
};

struct surface {
	uint32_t magic;
};
#define SURFACE_MAGIC 0x68647773u /* "hdws" */

struct swapchain {
	uint32_t count, next;
	VkImage *images;
	VkDeviceMemory *memory;
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct link *insts, *devs;

static void *key_of(const void *dispatchable)
{
	return *(void *const *)dispatchable;
}

static struct link *link_find(struct link *const *head, const void *h)
{
	void *k = key_of(h);
	pthread_mutex_lock(&map_lock);
	struct link *l = *head;
	while (l && l->key != k)
		l = l->next;
	pthread_mutex_unlock(&map_lock);
	return l;
}

static void link_add(struct link **head, struct link *l, const void *h)
{
	l->key = key_of(h);
	pthread_mutex_lock(&map_lock);
	l->next = *head;
	*head = l;
	pthread_mutex_unlock(&map_lock);
}

static void link_remove(struct link **head, struct link *l)
{
	pthread_mutex_lock(&map_lock);
	for (struct link **p = head; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	pthread_mutex_unlock(&map_lock);
}

static struct inst *inst_of(const void *h)
{
	return (struct inst *)link_find(&insts, h);
}

static struct dev *dev_of(const void *h)
{
	return (struct dev *)link_find(&devs, h);
}

/* The enabled-extension list without the names this layer implements. */
static const char **without(const char *const *names, uint32_t n, const char *const *drop,
			    uint32_t ndrop, uint32_t *out_n)
{
	const char **out = calloc(n ? n : 1, sizeof(*out));
	uint32_t k = 0;
	if (!out)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		bool skip = false;
		for (uint32_t j = 0; j < ndrop; j++)
			skip = skip || !strcmp(names[i], drop[j]);
		if (!skip)
			out[k++] = names[i];
	}
	*out_n = k;
	return out;
}

/* Vulkan's two-call enumeration over a fixed list. */
static VkResult enumerate(void *out, uint32_t *count, const void *all, uint32_t n, size_t size)
{
	if (!out) {
		*count = n;
		return VK_SUCCESS;
	}
	uint32_t k = *count < n ? *count : n;
	memcpy(out, all, k * size);
	*count = k;
	return k < n ? VK_INCOMPLETE : VK_SUCCESS;
}

/* ---- instance ---------------------------------------------------------- */

static VKAPI_ATTR VkResult VKAPI_CALL hw_CreateInstance(const VkInstanceCreateInfo *ci,
							 const VkAllocationCallbacks *alloc,
							 VkInstance *out)
{
	VkLayerInstanceCreateInfo *link = (VkLayerInstanceCreateInfo *)ci->pNext;
	while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO &&
			 link->function == VK_LAYER_LINK_INFO))
		link = (VkLayerInstanceCreateInfo *)link->pNext;
	if (!link)
		return VK_ERROR_INITIALIZATION_FAILED;
	PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
	link->u.pLayerInfo = link->u.pLayerInfo->pNext;
	PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(VK_NULL_HANDLE, "vkCreateInstance");

	static const char *const mine[] = { VK_KHR_SURFACE_EXTENSION_NAME,
					    VK_EXT_HEADLESS_SURFACE_EXTENSION_NAME };
	VkInstanceCreateInfo down = *ci;
	const char **names = without(ci->ppEnabledExtensionNames, ci->enabledExtensionCount, mine, 2,
				     &down.enabledExtensionCount);
	struct inst *i = calloc(1, sizeof(*i));
	if (!names || !i) {
		free(names);
		free(i);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	down.ppEnabledExtensionNames = names;
	VkResult r = create(&down, alloc, out);
	free(names);
	if (r != VK_SUCCESS) {
		free(i);
		return r;
	}
	i->handle = *out;
	i->gipa = gipa;
	i->destroy = (PFN_vkDestroyInstance)gipa(*out, "vkDestroyInstance");
	i->props = (PFN_vkGetPhysicalDeviceProperties)gipa(*out, "vkGetPhysicalDeviceProperties");
	i->mem_props = (PFN_vkGetPhysicalDeviceMemoryProperties)gipa(*out,
								    "vkGetPhysicalDeviceMemoryProperties");
	i->fmt_props = (PFN_vkGetPhysicalDeviceFormatProperties)gipa(*out,
								    "vkGetPhysicalDeviceFormatProperties");
	link_add(&insts, &i->link, *out);
	return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL hw_DestroyInstance(VkInstance instance,
						      const VkAllocationCallbacks *alloc)
{
	if (!instance)
		return;
	struct inst *i = inst_of(instance);
	if (!i)
		return;
	i->destroy(instance, alloc);
	link_remove(&insts, &i->link);
	free(i);
}

/* ---- surface ----------------------------------------------------------- */

static VKAPI_ATTR VkResult VKAPI_CALL hw_CreateHeadlessSurfaceEXT(
	VkInstance instance, const VkHeadlessSurfaceCreateInfoEXT *ci,
	const VkAllocationCallbacks *alloc, VkSurfaceKHR *out)
{
	(void)instance, (void)ci, (void)alloc;
	struct surface *s = calloc(1, sizeof(*s));
	if (!s)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	s->magic = SURFACE_MAGIC;
	*out = (VkSurfaceKHR)(uintptr_t)s;
	return VK_SUCCESS;
}

static struct surface *surface_of(VkSurfaceKHR h)
{
	struct surface *s = (struct surface *)(uintptr_t)h;
	return s && s->magic == SURFACE_MAGIC ? s : NULL;
}

static VKAPI_ATTR void VKAPI_CALL hw_DestroySurfaceKHR(VkInstance instance, VkSurfaceKHR surface,
							const VkAllocationCallbacks *alloc)
{
	(void)instance, (void)alloc;
	struct surface *s = surface_of(surface);
	if (s) {
		s->magic = 0;
		free(s);
	}
}

static VKAPI_ATTR VkResult VKAPI_CALL hw_GetPhysicalDeviceSurfaceSupportKHR(
	VkPhysicalDevice pd, uint32_t family, VkSurfaceKHR surface, VkBool32 *supported)
{
	(void)pd, (void)family;
	*supported = surface_of(surface) ? VK_TRUE : VK_FALSE;
	return surface_of(surface) ? VK_SUCCESS : VK_ERROR_SURFACE_LOST_KHR;
}

static VKAPI_ATTR VkResult VKAPI_CALL hw_GetPhysicalDeviceSurfaceCapabilitiesKHR(
	VkPhysicalDevice pd, VkSurfaceKHR surface, VkSurfaceCapabilitiesKHR *caps)
{
	struct inst *i = inst_of(pd);
	if (!i || !surface_of(surface))
		return VK_ERROR_SURFACE_LOST_KHR;
	VkPhysicalDeviceProperties p;
	i->props(pd, &p);
	/* What Mesa's headless WSI reports: the swapchain sets the size. */
	*caps = (VkSurfaceCapabilitiesKHR){
		.minImageCount = 3,
		.maxImageCount = 0,
		.currentExtent = { UINT32_MAX, UINT32_MAX },
		.minImageExtent = { 1, 1 },
		.maxImageExtent = { p.limits.maxImageDimension2D, p.limits.maxImageDimension2D },
		.maxImageArrayLayers = 1,
		.supportedTransforms = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
		.currentTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
		.supportedCompositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR,
		.supportedUsageFlags = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT |
				       VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_STORAGE_BIT |
				       VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
	};
	return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL hw_GetPhysicalDeviceSurfaceFormatsKHR(
	VkPhysicalDevice pd, VkSurfaceKHR surface, uint32_t *count, VkSurfaceFormatKHR *formats)
{
	(void)pd;
	static const VkSurfaceFormatKHR all[] = {
		{ VK_FORMAT_B8G8R8A8_SRGB, VK_COLOR_SPACE_SRGB_NONLINEAR_KHR },
		{ VK_FORMAT_B8G8R8A8_UNORM, VK_COLOR_SPACE_SRGB_NONLINEAR_KHR },
	};
	if (!surface_of(surface))
		return VK_ERROR_SURFACE_LOST_KHR;
	return enumerate(formats, count, all, sizeof(all) / sizeof(all[0]), sizeof(all[0]));
}

static VKAPI_ATTR VkResult VKAPI_CALL hw_GetPhysicalDeviceSurfacePresentModesKHR(
	VkPhysicalDevice pd, VkSurfaceKHR surface, uint32_t *count, VkPresentModeKHR *modes)
{
	(void)pd;
	/* Nothing is displayed, so every mode behaves as immediate. */
	static const VkPresentModeKHR all[] = { VK_PRESENT_MODE_FIFO_KHR, VK_PRESENT_MODE_MAILBOX_KHR,
						VK_PRESENT_MODE_IMMEDIATE_KHR };
	if (!surface_of(surface))
		return VK_ERROR_SURFACE_LOST_KHR;
	return enumerate(modes, count, all, sizeof(all) / sizeof(all[0]), sizeof(all[0]));
}

/* ---- device ------------------------------------------------------------ */

static VKAPI_ATTR VkResult VKAPI_CALL hw_CreateDevice(VkPhysicalDevice pd,
						       const VkDeviceCreateInfo *ci,
						       const VkAllocationCallbacks *alloc,
						       VkDevice *out)
{
	struct inst *i = inst_of(pd);
	VkLayerDeviceCreateInfo *link = (VkLayerDeviceCreateInfo *)ci->pNext;
	while (link && !(link->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO &&
			 link->function == VK_LAYER_LINK_INFO))
		link = (VkLayerDeviceCreateInfo *)link->pNext;
	if (!i || !link)
		return VK_ERROR_INITIALIZATION_FAILED;
	PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
	PFN_vkGetDeviceProcAddr gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
	link->u.pLayerInfo = link->u.pLayerInfo->pNext;
	PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(i->handle, "vkCreateDevice");

	static const char *const mine[] = { VK_KHR_SWAPCHAIN_EXTENSION_NAME };
	VkDeviceCreateInfo down = *ci;
	const char **names = without(ci->ppEnabledExtensionNames, ci->enabledExtensionCount, mine, 1,
				     &down.enabledExtensionCount);
	struct dev *d = calloc(1, sizeof(*d));
	if (!names || !d) {
		free(names);
		free(d);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	down.ppEnabledExtensionNames = names;
	VkResult r = create(pd, &down, alloc, out);
	free(names);
	if (r != VK_SUCCESS) {
		free(d);
		return r;
	}
	VkDevice dev = *out;
	d->handle = dev;
	d->gdpa = gdpa;
#define LOAD(field, name) d->field = (PFN_vk##name)gdpa(dev, "vk" #name)
	LOAD(destroy, DestroyDevice);
	LOAD(get_queue, GetDeviceQueue);
	LOAD(create_image, CreateImage);
	LOAD(destroy_image, DestroyImage);
	LOAD(image_reqs, GetImageMemoryRequirements);
	LOAD(alloc, AllocateMemory);
	LOAD(free_mem, FreeMemory);
	LOAD(bind, BindImageMemory);
	LOAD(submit, QueueSubmit);
	LOAD(wait_idle, DeviceWaitIdle);
#undef LOAD
	i->mem_props(pd, &d->mem);
	VkPhysicalDeviceProperties p;
	i->props(pd, &p);
	d->max_dim = p.limits.maxImageDimension2D;
	if (ci->queueCreateInfoCount)
		d->get_queue(dev, ci->pQueueCreateInfos[0].queueFamilyIndex, 0, &d->queue);
	pthread_mutex_init(&d->queue_lock, NULL);
	link_add(&devs, &d->link, dev);
	return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL hw_DestroyDevice(VkDevice device, const VkAllocationCallbacks *alloc)
{
	if (!device)
		return;
	struct dev *d = dev_of(device);
	if (!d)
		return;
	d->destroy(device, alloc);
	link_remove(&devs, &d->link);
	pthread_mutex_destroy(&d->queue_lock);
	free(d);
}

/* ---- swapchain --------------------------------------------------------- */

static void swapchain_free(struct dev *d, struct swapchain *sc, const VkAllocationCallbacks *alloc)
{
	for (uint32_t k = 0; k < sc->count; k++) {
		if (sc->images && sc->images[k])
			d->destroy_image(d->handle, sc->images[k], alloc);
		if (sc->memory && sc->memory[k])
			d->free_mem(d->handle, sc->memory[k], alloc);
	}
	free(sc->images);
	free(sc->memory);
	free(sc);
}

static int memory_type(const struct dev *d, uint32_t bits)
{
	for (uint32_t t = 0; t < d->mem.memoryTypeCount; t++)
		if ((bits & (1u << t)) &&
		    (d->mem.memoryTypes[t].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))
			return (int)t;
	for (uint32_t t = 0; t < d->mem.memoryTypeCount; t++)
		if (bits & (1u << t))
			return (int)t;
	return -1;
}

static VKAPI_ATTR VkResult VKAPI_CALL hw_CreateSwapchainKHR(VkDevice device,
							     const VkSwapchainCreateInfoKHR *ci,
							     const VkAllocationCallbacks *alloc,
							     VkSwapchainKHR *out)
{
	struct dev *d = dev_of(device);
	if (!d || !surface_of(ci->surface))
		return VK_ERROR_SURFACE_LOST_KHR;
	if (!ci->imageExtent.width || !ci->imageExtent.height ||
	    ci->imageExtent.width > d->max_dim || ci->imageExtent.height > d->max_dim)
		return VK_ERROR_INITIALIZATION_FAILED;
	struct swapchain *sc = calloc(1, sizeof(*sc));
	uint32_t n = ci->minImageCount < 3 ? 3 : ci->minImageCount;
	if (!sc)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	sc->images = calloc(n, sizeof(*sc->images));
	sc->memory = calloc(n, sizeof(*sc->memory));
	sc->count = n;
	if (!sc->images || !sc->memory) {
		swapchain_free(d, sc, alloc);
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	VkImageCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.flags = (ci->flags & VK_SWAPCHAIN_CREATE_MUTABLE_FORMAT_BIT_KHR) ?
				 VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT : 0,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = ci->imageFormat,
		.extent = { ci->imageExtent.width, ci->imageExtent.height, 1 },
		.mipLevels = 1,
		.arrayLayers = ci->imageArrayLayers ? ci->imageArrayLayers : 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_OPTIMAL,
		.usage = ci->imageUsage,
		.sharingMode = ci->imageSharingMode,
		.queueFamilyIndexCount = ci->queueFamilyIndexCount,
		.pQueueFamilyIndices = ci->pQueueFamilyIndices,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	for (uint32_t k = 0; k < n; k++) {
		VkResult r = d->create_image(device, &ici, alloc, &sc->images[k]);
		if (r != VK_SUCCESS) {
			swapchain_free(d, sc, alloc);
			return r;
		}
		VkMemoryRequirements req;
		d->image_reqs(device, sc->images[k], &req);
		int t = memory_type(d, req.memoryTypeBits);
		if (t < 0) {
			swapchain_free(d, sc, alloc);
			return VK_ERROR_OUT_OF_DEVICE_MEMORY;
		}
		VkMemoryAllocateInfo mai = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
			.allocationSize = req.size,
			.memoryTypeIndex = (uint32_t)t,
		};
		r = d->alloc(device, &mai, alloc, &sc->memory[k]);
		if (r == VK_SUCCESS)
			r = d->bind(device, sc->images[k], sc->memory[k], 0);
		if (r != VK_SUCCESS) {
			swapchain_free(d, sc, alloc);
			return r;
		}
	}
	*out = (VkSwapchainKHR)(uintptr_t)sc;
	const char *dbg = getenv("PV_HEADLESS_WSI_DEBUG");
	if (dbg && *dbg == '1')
		fprintf(stderr, "pv-headless-wsi: swapchain %ux%u, format %d, %u images\n",
			ci->imageExtent.width, ci->imageExtent.height, (int)ci->imageFormat, n);
	return VK_SUCCESS;
}

static VKAPI_ATTR void VKAPI_CALL hw_DestroySwapchainKHR(VkDevice device, VkSwapchainKHR swapchain,
							  const VkAllocationCallbacks *alloc)
{
	struct dev *d = dev_of(device);
	struct swapchain *sc = (struct swapchain *)(uintptr_t)swapchain;
	if (!d || !sc)
		return;
	/* The application waits for its own work; this covers acquire's submits. */
	d->wait_idle(device);
	swapchain_free(d, sc, alloc);
}

static VKAPI_ATTR VkResult VKAPI_CALL hw_GetSwapchainImagesKHR(VkDevice device,
								VkSwapchainKHR swapchain,
								uint32_t *count, VkImage *images)
{
	(void)device;
	struct swapchain *sc = (struct swapchain *)(uintptr_t)swapchain;
	return enumerate(images, count, sc->images, sc->count, sizeof(*images));
}

static VKAPI_ATTR VkResult VKAPI_CALL hw_AcquireNextImageKHR(VkDevice device,
							      VkSwapchainKHR swapchain,
							      uint64_t timeout, VkSemaphore sem,
							      VkFence fence, uint32_t *index)
{
	(void)timeout;
	struct dev *d = dev_of(device);
	struct swapchain *sc = (struct swapchain *)(uintptr_t)swapchain;
	if (!d || !sc)
		return VK_ERROR_DEVICE_LOST;
	*index = sc->next;
	sc->next = (sc->next + 1) % sc->count;
	if (!sem && !fence)
		return VK_SUCCESS;
	if (!d->queue)
		return VK_ERROR_DEVICE_LOST;
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.signalSemaphoreCount = sem ? 1 : 0,
		.pSignalSemaphores = &sem,
	};
	pthread_mutex_lock(&d->queue_lock);
	VkResult r = d->submit(d->queue, 1, &si, fence);
	pthread_mutex_unlock(&d->queue_lock);
	return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL hw_QueuePresentKHR(VkQueue queue, const VkPresentInfoKHR *pi)
{
	struct dev *d = dev_of(queue);
	if (!d)
		return VK_ERROR_DEVICE_LOST;
	VkResult r = VK_SUCCESS;
	if (pi->waitSemaphoreCount) {
		VkPipelineStageFlags *stages = calloc(pi->waitSemaphoreCount, sizeof(*stages));
		if (!stages)
			return VK_ERROR_OUT_OF_HOST_MEMORY;
		for (uint32_t k = 0; k < pi->waitSemaphoreCount; k++)
			stages[k] = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
		VkSubmitInfo si = {
			.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
			.waitSemaphoreCount = pi->waitSemaphoreCount,
			.pWaitSemaphores = pi->pWaitSemaphores,
			.pWaitDstStageMask = stages,
		};
		pthread_mutex_lock(&d->queue_lock);
		r = d->submit(queue, 1, &si, VK_NULL_HANDLE);
		pthread_mutex_unlock(&d->queue_lock);
		free(stages);
	}
	for (uint32_t k = 0; pi->pResults && k < pi->swapchainCount; k++)
		pi->pResults[k] = r;
	return r;
}

/* ---- lookup ------------------------------------------------------------ */

#define ENTRY(name) { "vk" #name, (PFN_vkVoidFunction)hw_##name }
static const struct {
	const char *name;
	PFN_vkVoidFunction fn;
} device_fns[] = {
	ENTRY(DestroyDevice),
	ENTRY(CreateSwapchainKHR),
	ENTRY(DestroySwapchainKHR),
	ENTRY(GetSwapchainImagesKHR),
	ENTRY(AcquireNextImageKHR),
	ENTRY(QueuePresentKHR),
}, instance_fns[] = {
	ENTRY(CreateInstance),
	ENTRY(DestroyInstance),
	ENTRY(CreateDevice),
	ENTRY(CreateHeadlessSurfaceEXT),
	ENTRY(DestroySurfaceKHR),
	ENTRY(GetPhysicalDeviceSurfaceSupportKHR),
	ENTRY(GetPhysicalDeviceSurfaceCapabilitiesKHR),
	ENTRY(GetPhysicalDeviceSurfaceFormatsKHR),
	ENTRY(GetPhysicalDeviceSurfacePresentModesKHR),
};
#undef ENTRY

static PFN_vkVoidFunction find(const char *name, bool instance_level)
{
	for (size_t k = 0; k < sizeof(device_fns) / sizeof(device_fns[0]); k++)
		if (!strcmp(name, device_fns[k].name))
			return device_fns[k].fn;
	for (size_t k = 0; instance_level && k < sizeof(instance_fns) / sizeof(instance_fns[0]); k++)
		if (!strcmp(name, instance_fns[k].name))
			return instance_fns[k].fn;
	return NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL hw_GetDeviceProcAddr(VkDevice device, const char *name);

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL hw_GetInstanceProcAddr(VkInstance instance,
									const char *name)
{
	if (!strcmp(name, "vkGetInstanceProcAddr"))
		return (PFN_vkVoidFunction)hw_GetInstanceProcAddr;
	if (!strcmp(name, "vkGetDeviceProcAddr"))
		return (PFN_vkVoidFunction)hw_GetDeviceProcAddr;
	PFN_vkVoidFunction fn = find(name, true);
	if (fn || !instance)
		return fn;
	struct inst *i = inst_of(instance);
	return i ? i->gipa(instance, name) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL hw_GetDeviceProcAddr(VkDevice device, const char *name)
{
	if (!strcmp(name, "vkGetDeviceProcAddr"))
		return (PFN_vkVoidFunction)hw_GetDeviceProcAddr;
	PFN_vkVoidFunction fn = find(name, false);
	if (fn)
		return fn;
	struct dev *d = dev_of(device);
	return d ? d->gdpa(device, name) : NULL;
}

EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v)
{
	if (!v || v->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT || v->loaderLayerInterfaceVersion < 2)
		return VK_ERROR_INITIALIZATION_FAILED;
	v->loaderLayerInterfaceVersion = 2;
	v->pfnGetInstanceProcAddr = hw_GetInstanceProcAddr;
	v->pfnGetDeviceProcAddr = hw_GetDeviceProcAddr;
	v->pfnGetPhysicalDeviceProcAddr = NULL;
	return VK_SUCCESS;
}
