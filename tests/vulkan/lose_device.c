/*
 * lose_device.c: a Vulkan layer for tests that makes the GPU hang the way
 * a driver reports it: the submit after PV_LOSE_DEVICE_AFTER queue submits
 * (default 0) and every one after it is accepted and never runs, and from
 * then on vkWaitForFences and vkGetFenceStatus return VK_ERROR_DEVICE_LOST.
 * So the device is lost first in a wait, not in a submit. The renderer
 * must then mark the guest's context lost, so that its Venus driver errors
 * out instead of waiting on fences that never signal, and stay up itself.
 *
 * Test-only: the next layer's entry points are kept globally (one device
 * at a time, which is what a per-client renderer process creates).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>
#include <vulkan/vk_layer.h>

#define EXPORT __attribute__((visibility("default")))

static PFN_vkGetInstanceProcAddr next_gipa;
static PFN_vkGetDeviceProcAddr next_gdpa;
static PFN_vkQueueSubmit next_submit;
static PFN_vkQueueSubmit2 next_submit2;
static PFN_vkWaitForFences next_wait;
static PFN_vkGetFenceStatus next_status;
static atomic_long submits;

static long allowed(void)
{
	const char *v = getenv("PV_LOSE_DEVICE_AFTER");
	return v ? atol(v) : 0;
}

static bool lost(void)
{
	return atomic_load(&submits) > allowed();
}

/* True for a submit that is to hang (and counts it). */
static bool hangs(void)
{
	return atomic_fetch_add(&submits, 1) >= allowed();
}

static VKAPI_ATTR VkResult VKAPI_CALL ld_QueueSubmit(VkQueue q, uint32_t n,
						      const VkSubmitInfo *s, VkFence f)
{
	return hangs() ? VK_SUCCESS : next_submit(q, n, s, f);
}

static VKAPI_ATTR VkResult VKAPI_CALL ld_QueueSubmit2(VkQueue q, uint32_t n,
						       const VkSubmitInfo2 *s, VkFence f)
{
	return hangs() ? VK_SUCCESS : next_submit2(q, n, s, f);
}

static VKAPI_ATTR VkResult VKAPI_CALL ld_WaitForFences(VkDevice d, uint32_t n, const VkFence *f,
							VkBool32 all, uint64_t timeout)
{
	return lost() ? VK_ERROR_DEVICE_LOST : next_wait(d, n, f, all, timeout);
}

static VKAPI_ATTR VkResult VKAPI_CALL ld_GetFenceStatus(VkDevice d, VkFence f)
{
	return lost() ? VK_ERROR_DEVICE_LOST : next_status(d, f);
}

/* The loader's link for this layer in a create call's pNext chain. */
static void *chain_link(const void *pnext, VkStructureType type)
{
	for (const VkBaseInStructure *s = pnext; s; s = s->pNext) {
		if (s->sType != type)
			continue;
		/* Both create-info link structs share this layout's head. */
		const VkLayerInstanceCreateInfo *l = (const void *)s;
		if (l->function == VK_LAYER_LINK_INFO)
			return (void *)s;
	}
	return NULL;
}

static VKAPI_ATTR VkResult VKAPI_CALL ld_CreateInstance(const VkInstanceCreateInfo *ci,
							 const VkAllocationCallbacks *a,
							 VkInstance *out)
{
	VkLayerInstanceCreateInfo *link =
		chain_link(ci->pNext, VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO);
	if (!link)
		return VK_ERROR_INITIALIZATION_FAILED;
	next_gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
	link->u.pLayerInfo = link->u.pLayerInfo->pNext;
	PFN_vkCreateInstance create = (PFN_vkCreateInstance)next_gipa(NULL, "vkCreateInstance");
	return create ? create(ci, a, out) : VK_ERROR_INITIALIZATION_FAILED;
}

static VKAPI_ATTR VkResult VKAPI_CALL ld_CreateDevice(VkPhysicalDevice pd,
						       const VkDeviceCreateInfo *ci,
						       const VkAllocationCallbacks *a, VkDevice *out)
{
	VkLayerDeviceCreateInfo *link =
		chain_link(ci->pNext, VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO);
	if (!link)
		return VK_ERROR_INITIALIZATION_FAILED;
	PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
	next_gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
	link->u.pLayerInfo = link->u.pLayerInfo->pNext;
	PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(NULL, "vkCreateDevice");
	VkResult r = create ? create(pd, ci, a, out) : VK_ERROR_INITIALIZATION_FAILED;
	if (r != VK_SUCCESS)
		return r;
	next_submit = (PFN_vkQueueSubmit)next_gdpa(*out, "vkQueueSubmit");
	next_submit2 = (PFN_vkQueueSubmit2)next_gdpa(*out, "vkQueueSubmit2");
	/* A 1.2 device has only the KHR alias, and the hook is handed out for it. */
	if (!next_submit2)
		next_submit2 = (PFN_vkQueueSubmit2)next_gdpa(*out, "vkQueueSubmit2KHR");
	next_wait = (PFN_vkWaitForFences)next_gdpa(*out, "vkWaitForFences");
	next_status = (PFN_vkGetFenceStatus)next_gdpa(*out, "vkGetFenceStatus");
	return VK_SUCCESS;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL ld_GetDeviceProcAddr(VkDevice d, const char *name);

static PFN_vkVoidFunction device_hook(const char *name)
{
	static const struct {
		const char *name;
		PFN_vkVoidFunction fn;
	} hooks[] = {
		{ "vkGetDeviceProcAddr", (PFN_vkVoidFunction)ld_GetDeviceProcAddr },
		{ "vkQueueSubmit", (PFN_vkVoidFunction)ld_QueueSubmit },
		{ "vkQueueSubmit2", (PFN_vkVoidFunction)ld_QueueSubmit2 },
		{ "vkQueueSubmit2KHR", (PFN_vkVoidFunction)ld_QueueSubmit2 },
		{ "vkWaitForFences", (PFN_vkVoidFunction)ld_WaitForFences },
		{ "vkGetFenceStatus", (PFN_vkVoidFunction)ld_GetFenceStatus },
	};
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (!strcmp(name, hooks[i].name))
			return hooks[i].fn;
	return NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL ld_GetDeviceProcAddr(VkDevice d, const char *name)
{
	PFN_vkVoidFunction fn = device_hook(name);
	if (fn && next_gdpa && next_gdpa(d, name))
		return fn;
	return next_gdpa ? next_gdpa(d, name) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL ld_GetInstanceProcAddr(VkInstance inst,
									const char *name)
{
	if (!strcmp(name, "vkGetInstanceProcAddr"))
		return (PFN_vkVoidFunction)ld_GetInstanceProcAddr;
	if (!strcmp(name, "vkCreateInstance"))
		return (PFN_vkVoidFunction)ld_CreateInstance;
	if (!strcmp(name, "vkCreateDevice"))
		return (PFN_vkVoidFunction)ld_CreateDevice;
	PFN_vkVoidFunction fn = device_hook(name);
	if (fn)
		return fn;
	return next_gipa ? next_gipa(inst, name) : NULL;
}

EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v)
{
	if (!v || v->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT || v->loaderLayerInterfaceVersion < 2)
		return VK_ERROR_INITIALIZATION_FAILED;
	v->loaderLayerInterfaceVersion = 2;
	v->pfnGetInstanceProcAddr = ld_GetInstanceProcAddr;
	v->pfnGetDeviceProcAddr = ld_GetDeviceProcAddr;
	v->pfnGetPhysicalDeviceProcAddr = NULL;
	return VK_SUCCESS;
}
