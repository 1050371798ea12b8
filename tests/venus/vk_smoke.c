/*
 * vk-smoke: a small Vulkan client for end-to-end renderer tests. Run it
 * against Mesa's Venus ICD over vtest; it exercises device creation,
 * host-visible memory mapping (the zero-copy blob path), buffers, command
 * buffers, queue submission with a fence, a timeline semaphore, an event
 * a query pool, a compute pipeline (descriptor set, push constants, pipeline
 * cache), a large vkCmdUpdateBuffer (indirect command streams) and, where the
 * device has shaderFloat16, half-precision math (llvmpipe's JIT code calls
 * libm for it), and
 * checks the results. Prints "vk-smoke: OK".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "venus/fill_spv.h" /* generated from tests/venus/fill.comp */
#include "venus/half_exp2_spv.h" /* from tests/venus/half_exp2.comp */

#define CHECK_VK(expr)                                                      \
	do {                                                                \
		VkResult r_ = (expr);                                       \
		if (r_ != VK_SUCCESS) {                                     \
			fprintf(stderr, "vk-smoke: %s failed: %d\n", #expr, r_); \
			exit(1);                                            \
		}                                                           \
	} while (0)

#define SIZE 65536u

static uint32_t find_memory(VkPhysicalDevice pd, uint32_t bits, VkMemoryPropertyFlags want)
{
	VkPhysicalDeviceMemoryProperties mp;
	vkGetPhysicalDeviceMemoryProperties(pd, &mp);
	for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
		if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
			return i;
	fprintf(stderr, "vk-smoke: no memory type\n");
	exit(1);
}

static void make_buffer(VkDevice dev, VkPhysicalDevice pd, VkBuffer *buf,
			VkDeviceMemory *mem, void **map)
{
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = SIZE,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
	};
	CHECK_VK(vkCreateBuffer(dev, &bci, NULL, buf));
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(dev, *buf, &req);
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req.size,
		.memoryTypeIndex = find_memory(pd, req.memoryTypeBits,
					       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
					       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT),
	};
	CHECK_VK(vkAllocateMemory(dev, &mai, NULL, mem));
	CHECK_VK(vkBindBufferMemory(dev, *buf, *mem, 0));
	CHECK_VK(vkMapMemory(dev, *mem, 0, VK_WHOLE_SIZE, 0, map));
}

/* A one-buffer compute pipeline: set 0 binding 0 = the whole buffer, a
 * 4-byte push constant (the shader's "base"). */
struct compute_pipe {
	VkDescriptorSetLayout dsl;
	VkPipelineLayout layout;
	VkShaderModule module;
	VkPipeline pipe;
	VkDescriptorPool pool;
	VkDescriptorSet set;
};

static void compute_pipe_create(struct compute_pipe *c, VkDevice dev, VkPipelineCache cache,
				const uint32_t *spv, size_t spv_size, VkBuffer buf)
{
	VkDescriptorSetLayoutBinding bind = { .binding = 0,
		.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 1,
		.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT };
	VkDescriptorSetLayoutCreateInfo dslci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = 1, .pBindings = &bind };
	CHECK_VK(vkCreateDescriptorSetLayout(dev, &dslci, NULL, &c->dsl));
	VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 };
	VkPipelineLayoutCreateInfo plci = { .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
					    .setLayoutCount = 1, .pSetLayouts = &c->dsl,
					    .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr };
	CHECK_VK(vkCreatePipelineLayout(dev, &plci, NULL, &c->layout));
	VkShaderModuleCreateInfo smci = { .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
					  .codeSize = spv_size, .pCode = spv };
	CHECK_VK(vkCreateShaderModule(dev, &smci, NULL, &c->module));
	VkComputePipelineCreateInfo cpci = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
			   .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = c->module, .pName = "main" },
		.layout = c->layout };
	CHECK_VK(vkCreateComputePipelines(dev, cache, 1, &cpci, NULL, &c->pipe));
	VkDescriptorPoolSize dps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 };
	VkDescriptorPoolCreateInfo dpci = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
					    .maxSets = 1, .poolSizeCount = 1, .pPoolSizes = &dps };
	CHECK_VK(vkCreateDescriptorPool(dev, &dpci, NULL, &c->pool));
	VkDescriptorSetAllocateInfo dsai = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
					     .descriptorPool = c->pool, .descriptorSetCount = 1,
					     .pSetLayouts = &c->dsl };
	CHECK_VK(vkAllocateDescriptorSets(dev, &dsai, &c->set));
	VkDescriptorBufferInfo dbi = { buf, 0, VK_WHOLE_SIZE };
	VkWriteDescriptorSet wds = { .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
				     .dstSet = c->set, .descriptorCount = 1,
				     .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
				     .pBufferInfo = &dbi };
	vkUpdateDescriptorSets(dev, 1, &wds, 0, NULL);
}

/* One invocation per 32-bit word of a SIZE-byte buffer. */
static void compute_pipe_record(const struct compute_pipe *c, VkCommandBuffer cb, uint32_t base)
{
	vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipe);
	vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout, 0, 1, &c->set,
				0, NULL);
	vkCmdPushConstants(cb, c->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &base);
	vkCmdDispatch(cb, SIZE / 4 / 64, 1, 1);
}

static void compute_pipe_destroy(struct compute_pipe *c, VkDevice dev)
{
	vkDestroyPipeline(dev, c->pipe, NULL);
	vkDestroyShaderModule(dev, c->module, NULL);
	vkDestroyPipelineLayout(dev, c->layout, NULL);
	vkDestroyDescriptorPool(dev, c->pool, NULL);
	vkDestroyDescriptorSetLayout(dev, c->dsl, NULL);
}

int main(void)
{
	VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
				  .apiVersion = VK_API_VERSION_1_2 };
	VkInstanceCreateInfo ici = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
				     .pApplicationInfo = &app };
	VkInstance inst;
	CHECK_VK(vkCreateInstance(&ici, NULL, &inst));
	uint32_t n = 1;
	VkPhysicalDevice pd;
	VkResult er = vkEnumeratePhysicalDevices(inst, &n, &pd);
	if ((er != VK_SUCCESS && er != VK_INCOMPLETE) || !n) {
		fprintf(stderr, "vk-smoke: no physical device\n");
		return 1;
	}
	VkPhysicalDeviceProperties props;
	vkGetPhysicalDeviceProperties(pd, &props);
	printf("vk-smoke: device %s\n", props.deviceName);

	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
					.queueFamilyIndex = 0, .queueCount = 1,
					.pQueuePriorities = &prio };
	VkPhysicalDeviceVulkan12Features have12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES };
	VkPhysicalDeviceFeatures2 have = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
					   .pNext = &have12 };
	vkGetPhysicalDeviceFeatures2(pd, &have);
	VkPhysicalDeviceVulkan12Features f12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
		.timelineSemaphore = VK_TRUE, .hostQueryReset = VK_TRUE,
		.shaderFloat16 = have12.shaderFloat16 };
	VkDeviceCreateInfo dci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
				   .pNext = &f12, .queueCreateInfoCount = 1,
				   .pQueueCreateInfos = &qci };
	VkDevice dev;
	CHECK_VK(vkCreateDevice(pd, &dci, NULL, &dev));
	VkQueue queue;
	vkGetDeviceQueue(dev, 0, 0, &queue);

	VkBuffer src, dst;
	VkDeviceMemory src_mem, dst_mem;
	uint32_t *src_map, *dst_map;
	make_buffer(dev, pd, &src, &src_mem, (void **)&src_map);
	make_buffer(dev, pd, &dst, &dst_mem, (void **)&dst_map);
	for (uint32_t i = 0; i < SIZE / 4; i++)
		src_map[i] = i * 2654435761u;
	memset(dst_map, 0, SIZE);

	VkCommandPoolCreateInfo pci = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
					.queueFamilyIndex = 0 };
	VkCommandPool pool;
	CHECK_VK(vkCreateCommandPool(dev, &pci, NULL, &pool));
	VkCommandBufferAllocateInfo cai = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
					    .commandPool = pool,
					    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
					    .commandBufferCount = 1 };
	VkCommandBuffer cb;
	CHECK_VK(vkAllocateCommandBuffers(dev, &cai, &cb));
	VkQueryPoolCreateInfo qpci = { .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
				       .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = 2 };
	VkQueryPool qp;
	CHECK_VK(vkCreateQueryPool(dev, &qpci, NULL, &qp));
	VkEventCreateInfo eci = { .sType = VK_STRUCTURE_TYPE_EVENT_CREATE_INFO };
	VkEvent ev;
	CHECK_VK(vkCreateEvent(dev, &eci, NULL, &ev));

	VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
	CHECK_VK(vkBeginCommandBuffer(cb, &bi));
	vkCmdResetQueryPool(cb, qp, 0, 2);
	vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, qp, 0);
	VkBufferCopy region = { .srcOffset = 0, .dstOffset = 0, .size = SIZE / 2 };
	vkCmdCopyBuffer(cb, src, dst, 1, &region);
	vkCmdFillBuffer(cb, dst, SIZE / 2, SIZE / 2, 0xdeadbeef);
	vkCmdSetEvent(cb, ev, VK_PIPELINE_STAGE_TRANSFER_BIT);
	vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, qp, 1);
	CHECK_VK(vkEndCommandBuffer(cb));

	VkSemaphoreTypeCreateInfo stci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
					   .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE };
	VkSemaphoreCreateInfo sci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
				      .pNext = &stci };
	VkSemaphore tl;
	CHECK_VK(vkCreateSemaphore(dev, &sci, NULL, &tl));
	uint64_t signal = 7;
	VkTimelineSemaphoreSubmitInfo tsi = { .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
					      .signalSemaphoreValueCount = 1,
					      .pSignalSemaphoreValues = &signal };
	VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .pNext = &tsi,
			    .commandBufferCount = 1, .pCommandBuffers = &cb,
			    .signalSemaphoreCount = 1, .pSignalSemaphores = &tl };
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	VkFence fence;
	CHECK_VK(vkCreateFence(dev, &fci, NULL, &fence));
	CHECK_VK(vkQueueSubmit(queue, 1, &si, fence));
	CHECK_VK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000));
	VkSemaphoreWaitInfo swi = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
				    .semaphoreCount = 1, .pSemaphores = &tl, .pValues = &signal };
	CHECK_VK(vkWaitSemaphores(dev, &swi, 10ull * 1000 * 1000 * 1000));
	uint64_t tlv = 0;
	CHECK_VK(vkGetSemaphoreCounterValue(dev, tl, &tlv));
	if (tlv < 7) {
		fprintf(stderr, "vk-smoke: timeline value %" PRIu64 "\n", tlv);
		return 1;
	}
	if (vkGetEventStatus(dev, ev) != VK_EVENT_SET) {
		fprintf(stderr, "vk-smoke: event not set\n");
		return 1;
	}
	uint64_t ts[2] = { 0, 0 };
	CHECK_VK(vkGetQueryPoolResults(dev, qp, 0, 2, sizeof(ts), ts, 8,
				       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
	for (uint32_t i = 0; i < SIZE / 4; i++) {
		uint32_t want = i < SIZE / 8 ? i * 2654435761u : 0xdeadbeef;
		if (dst_map[i] != want) {
			fprintf(stderr, "vk-smoke: word %u is %08x, want %08x\n", i, dst_map[i], want);
			return 1;
		}
	}
	/* Compute: dst[i] = i * 3 + 11, then a 48 KiB inline update over the
	 * first half (too big for the ring: travels as a command stream). */
	VkPipelineCacheCreateInfo pcci = { .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO };
	VkPipelineCache cache;
	CHECK_VK(vkCreatePipelineCache(dev, &pcci, NULL, &cache));
	struct compute_pipe fill;
	compute_pipe_create(&fill, dev, cache, fill_spv, sizeof(fill_spv), dst);
	size_t cache_size = 0;
	CHECK_VK(vkGetPipelineCacheData(dev, cache, &cache_size, NULL));
	static uint32_t inline_data[12288];
	for (uint32_t i = 0; i < 12288; i++)
		inline_data[i] = 0xa5000000u | i;
	CHECK_VK(vkResetCommandBuffer(cb, 0));
	CHECK_VK(vkBeginCommandBuffer(cb, &bi));
	compute_pipe_record(&fill, cb, 11);
	VkMemoryBarrier mb = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
			       .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
			       .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT };
	vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
			     VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
	vkCmdUpdateBuffer(cb, dst, 0, sizeof(inline_data), inline_data);
	CHECK_VK(vkEndCommandBuffer(cb));
	CHECK_VK(vkResetFences(dev, 1, &fence));
	VkSubmitInfo si2 = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
			     .commandBufferCount = 1, .pCommandBuffers = &cb };
	CHECK_VK(vkQueueSubmit(queue, 1, &si2, fence));
	CHECK_VK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000));
	for (uint32_t i = 0; i < SIZE / 4; i++) {
		uint32_t want = i < 12288 ? inline_data[i] : i * 3 + 11;
		if (dst_map[i] != want) {
			fprintf(stderr, "vk-smoke: compute word %u is %08x, want %08x\n", i,
				dst_map[i], want);
			return 1;
		}
	}
	compute_pipe_destroy(&fill, dev);
	printf("vk-smoke: compute and 48 KiB inline update OK (pipeline cache %zu bytes)\n",
	       cache_size);

	if (have12.shaderFloat16) {
		struct compute_pipe half;
		compute_pipe_create(&half, dev, cache, half_exp2_spv, sizeof(half_exp2_spv), dst);
		CHECK_VK(vkResetCommandBuffer(cb, 0));
		CHECK_VK(vkBeginCommandBuffer(cb, &bi));
		compute_pipe_record(&half, cb, 5);
		CHECK_VK(vkEndCommandBuffer(cb));
		CHECK_VK(vkResetFences(dev, 1, &fence));
		CHECK_VK(vkQueueSubmit(queue, 1, &si2, fence));
		CHECK_VK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000));
		for (uint32_t i = 0; i < SIZE / 4; i++) {
			uint32_t want = 1u << ((i + 5) % 8);
			if (dst_map[i] != want) {
				fprintf(stderr, "vk-smoke: half exp2 word %u is %u, want %u\n", i,
					dst_map[i], want);
				return 1;
			}
		}
		compute_pipe_destroy(&half, dev);
		printf("vk-smoke: half-precision exp2 OK\n");
	} else {
		printf("vk-smoke: half-precision exp2 skipped (no shaderFloat16)\n");
	}
	vkDestroyPipelineCache(dev, cache, NULL);

	vkDestroyFence(dev, fence, NULL);
	vkDestroySemaphore(dev, tl, NULL);
	vkDestroyEvent(dev, ev, NULL);
	vkDestroyQueryPool(dev, qp, NULL);
	vkFreeCommandBuffers(dev, pool, 1, &cb);
	vkDestroyCommandPool(dev, pool, NULL);
	vkUnmapMemory(dev, src_mem);
	vkUnmapMemory(dev, dst_mem);
	vkDestroyBuffer(dev, src, NULL);
	vkDestroyBuffer(dev, dst, NULL);
	vkFreeMemory(dev, src_mem, NULL);
	vkFreeMemory(dev, dst_mem, NULL);
	vkDestroyDevice(dev, NULL);
	vkDestroyInstance(inst, NULL);
	printf("vk-smoke: OK (timestamps %" PRIu64 " -> %" PRIu64 ")\n", ts[0], ts[1]);
	return 0;
}
