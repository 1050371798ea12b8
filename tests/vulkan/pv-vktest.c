/*
 * pv-vktest: a self-checking Vulkan workout for the Venus path. It runs the
 * same checks natively (lavapipe) and inside a guest root through Mesa's
 * Venus driver and our renderer, and prints PASS/FAIL per check:
 *   compute       a dispatch whose readback is verified element by element
 *   copy-buffer   buffer -> buffer copy
 *   copy-image    buffer -> optimal-tiling image -> buffer round trip
 *   timeline      a queue submit gated on a host-signalled timeline
 *                 semaphore signals another, waited on the host
 *   recording     one command buffer of 16,384 ordered fills, barriers
 *                 and inline updates (hundreds of KiB of Venus stream:
 *                 the renderer's pipelined replay), verified word by word
 *   objects       thousands of objects of eight kinds created and destroyed
 *   modifier      a LINEAR DRM-format-modifier depth image, which no
 *                 linear tiling can hold on lavapipe (the renderer backs it
 *                 OPTIMAL, as it does Mesa 25's WSI images on NVIDIA):
 *                 cleared on the GPU and read back; skipped where the
 *                 device lacks VK_EXT_image_drm_format_modifier
 * Everything it creates is destroyed before exit, so a server can check
 * that the guest context's live-object count returns to its baseline.
 *
 * Usage: pv-vktest [options] [DEVICE_INDEX]  (exit 0 iff every check passed)
 *   --objects N   objects per kind in the churn check (default 300)
 *   --rounds N    churn rounds (default 4)
 *   --checks LIST comma list of compute,copies,timeline,recording,objects,
 *                 modifier
 *                 (default all)
 *   --repeat N    run the chosen checks N times (default 1)
 *   --time        also print "TIME <check> <ms>" per check run, for bench/
 * Small object counts keep the churn check affordable under emulation (the
 * nested rig); the checks themselves stay the same.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "pv_vktest_comp.h"

#define N_ELEMS 65536u
#define IMG_W 64u
#define IMG_H 64u
#define OBJ_MAX_PER_KIND 300
#define TIMEOUT_NS 30000000000ull

struct ctx {
	VkInstance inst;
	VkPhysicalDevice pd;
	VkDevice dev;
	VkQueue queue;
	uint32_t qfam;
	VkCommandPool pool;
	VkPhysicalDeviceMemoryProperties mem;
	bool has_modifier; /* VK_EXT_image_drm_format_modifier enabled */
};

static int failures;
static int obj_rounds = 4;
static int obj_per_kind = OBJ_MAX_PER_KIND;

static void report(const char *name, bool ok, const char *detail)
{
	printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", name, detail && *detail ? ": " : "",
	       detail ? detail : "");
	fflush(stdout);
	if (!ok)
		failures++;
}

#define VK_OK(call)                                                                 \
	do {                                                                        \
		VkResult r_ = (call);                                               \
		if (r_ != VK_SUCCESS) {                                             \
			snprintf(why, sizeof(why), "%s -> VkResult %d", #call, r_); \
			goto out;                                                   \
		}                                                                   \
	} while (0)

static int find_mem(const struct ctx *c, uint32_t bits, VkMemoryPropertyFlags want)
{
	for (uint32_t i = 0; i < c->mem.memoryTypeCount; i++)
		if ((bits & (1u << i)) && (c->mem.memoryTypes[i].propertyFlags & want) == want)
			return (int)i;
	return -1;
}

struct buf {
	VkBuffer buf;
	VkDeviceMemory mem;
	void *map;
	VkDeviceSize size;
};

static VkResult buf_create(struct ctx *c, VkDeviceSize size, VkBufferUsageFlags usage,
			   struct buf *b)
{
	memset(b, 0, sizeof(*b));
	b->size = size;
	VkBufferCreateInfo bi = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = usage,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	VkResult r = vkCreateBuffer(c->dev, &bi, NULL, &b->buf);
	if (r)
		return r;
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(c->dev, b->buf, &req);
	int type = find_mem(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
							   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	if (type < 0)
		return VK_ERROR_FEATURE_NOT_PRESENT;
	VkMemoryAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if ((r = vkAllocateMemory(c->dev, &ai, NULL, &b->mem)))
		return r;
	if ((r = vkBindBufferMemory(c->dev, b->buf, b->mem, 0)))
		return r;
	return vkMapMemory(c->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map);
}

static void buf_destroy(struct ctx *c, struct buf *b)
{
	if (b->map)
		vkUnmapMemory(c->dev, b->mem);
	vkDestroyBuffer(c->dev, b->buf, NULL);
	vkFreeMemory(c->dev, b->mem, NULL);
	memset(b, 0, sizeof(*b));
}

/* An image with its own device-local (else any) memory bound. */
static VkResult image_create_bound(struct ctx *c, const VkImageCreateInfo *ii, VkImage *img,
				   VkDeviceMemory *mem)
{
	VkResult r = vkCreateImage(c->dev, ii, NULL, img);
	if (r)
		return r;
	VkMemoryRequirements req;
	vkGetImageMemoryRequirements(c->dev, *img, &req);
	int type = find_mem(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	if (type < 0)
		type = find_mem(c, req.memoryTypeBits, 0);
	if (type < 0)
		return VK_ERROR_FEATURE_NOT_PRESENT;
	VkMemoryAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if ((r = vkAllocateMemory(c->dev, &ai, NULL, mem)))
		return r;
	return vkBindImageMemory(c->dev, *img, *mem, 0);
}

/* Records with rec(), submits, waits on a fence. */
static VkResult run_once(struct ctx *c, void (*rec)(VkCommandBuffer, void *), void *arg)
{
	VkCommandBufferAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = c->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkCommandBuffer cb;
	VkFence fence = VK_NULL_HANDLE;
	VkResult r = vkAllocateCommandBuffers(c->dev, &ai, &cb);
	if (r)
		return r;
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	if ((r = vkBeginCommandBuffer(cb, &bi)))
		goto out;
	rec(cb, arg);
	if ((r = vkEndCommandBuffer(cb)))
		goto out;
	VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	if ((r = vkCreateFence(c->dev, &fi, NULL, &fence)))
		goto out;
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &cb,
	};
	if ((r = vkQueueSubmit(c->queue, 1, &si, fence)))
		goto out;
	r = vkWaitForFences(c->dev, 1, &fence, VK_TRUE, TIMEOUT_NS);
out:
	vkDestroyFence(c->dev, fence, NULL);
	vkFreeCommandBuffers(c->dev, c->pool, 1, &cb);
	return r;
}

static void barrier_all(VkCommandBuffer cb)
{
	VkMemoryBarrier mb = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
	};
	vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
			     VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* ---- compute ---- */

struct compute_args {
	VkPipeline pipe;
	VkPipelineLayout layout;
	VkDescriptorSet set;
	uint32_t params[2];
};

static void rec_compute(VkCommandBuffer cb, void *arg)
{
	struct compute_args *a = arg;
	vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, a->pipe);
	vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, a->layout, 0, 1, &a->set, 0,
				NULL);
	vkCmdPushConstants(cb, a->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(a->params),
			   a->params);
	vkCmdDispatch(cb, (N_ELEMS + 63) / 64, 1, 1);
	barrier_all(cb);
}

static void check_compute(struct ctx *c)
{
	char why[256] = "";
	bool ok = false;
	struct buf in = { 0 }, outb = { 0 };
	VkShaderModule sm = VK_NULL_HANDLE;
	VkDescriptorSetLayout dsl = VK_NULL_HANDLE;
	VkDescriptorPool dp = VK_NULL_HANDLE;
	struct compute_args a = { .params = { N_ELEMS, 3 } };

	VK_OK(buf_create(c, N_ELEMS * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &in));
	VK_OK(buf_create(c, N_ELEMS * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &outb));
	uint32_t *src = in.map, *dst = outb.map;
	for (uint32_t i = 0; i < N_ELEMS; i++) {
		src[i] = i * 2654435761u;
		dst[i] = 0xdeadbeef;
	}
	VkShaderModuleCreateInfo smi = {
		.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
		.codeSize = sizeof(pv_vktest_comp_spv),
		.pCode = pv_vktest_comp_spv,
	};
	VK_OK(vkCreateShaderModule(c->dev, &smi, NULL, &sm));
	VkDescriptorSetLayoutBinding bind[2] = {
		{ 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
		{ 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
	};
	VkDescriptorSetLayoutCreateInfo dli = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = 2,
		.pBindings = bind,
	};
	VK_OK(vkCreateDescriptorSetLayout(c->dev, &dli, NULL, &dsl));
	VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(a.params) };
	VkPipelineLayoutCreateInfo pli = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1,
		.pSetLayouts = &dsl,
		.pushConstantRangeCount = 1,
		.pPushConstantRanges = &pcr,
	};
	VK_OK(vkCreatePipelineLayout(c->dev, &pli, NULL, &a.layout));
	VkComputePipelineCreateInfo cpi = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage = {
			.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
			.stage = VK_SHADER_STAGE_COMPUTE_BIT,
			.module = sm,
			.pName = "main",
		},
		.layout = a.layout,
	};
	VK_OK(vkCreateComputePipelines(c->dev, VK_NULL_HANDLE, 1, &cpi, NULL, &a.pipe));
	VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 };
	VkDescriptorPoolCreateInfo dpi = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = 1,
		.poolSizeCount = 1,
		.pPoolSizes = &ps,
	};
	VK_OK(vkCreateDescriptorPool(c->dev, &dpi, NULL, &dp));
	VkDescriptorSetAllocateInfo dai = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
		.descriptorPool = dp,
		.descriptorSetCount = 1,
		.pSetLayouts = &dsl,
	};
	VK_OK(vkAllocateDescriptorSets(c->dev, &dai, &a.set));
	VkDescriptorBufferInfo dbi[2] = {
		{ in.buf, 0, VK_WHOLE_SIZE },
		{ outb.buf, 0, VK_WHOLE_SIZE },
	};
	VkWriteDescriptorSet w = {
		.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
		.dstSet = a.set,
		.dstBinding = 0,
		.descriptorCount = 2,
		.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
		.pBufferInfo = dbi,
	};
	vkUpdateDescriptorSets(c->dev, 1, &w, 0, NULL);
	VK_OK(run_once(c, rec_compute, &a));

	uint64_t sum = 0;
	uint32_t bad = 0, first_bad = 0;
	for (uint32_t i = 0; i < N_ELEMS; i++) {
		uint32_t want = src[i] * 3u + i;
		if (dst[i] != want && !bad++)
			first_bad = i;
		sum += dst[i];
	}
	if (bad)
		snprintf(why, sizeof(why), "%u of %u elements wrong, first at %u (%#x)", bad,
			 N_ELEMS, first_bad, dst[first_bad]);
	else
		snprintf(why, sizeof(why), "%u elements, checksum %#" PRIx64, N_ELEMS, sum);
	ok = !bad;
out:
	report("compute", ok, why);
	if (c->dev) {
		vkDestroyDescriptorPool(c->dev, dp, NULL);
		vkDestroyPipeline(c->dev, a.pipe, NULL);
		vkDestroyPipelineLayout(c->dev, a.layout, NULL);
		vkDestroyDescriptorSetLayout(c->dev, dsl, NULL);
		vkDestroyShaderModule(c->dev, sm, NULL);
		buf_destroy(c, &in);
		buf_destroy(c, &outb);
	}
}

/* ---- copies ---- */

struct copy_args {
	VkBuffer src, dst;
	VkImage img;
	VkDeviceSize size;
};

static void rec_copy_buffer(VkCommandBuffer cb, void *arg)
{
	struct copy_args *a = arg;
	VkBufferCopy r = { 16, 0, a->size - 16 };
	vkCmdCopyBuffer(cb, a->src, a->dst, 1, &r);
	barrier_all(cb);
}

static void image_barrier(VkCommandBuffer cb, VkImage img, VkImageAspectFlags aspect,
			  VkImageLayout from, VkImageLayout to)
{
	VkImageMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
		.oldLayout = from,
		.newLayout = to,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = img,
		.subresourceRange = { aspect, 0, 1, 0, 1 },
	};
	vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
			     VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0, NULL, 0, NULL, 1, &b);
}

static void rec_copy_image(VkCommandBuffer cb, void *arg)
{
	struct copy_args *a = arg;
	VkBufferImageCopy r = {
		.imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
		.imageExtent = { IMG_W, IMG_H, 1 },
	};
	image_barrier(cb, a->img, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_UNDEFINED,
		      VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
	vkCmdCopyBufferToImage(cb, a->src, a->img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &r);
	image_barrier(cb, a->img, VK_IMAGE_ASPECT_COLOR_BIT, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
		      VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
	vkCmdCopyImageToBuffer(cb, a->img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, a->dst, 1, &r);
	barrier_all(cb);
}

static bool compare(const uint8_t *got, const uint8_t *want, size_t n, char *why, size_t wl)
{
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			snprintf(why, wl, "byte %zu is %#x, expected %#x", i, got[i], want[i]);
			return false;
		}
	}
	snprintf(why, wl, "%zu bytes verified", n);
	return true;
}

static void check_copies(struct ctx *c)
{
	char why[256] = "";
	bool ok = false;
	const VkDeviceSize size = IMG_W * IMG_H * 4;
	struct buf a = { 0 }, b = { 0 };
	VkImage img = VK_NULL_HANDLE;
	VkDeviceMemory imem = VK_NULL_HANDLE;
	const VkBufferUsageFlags u = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
				     VK_BUFFER_USAGE_TRANSFER_DST_BIT;
	VK_OK(buf_create(c, size, u, &a));
	VK_OK(buf_create(c, size, u, &b));
	uint8_t *pa = a.map, *pb = b.map;
	for (VkDeviceSize i = 0; i < size; i++) {
		pa[i] = (uint8_t)(i * 7 + 1);
		pb[i] = 0;
	}
	struct copy_args ca = { .src = a.buf, .dst = b.buf, .size = size };
	VK_OK(run_once(c, rec_copy_buffer, &ca));
	ok = compare(pb, pa + 16, size - 16, why, sizeof(why));
out:
	report("copy-buffer", ok, why);
	if (!ok || !c->dev)
		goto done;

	ok = false;
	memset(pb, 0, size);
	VkImageCreateInfo ii = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = VK_FORMAT_R8G8B8A8_UINT,
		.extent = { IMG_W, IMG_H, 1 },
		.mipLevels = 1,
		.arrayLayers = 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_OPTIMAL,
		.usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	VkResult ir = image_create_bound(c, &ii, &img, &imem);
	if (ir) {
		snprintf(why, sizeof(why), "image creation or memory -> VkResult %d", ir);
		goto img_out;
	}
	ca.img = img;
	VkResult r = run_once(c, rec_copy_image, &ca);
	if (r)
		snprintf(why, sizeof(why), "submit -> VkResult %d", r);
	else
		ok = compare(pb, pa, size, why, sizeof(why));
img_out:
	report("copy-image", ok, why);
	vkDestroyImage(c->dev, img, NULL);
	vkFreeMemory(c->dev, imem, NULL);
done:
	if (c->dev) {
		buf_destroy(c, &a);
		buf_destroy(c, &b);
	}
}

/* ---- LINEAR-modifier image without linear support ---- */

struct depth_args {
	VkImage img;
	VkBuffer dst;
};

static void rec_depth(VkCommandBuffer cb, void *arg)
{
	struct depth_args *a = arg;
	const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_DEPTH_BIT, 0, 1, 0, 1 };
	const VkClearDepthStencilValue v = { 0.5f, 0 };
	image_barrier(cb, a->img, VK_IMAGE_ASPECT_DEPTH_BIT, VK_IMAGE_LAYOUT_UNDEFINED,
		      VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
	vkCmdClearDepthStencilImage(cb, a->img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &v, 1, &range);
	image_barrier(cb, a->img, VK_IMAGE_ASPECT_DEPTH_BIT, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
		      VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
	VkBufferImageCopy r = {
		.imageSubresource = { VK_IMAGE_ASPECT_DEPTH_BIT, 0, 0, 1 },
		.imageExtent = { IMG_W, IMG_H, 1 },
	};
	vkCmdCopyImageToBuffer(cb, a->img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, a->dst, 1, &r);
	barrier_all(cb);
}

/*
 * Mesa 25's Venus WSI creates its images with the LINEAR modifier whatever
 * the format's linear features say; on NVIDIA (no linear colour
 * attachment) the renderer must back them OPTIMAL. Lavapipe has no linear
 * depth, so a depth image takes the colour image's place here.
 */
static void check_modifier(struct ctx *c)
{
	char why[256] = "";
	bool ok = false;
	VkImage img = VK_NULL_HANDLE;
	VkDeviceMemory imem = VK_NULL_HANDLE;
	struct buf out = { 0 };
	if (!c->has_modifier) {
		report("modifier", true, "skipped: no VK_EXT_image_drm_format_modifier");
		return;
	}
	const uint64_t linear = 0; /* DRM_FORMAT_MOD_LINEAR */
	VkImageDrmFormatModifierListCreateInfoEXT ml = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_LIST_CREATE_INFO_EXT,
		.drmFormatModifierCount = 1,
		.pDrmFormatModifiers = &linear,
	};
	VkImageCreateInfo ii = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.pNext = &ml,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = VK_FORMAT_D32_SFLOAT,
		.extent = { IMG_W, IMG_H, 1 },
		.mipLevels = 1,
		.arrayLayers = 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT,
		.usage = VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT |
			 VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	VK_OK(image_create_bound(c, &ii, &img, &imem));
	PFN_vkGetImageDrmFormatModifierPropertiesEXT get_mod =
		(PFN_vkGetImageDrmFormatModifierPropertiesEXT)vkGetDeviceProcAddr(
			c->dev, "vkGetImageDrmFormatModifierPropertiesEXT");
	VkImageDrmFormatModifierPropertiesEXT mp = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_PROPERTIES_EXT,
		.drmFormatModifier = ~0ull,
	};
	if (!get_mod) {
		snprintf(why, sizeof(why), "no vkGetImageDrmFormatModifierPropertiesEXT");
		goto out;
	}
	VK_OK(get_mod(c->dev, img, &mp));
	if (mp.drmFormatModifier != linear) {
		snprintf(why, sizeof(why), "modifier %#" PRIx64 ", not LINEAR", mp.drmFormatModifier);
		goto out;
	}
	const VkImageSubresource sub = { VK_IMAGE_ASPECT_MEMORY_PLANE_0_BIT_EXT, 0, 0 };
	VkSubresourceLayout lay = { 0 };
	vkGetImageSubresourceLayout(c->dev, img, &sub, &lay);
	if (lay.rowPitch < IMG_W * 4 || lay.size < lay.rowPitch * IMG_H) {
		snprintf(why, sizeof(why), "layout rowPitch %" PRIu64 ", size %" PRIu64,
			 (uint64_t)lay.rowPitch, (uint64_t)lay.size);
		goto out;
	}
	VK_OK(buf_create(c, IMG_W * IMG_H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &out));
	memset(out.map, 0, IMG_W * IMG_H * 4);
	struct depth_args da = { img, out.buf };
	VK_OK(run_once(c, rec_depth, &da));
	const float *got = out.map;
	for (uint32_t i = 0; i < IMG_W * IMG_H; i++) {
		if (got[i] != 0.5f) {
			snprintf(why, sizeof(why), "depth texel %u is %g, expected 0.5", i, got[i]);
			goto out;
		}
	}
	ok = true;
	snprintf(why, sizeof(why), "LINEAR modifier, rowPitch %" PRIu64 ", %u depth texels verified",
		 (uint64_t)lay.rowPitch, IMG_W * IMG_H);
out:
	report("modifier", ok, why);
	if (c->dev) {
		if (out.buf)
			buf_destroy(c, &out);
		vkDestroyImage(c->dev, img, NULL);
		vkFreeMemory(c->dev, imem, NULL);
	}
}

/* ---- timeline semaphore ---- */

static void check_timeline(struct ctx *c)
{
	char why[256] = "";
	bool ok = false;
	VkSemaphore gate = VK_NULL_HANDLE, done = VK_NULL_HANDLE;
	VkSemaphoreTypeCreateInfo ti = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
		.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
		.initialValue = 1,
	};
	VkSemaphoreCreateInfo si = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &ti };
	VK_OK(vkCreateSemaphore(c->dev, &si, NULL, &gate));
	VK_OK(vkCreateSemaphore(c->dev, &si, NULL, &done));
	/* The queue waits for gate 2 (signalled from the host afterwards) and
	 * then signals done 5; the host waits for done 5. Two semaphores, not
	 * one: Mesa's Venus driver (25.0) writes a host-signalled value into
	 * the semaphore's feedback slot after sending the signal, so when the
	 * queue's later value lands first the slot goes back to the older one
	 * and a wait for it never ends (docs/virtio-gpu.md, "Known issues"). */
	uint64_t wait_val = 2, signal_val = 5;
	VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
	VkTimelineSemaphoreSubmitInfo tsi = {
		.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
		.waitSemaphoreValueCount = 1,
		.pWaitSemaphoreValues = &wait_val,
		.signalSemaphoreValueCount = 1,
		.pSignalSemaphoreValues = &signal_val,
	};
	VkSubmitInfo sub = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.pNext = &tsi,
		.waitSemaphoreCount = 1,
		.pWaitSemaphores = &gate,
		.pWaitDstStageMask = &stage,
		.signalSemaphoreCount = 1,
		.pSignalSemaphores = &done,
	};
	VK_OK(vkQueueSubmit(c->queue, 1, &sub, VK_NULL_HANDLE));
	uint64_t v = 0;
	VK_OK(vkGetSemaphoreCounterValue(c->dev, done, &v));
	if (v != 1) {
		snprintf(why, sizeof(why), "done is %" PRIu64 " before the gate opened", v);
		goto out;
	}
	VkSemaphoreSignalInfo sig = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
		.semaphore = gate,
		.value = 2,
	};
	VK_OK(vkSignalSemaphore(c->dev, &sig));
	VkSemaphoreWaitInfo wi = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
		.semaphoreCount = 1,
		.pSemaphores = &done,
		.pValues = &signal_val,
	};
	VK_OK(vkWaitSemaphores(c->dev, &wi, TIMEOUT_NS));
	VK_OK(vkGetSemaphoreCounterValue(c->dev, done, &v));
	ok = v == 5;
	snprintf(why, sizeof(why), "counter %" PRIu64 " after host wait", v);
	VK_OK(vkQueueWaitIdle(c->queue));
out:
	report("timeline", ok, why);
	if (c->dev) {
		vkDestroySemaphore(c->dev, gate, NULL);
		vkDestroySemaphore(c->dev, done, NULL);
	}
}

/* ---- object churn ---- */

struct objs {
	VkBuffer buf[OBJ_MAX_PER_KIND];
	VkImage img[OBJ_MAX_PER_KIND];
	VkDeviceMemory mem[OBJ_MAX_PER_KIND];
	VkDescriptorSet set[OBJ_MAX_PER_KIND];
	VkFence fence[OBJ_MAX_PER_KIND];
	VkSemaphore sem[OBJ_MAX_PER_KIND];
	VkEvent event[OBJ_MAX_PER_KIND];
	VkQueryPool qp[OBJ_MAX_PER_KIND];
};

/* ---- recording: a long command buffer whose result depends on order ---- */

#define REC_WORDS 1024u
#define REC_STEPS 16384u /* each word is written REC_STEPS / REC_WORDS times */
#define REC_UPDATE_EVERY 64u

struct rec_args {
	VkBuffer fills, updates;
};

/* Step i fills word (i * 7) % REC_WORDS with i: 7 is odd, so every word is
 * hit once per REC_WORDS steps and must end up holding the last step that
 * hit it; a dropped or reordered fill leaves an older value. Every
 * REC_UPDATE_EVERY steps an inline update (data carried in the stream)
 * writes a 4-word pattern into the second buffer. */
static void rec_recording(VkCommandBuffer cb, void *arg)
{
	struct rec_args *a = arg;
	for (uint32_t i = 0; i < REC_STEPS; i++) {
		vkCmdFillBuffer(cb, a->fills, (VkDeviceSize)((i * 7u) % REC_WORDS) * 4, 4, i);
		if (i % REC_UPDATE_EVERY == REC_UPDATE_EVERY - 1) {
			uint32_t k = i / REC_UPDATE_EVERY, pat[4] = { k, ~k, k * 3u, k ^ 0x5a5a5a5au };
			vkCmdUpdateBuffer(cb, a->updates, (VkDeviceSize)k * sizeof(pat), sizeof(pat),
					  pat);
		}
		barrier_all(cb);
	}
}

static void check_recording(struct ctx *c)
{
	char why[256] = "";
	bool ok = false;
	struct buf fills = { 0 }, updates = { 0 };
	const uint32_t n_upd = REC_STEPS / REC_UPDATE_EVERY;
	VK_OK(buf_create(c, REC_WORDS * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &fills));
	VK_OK(buf_create(c, (VkDeviceSize)n_upd * 16, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &updates));
	memset(fills.map, 0xff, REC_WORDS * 4);
	memset(updates.map, 0xff, (size_t)n_upd * 16);
	struct rec_args a = { fills.buf, updates.buf };
	VK_OK(run_once(c, rec_recording, &a));
	const uint32_t *f = fills.map, *u = updates.map;
	uint32_t bad = 0, first = 0, got = 0, want = 0;
	for (uint32_t i = REC_STEPS - REC_WORDS; i < REC_STEPS; i++) {
		uint32_t w = (i * 7u) % REC_WORDS;
		if (f[w] != i && !bad++)
			first = w, got = f[w], want = i;
	}
	for (uint32_t k = 0; k < n_upd; k++) {
		uint32_t pat[4] = { k, ~k, k * 3u, k ^ 0x5a5a5a5au };
		if (memcmp(u + 4 * k, pat, sizeof(pat)) && !bad++)
			first = REC_WORDS + k, got = u[4 * k], want = k;
	}
	if (bad)
		snprintf(why, sizeof(why), "%u wrong words, first: word %u is %#x, want %#x", bad,
			 first, got, want);
	else
		snprintf(why, sizeof(why), "%u fills, %u updates and %u barriers in order",
			 REC_STEPS, n_upd, REC_STEPS);
	ok = !bad;
out:
	report("recording", ok, why);
	if (c->dev) {
		buf_destroy(c, &fills);
		buf_destroy(c, &updates);
	}
}

static void check_objects(struct ctx *c)
{
	char why[256] = "";
	bool ok = false;
	struct objs *o = calloc(1, sizeof(*o));
	VkDescriptorSetLayout dsl = VK_NULL_HANDLE;
	VkDescriptorPool dp = VK_NULL_HANDLE;
	unsigned long created = 0;
	if (!o) {
		snprintf(why, sizeof(why), "out of memory");
		goto out;
	}
	VkDescriptorSetLayoutBinding bind = { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
					      VK_SHADER_STAGE_COMPUTE_BIT, NULL };
	VkDescriptorSetLayoutCreateInfo dli = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = 1,
		.pBindings = &bind,
	};
	VK_OK(vkCreateDescriptorSetLayout(c->dev, &dli, NULL, &dsl));
	VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, obj_per_kind };
	VkDescriptorPoolCreateInfo dpi = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT,
		.maxSets = obj_per_kind,
		.poolSizeCount = 1,
		.pPoolSizes = &ps,
	};
	VK_OK(vkCreateDescriptorPool(c->dev, &dpi, NULL, &dp));
	int memtype = -1;
	for (int round = 0; round < obj_rounds; round++) {
		for (int i = 0; i < obj_per_kind; i++) {
			VkBufferCreateInfo bi = {
				.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
				.size = 256 + (VkDeviceSize)i * 16,
				.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
			};
			VK_OK(vkCreateBuffer(c->dev, &bi, NULL, &o->buf[i]));
			VkImageCreateInfo ii = {
				.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
				.imageType = VK_IMAGE_TYPE_2D,
				.format = VK_FORMAT_R8G8B8A8_UNORM,
				.extent = { 8 + (uint32_t)(i % 8), 8, 1 },
				.mipLevels = 1,
				.arrayLayers = 1,
				.samples = VK_SAMPLE_COUNT_1_BIT,
				.tiling = VK_IMAGE_TILING_OPTIMAL,
				.usage = VK_IMAGE_USAGE_SAMPLED_BIT,
			};
			VK_OK(vkCreateImage(c->dev, &ii, NULL, &o->img[i]));
			VkMemoryRequirements req;
			vkGetBufferMemoryRequirements(c->dev, o->buf[i], &req);
			if (memtype < 0)
				memtype = find_mem(c, req.memoryTypeBits, 0);
			VkMemoryAllocateInfo ai = {
				.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
				.allocationSize = 4096,
				.memoryTypeIndex = (uint32_t)memtype,
			};
			VK_OK(vkAllocateMemory(c->dev, &ai, NULL, &o->mem[i]));
			VK_OK(vkBindBufferMemory(c->dev, o->buf[i], o->mem[i], 0));
			VkDescriptorSetAllocateInfo dai = {
				.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
				.descriptorPool = dp,
				.descriptorSetCount = 1,
				.pSetLayouts = &dsl,
			};
			VK_OK(vkAllocateDescriptorSets(c->dev, &dai, &o->set[i]));
			VkFenceCreateInfo fi = {
				.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
				.flags = (i & 1) ? VK_FENCE_CREATE_SIGNALED_BIT : 0,
			};
			VK_OK(vkCreateFence(c->dev, &fi, NULL, &o->fence[i]));
			VkSemaphoreCreateInfo si = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
			VK_OK(vkCreateSemaphore(c->dev, &si, NULL, &o->sem[i]));
			VkEventCreateInfo ei = { .sType = VK_STRUCTURE_TYPE_EVENT_CREATE_INFO };
			VK_OK(vkCreateEvent(c->dev, &ei, NULL, &o->event[i]));
			VkQueryPoolCreateInfo qi = {
				.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
				.queryType = VK_QUERY_TYPE_OCCLUSION,
				.queryCount = 4,
			};
			VK_OK(vkCreateQueryPool(c->dev, &qi, NULL, &o->qp[i]));
			created += 8;
		}
		/* Touch a few so creation is not just bookkeeping. */
		VK_OK(vkSetEvent(c->dev, o->event[0]));
		if (vkGetEventStatus(c->dev, o->event[0]) != VK_EVENT_SET) {
			snprintf(why, sizeof(why), "event not set after vkSetEvent");
			goto out;
		}
		if (vkGetFenceStatus(c->dev, o->fence[1]) != VK_SUCCESS) {
			snprintf(why, sizeof(why), "fence created signalled reads unsignalled");
			goto out;
		}
		for (int i = 0; i < obj_per_kind; i++) {
			vkDestroyQueryPool(c->dev, o->qp[i], NULL);
			vkDestroyEvent(c->dev, o->event[i], NULL);
			vkDestroySemaphore(c->dev, o->sem[i], NULL);
			vkDestroyFence(c->dev, o->fence[i], NULL);
			VK_OK(vkFreeDescriptorSets(c->dev, dp, 1, &o->set[i]));
			vkDestroyImage(c->dev, o->img[i], NULL);
			vkDestroyBuffer(c->dev, o->buf[i], NULL);
			vkFreeMemory(c->dev, o->mem[i], NULL);
		}
		memset(o, 0, sizeof(*o));
	}
	ok = true;
	snprintf(why, sizeof(why), "%lu objects of 8 kinds created and destroyed (%d live at peak)",
		 created, obj_per_kind * 8);
out:
	report("objects", ok, why);
	/* After a failure, whatever is left goes with the device. */
	if (c->dev) {
		vkDestroyDescriptorPool(c->dev, dp, NULL);
		vkDestroyDescriptorSetLayout(c->dev, dsl, NULL);
	}
	free(o);
}

/* ---- setup ---- */

static bool setup(struct ctx *c, uint32_t want_index)
{
	char why[256] = "";
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "pv-vktest",
		.apiVersion = VK_API_VERSION_1_2,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VK_OK(vkCreateInstance(&ici, NULL, &c->inst));
	uint32_t n = 0;
	VK_OK(vkEnumeratePhysicalDevices(c->inst, &n, NULL));
	if (want_index >= n || n > 16) {
		snprintf(why, sizeof(why), "device %u requested, %u present", want_index, n);
		goto out;
	}
	VkPhysicalDevice pds[16];
	VK_OK(vkEnumeratePhysicalDevices(c->inst, &n, pds));
	c->pd = pds[want_index];
	VkPhysicalDeviceProperties props;
	vkGetPhysicalDeviceProperties(c->pd, &props);
	vkGetPhysicalDeviceMemoryProperties(c->pd, &c->mem);
	uint32_t nq = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(c->pd, &nq, NULL);
	VkQueueFamilyProperties qf[16];
	nq = nq > 16 ? 16 : nq;
	vkGetPhysicalDeviceQueueFamilyProperties(c->pd, &nq, qf);
	c->qfam = UINT32_MAX;
	for (uint32_t i = 0; i < nq && c->qfam == UINT32_MAX; i++)
		if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
			c->qfam = i;
	if (c->qfam == UINT32_MAX) {
		snprintf(why, sizeof(why), "no compute queue");
		goto out;
	}
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qi = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = c->qfam,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkPhysicalDeviceTimelineSemaphoreFeatures tl = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
		.timelineSemaphore = VK_TRUE,
	};
	uint32_t next = 0;
	vkEnumerateDeviceExtensionProperties(c->pd, NULL, &next, NULL);
	VkExtensionProperties *exts = calloc(next ? next : 1, sizeof(*exts));
	if (exts && vkEnumerateDeviceExtensionProperties(c->pd, NULL, &next, exts) >= 0)
		for (uint32_t i = 0; i < next; i++)
			c->has_modifier |= !strcmp(exts[i].extensionName,
						   VK_EXT_IMAGE_DRM_FORMAT_MODIFIER_EXTENSION_NAME);
	free(exts);
	const char *ext_names[] = { VK_EXT_IMAGE_DRM_FORMAT_MODIFIER_EXTENSION_NAME };
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.pNext = &tl,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qi,
		.enabledExtensionCount = c->has_modifier ? 1 : 0,
		.ppEnabledExtensionNames = ext_names,
	};
	VK_OK(vkCreateDevice(c->pd, &dci, NULL, &c->dev));
	vkGetDeviceQueue(c->dev, c->qfam, 0, &c->queue);
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = c->qfam,
	};
	VK_OK(vkCreateCommandPool(c->dev, &pci, NULL, &c->pool));
	snprintf(why, sizeof(why), "%.200s, API %u.%u.%u", props.deviceName,
		 VK_API_VERSION_MAJOR(props.apiVersion), VK_API_VERSION_MINOR(props.apiVersion),
		 VK_API_VERSION_PATCH(props.apiVersion));
	report("device", true, why);
	return true;
out:
	report("device", false, why);
	return false;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int parse_count(const char *opt, const char *v, int lo, int hi)
{
	char *end;
	long n = v ? strtol(v, &end, 10) : 0;
	if (!v || *end || n < lo || n > hi) {
		fprintf(stderr, "pv-vktest: %s wants a number in [%d, %d]\n", opt, lo, hi);
		exit(2);
	}
	return (int)n;
}

static const struct {
	const char *name;
	void (*run)(struct ctx *);
} all_checks[] = {
	{ "compute", check_compute },
	{ "copies", check_copies },
	{ "timeline", check_timeline },
	{ "recording", check_recording },
	{ "objects", check_objects },
	{ "modifier", check_modifier },
};
#define N_CHECKS (sizeof(all_checks) / sizeof(all_checks[0]))

/* Marks the checks named in a comma list; 0 on an unknown name. */
static bool pick_checks(const char *list, bool *want)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < N_CHECKS && strcmp(t, all_checks[i].name); i++)
			;
		if (i == N_CHECKS)
			return false;
		want[i] = true;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	uint32_t idx = 0;
	int repeat = 1;
	bool timing = false, want[N_CHECKS], picked = false;
	memset(want, 0, sizeof(want));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--objects")) {
			obj_per_kind = parse_count(a, v, 2, OBJ_MAX_PER_KIND), i++;
		} else if (!strcmp(a, "--rounds")) {
			obj_rounds = parse_count(a, v, 1, 1000), i++;
		} else if (!strcmp(a, "--repeat")) {
			repeat = parse_count(a, v, 1, 100000), i++;
		} else if (!strcmp(a, "--time")) {
			timing = true;
		} else if (!strcmp(a, "--checks")) {
			if (!v || !pick_checks(v, want)) {
				fprintf(stderr, "pv-vktest: --checks wants a list of compute,copies,timeline,recording,objects\n");
				return 2;
			}
			picked = true, i++;
		} else if (a[0] >= '0' && a[0] <= '9') {
			idx = (uint32_t)strtoul(a, NULL, 10);
		} else {
			fprintf(stderr, "usage: pv-vktest [--objects N] [--rounds N] [--checks LIST] "
					"[--repeat N] [--time] [DEVICE_INDEX]\n");
			return 2;
		}
	}
	if (!picked)
		memset(want, 1, sizeof(want));
	if (setup(&c, idx)) {
		for (int r = 0; r < repeat; r++) {
			for (size_t i = 0; i < N_CHECKS; i++) {
				if (!want[i])
					continue;
				double t0 = now_ms();
				all_checks[i].run(&c);
				if (timing)
					printf("TIME %s %.3f\n", all_checks[i].name, now_ms() - t0);
			}
		}
		vkDeviceWaitIdle(c.dev);
	}
	if (c.dev) {
		vkDestroyCommandPool(c.dev, c.pool, NULL);
		vkDestroyDevice(c.dev, NULL);
	}
	if (c.inst)
		vkDestroyInstance(c.inst, NULL);
	printf("pv-vktest: %s\n", failures ? "FAILED" : "all checks passed");
	return failures ? 1 : 0;
}
