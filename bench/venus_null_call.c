/*
 * venus-null-call: round-trip latency of a synchronous Venus call. Run it
 * as a guest-side Vulkan client (Mesa's Venus ICD over vtest or in a VM)
 * with VN_PERF=no_fence_feedback so vkGetFenceStatus goes to the renderer
 * every time:
 *
 *   VN_PERF=no_fence_feedback VN_DEBUG=vtest VTEST_SOCKET_NAME=... \
 *     VK_DRIVER_FILES=.../virtio_icd.json build/x86_64/venus-null-call [N]
 *
 * Prints min/median/p99/mean in microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vulkan/vulkan.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	if (n < 10)
		n = 10;
	VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
				  .apiVersion = VK_API_VERSION_1_1 };
	VkInstanceCreateInfo ici = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
				     .pApplicationInfo = &app };
	VkInstance inst;
	if (vkCreateInstance(&ici, NULL, &inst) != VK_SUCCESS)
		return 1;
	uint32_t count = 1;
	VkPhysicalDevice pd;
	VkResult er = vkEnumeratePhysicalDevices(inst, &count, &pd);
	if ((er != VK_SUCCESS && er != VK_INCOMPLETE) || !count)
		return 1;
	float prio = 1;
	VkDeviceQueueCreateInfo qci = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
					.queueCount = 1, .pQueuePriorities = &prio };
	VkDeviceCreateInfo dci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
				   .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci };
	VkDevice dev;
	if (vkCreateDevice(pd, &dci, NULL, &dev) != VK_SUCCESS)
		return 1;
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	VkFence fence;
	vkCreateFence(dev, &fci, NULL, &fence);
	double *t = malloc(sizeof(*t) * (size_t)n);
	for (int i = 0; i < 200; i++)
		vkGetFenceStatus(dev, fence);
	for (int i = 0; i < n; i++) {
		double a = now_us();
		vkGetFenceStatus(dev, fence);
		t[i] = now_us() - a;
	}
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += t[i];
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("venus-null-call: n=%d min=%.1fus median=%.1fus p99=%.1fus mean=%.1fus\n", n,
	       t[0], t[n / 2], t[n * 99 / 100], sum / n);
	free(t);
	vkDestroyFence(dev, fence, NULL);
	vkDestroyDevice(dev, NULL);
	vkDestroyInstance(inst, NULL);
	return 0;
}
