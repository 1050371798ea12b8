/*
 * vn-micro: per-call latency of the paths that bound Venus throughput on
 * small-kernel work (llama.cpp token generation): a synchronous round trip,
 * an empty submit + fence wait, and the first call after the server's ring
 * thread has gone idle. Run it natively for the floor, then through Mesa's
 * Venus ICD (vtest) against each server; the difference is transport cost.
 *
 *   vn-micro [null|event|submit|wake|record|all|floor] [-n ITERS] [-d DEVICE_INDEX]
 *
 * "floor" needs no GPU: it is this host's own cost of a guest round trip,
 * the bound under every synchronous Venus call whatever the server does. A
 * child process answers 4-byte requests over a socketpair (a vtest socket's
 * kind) while the parent blocks in read(), as Mesa's vtest client does;
 * "floor_polling_replier" has the child poll the socket without sleeping
 * (our vtest thread's adaptive polling at its best), "floor_sleeping_replier"
 * has it sleep in read() too. It is not part of "all".
 *
 * "record" times recording a command buffer of RECORD_GROUPS groups of
 * small commands (push constants, descriptor set bind, barrier, 16-byte
 * fill: the shape of a ggml graph, minus the dispatch, which would need a
 * shader) plus its submit and wait. Through Venus the recording is encoded
 * by the guest and replayed by the server, so this is the server's replay
 * throughput; its result is per group (4 commands).
 *
 * "null" (vkGetFenceStatus) and "event" (vkGetEventStatus) are only round
 * trips when the guest driver cannot answer from a feedback buffer: run with
 * VN_PERF=no_fence_feedback,no_event_feedback for Venus (see venus.md §5).
 * Mesa 26 answers vkGetFenceStatus in the guest even then, so "event" is
 * the round trip to read there. A median under 1 us gets a NOTE line: no
 * transport is that fast, the driver answered locally.
 * Output: one line per test, "RESULT <test> median_us=.. p99_us=.. mean_us=..
 * min_us=.. max_us=.. n=..", plus the device name.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vulkan/vulkan.h>

#define CHECK_VK(expr)                                                        \
	do {                                                                  \
		VkResult r_ = (expr);                                         \
		if (r_ != VK_SUCCESS) {                                       \
			fprintf(stderr, "vn-micro: %s failed: %d\n", #expr, r_); \
			exit(1);                                              \
		}                                                             \
	} while (0)

#define RECORD_GROUPS 512

struct gpu {
	VkInstance inst;
	VkPhysicalDevice pd;
	VkDevice dev;
	VkQueue queue;
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkFence fence;
	VkEvent event;
	/* for "record" */
	VkCommandBuffer rec;
	VkBuffer buf;
	VkDeviceMemory mem;
	VkDescriptorSetLayout dsl;
	VkPipelineLayout layout;
	VkDescriptorPool dpool;
	VkDescriptorSet set;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *name, double *t, int n)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += t[i];
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	int p99 = (int)((double)n * 0.99);
	if (p99 >= n)
		p99 = n - 1;
	printf("RESULT %s median_us=%.2f p99_us=%.2f mean_us=%.2f min_us=%.2f max_us=%.2f n=%d\n",
	       name, t[n / 2], t[p99], sum / n, t[0], t[n - 1], n);
	if (t[n / 2] < 1.0 && strstr(name, "null_sync_call"))
		printf("NOTE %s: median under 1 us, answered without a round trip\n", name);
	fflush(stdout);
}

static void gpu_init(struct gpu *g, uint32_t want_index)
{
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "vn-micro",
		.apiVersion = VK_API_VERSION_1_2,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	CHECK_VK(vkCreateInstance(&ici, NULL, &g->inst));

	uint32_t n = 0;
	CHECK_VK(vkEnumeratePhysicalDevices(g->inst, &n, NULL));
	if (n == 0 || want_index >= n) {
		fprintf(stderr, "vn-micro: device %u of %u not present\n", want_index, n);
		exit(1);
	}
	VkPhysicalDevice pds[16];
	if (n > 16)
		n = 16;
	CHECK_VK(vkEnumeratePhysicalDevices(g->inst, &n, pds));
	g->pd = pds[want_index];
	VkPhysicalDeviceProperties props;
	vkGetPhysicalDeviceProperties(g->pd, &props);
	printf("DEVICE %s (api %u.%u.%u, driver 0x%x)\n", props.deviceName,
	       VK_API_VERSION_MAJOR(props.apiVersion), VK_API_VERSION_MINOR(props.apiVersion),
	       VK_API_VERSION_PATCH(props.apiVersion), props.driverVersion);

	uint32_t nq = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(g->pd, &nq, NULL);
	VkQueueFamilyProperties qf[32];
	if (nq > 32)
		nq = 32;
	vkGetPhysicalDeviceQueueFamilyProperties(g->pd, &nq, qf);
	uint32_t family = UINT32_MAX;
	for (uint32_t i = 0; i < nq && family == UINT32_MAX; i++)
		if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
			family = i;
	if (family == UINT32_MAX) {
		fprintf(stderr, "vn-micro: no compute queue\n");
		exit(1);
	}

	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = family,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
	};
	CHECK_VK(vkCreateDevice(g->pd, &dci, NULL, &g->dev));
	vkGetDeviceQueue(g->dev, family, 0, &g->queue);

	VkCommandPoolCreateInfo cpci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.queueFamilyIndex = family,
	};
	CHECK_VK(vkCreateCommandPool(g->dev, &cpci, NULL, &g->pool));
	VkCommandBufferAllocateInfo cbai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = g->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	CHECK_VK(vkAllocateCommandBuffers(g->dev, &cbai, &g->cmd));
	/* Recorded once and resubmitted: the submit test measures the
	 * submission path, not recording. */
	VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
	CHECK_VK(vkBeginCommandBuffer(g->cmd, &bi));
	CHECK_VK(vkEndCommandBuffer(g->cmd));

	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	CHECK_VK(vkCreateFence(g->dev, &fci, NULL, &g->fence));
	VkEventCreateInfo eci = { .sType = VK_STRUCTURE_TYPE_EVENT_CREATE_INFO };
	CHECK_VK(vkCreateEvent(g->dev, &eci, NULL, &g->event));
}

static void record_init(struct gpu *g)
{
	VkCommandBufferAllocateInfo cbai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = g->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	CHECK_VK(vkAllocateCommandBuffers(g->dev, &cbai, &g->rec));
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = 65536,
		.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
	};
	CHECK_VK(vkCreateBuffer(g->dev, &bci, NULL, &g->buf));
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(g->dev, g->buf, &req);
	VkPhysicalDeviceMemoryProperties mp;
	vkGetPhysicalDeviceMemoryProperties(g->pd, &mp);
	uint32_t type = 0;
	while (type < mp.memoryTypeCount && !(req.memoryTypeBits & (1u << type)))
		type++;
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req.size,
		.memoryTypeIndex = type,
	};
	CHECK_VK(vkAllocateMemory(g->dev, &mai, NULL, &g->mem));
	CHECK_VK(vkBindBufferMemory(g->dev, g->buf, g->mem, 0));
	VkDescriptorSetLayoutBinding b = {
		.binding = 0,
		.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
		.descriptorCount = 1,
		.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
	};
	VkDescriptorSetLayoutCreateInfo dslci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = 1,
		.pBindings = &b,
	};
	CHECK_VK(vkCreateDescriptorSetLayout(g->dev, &dslci, NULL, &g->dsl));
	VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 16 };
	VkPipelineLayoutCreateInfo plci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1,
		.pSetLayouts = &g->dsl,
		.pushConstantRangeCount = 1,
		.pPushConstantRanges = &pcr,
	};
	CHECK_VK(vkCreatePipelineLayout(g->dev, &plci, NULL, &g->layout));
	VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 };
	VkDescriptorPoolCreateInfo dpci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = 1,
		.poolSizeCount = 1,
		.pPoolSizes = &ps,
	};
	CHECK_VK(vkCreateDescriptorPool(g->dev, &dpci, NULL, &g->dpool));
	VkDescriptorSetAllocateInfo dsai = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
		.descriptorPool = g->dpool,
		.descriptorSetCount = 1,
		.pSetLayouts = &g->dsl,
	};
	CHECK_VK(vkAllocateDescriptorSets(g->dev, &dsai, &g->set));
	VkDescriptorBufferInfo dbi = { g->buf, 0, VK_WHOLE_SIZE };
	VkWriteDescriptorSet w = {
		.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
		.dstSet = g->set,
		.descriptorCount = 1,
		.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
		.pBufferInfo = &dbi,
	};
	vkUpdateDescriptorSets(g->dev, 1, &w, 0, NULL);
}

/* Records, submits and waits for one command buffer of RECORD_GROUPS
 * groups; returns us per group. */
static double one_record(struct gpu *g)
{
	double t0 = now_us();
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	CHECK_VK(vkBeginCommandBuffer(g->rec, &bi));
	uint32_t pc[4] = { 1, 2, 3, 4 };
	VkMemoryBarrier mb = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
	};
	for (uint32_t i = 0; i < RECORD_GROUPS; i++) {
		pc[0] = i;
		vkCmdPushConstants(g->rec, g->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 16, pc);
		vkCmdBindDescriptorSets(g->rec, VK_PIPELINE_BIND_POINT_COMPUTE, g->layout, 0, 1,
					&g->set, 0, NULL);
		vkCmdPipelineBarrier(g->rec, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
						     VK_PIPELINE_STAGE_TRANSFER_BIT,
				     VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
				     0, 1, &mb, 0, NULL, 0, NULL);
		vkCmdFillBuffer(g->rec, g->buf, (i % 4096) * 16, 16, i);
	}
	CHECK_VK(vkEndCommandBuffer(g->rec));
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &g->rec,
	};
	CHECK_VK(vkQueueSubmit(g->queue, 1, &si, g->fence));
	CHECK_VK(vkWaitForFences(g->dev, 1, &g->fence, VK_TRUE, 5000000000ull));
	double t1 = now_us();
	CHECK_VK(vkResetFences(g->dev, 1, &g->fence));
	return (t1 - t0) / RECORD_GROUPS;
}

static void test_record(struct gpu *g, int iters)
{
	record_init(g);
	double *t = calloc((size_t)iters, sizeof(*t));
	for (int i = 0; i < 20; i++)
		one_record(g);
	for (int i = 0; i < iters; i++)
		t[i] = one_record(g);
	report("record_submit_wait_per_4_cmds", t, iters);
	free(t);
}

static void gpu_fini(struct gpu *g)
{
	if (g->rec) {
		vkDestroyDescriptorPool(g->dev, g->dpool, NULL);
		vkDestroyPipelineLayout(g->dev, g->layout, NULL);
		vkDestroyDescriptorSetLayout(g->dev, g->dsl, NULL);
		vkDestroyBuffer(g->dev, g->buf, NULL);
		vkFreeMemory(g->dev, g->mem, NULL);
	}
	vkDestroyEvent(g->dev, g->event, NULL);
	vkDestroyFence(g->dev, g->fence, NULL);
	vkDestroyCommandPool(g->dev, g->pool, NULL);
	vkDestroyDevice(g->dev, NULL);
	vkDestroyInstance(g->inst, NULL);
}

/* One status query: the fence is never submitted and the event never set,
 * so every call must report NOT_READY / EVENT_RESET. */
static double one_status(struct gpu *g, bool event)
{
	double t0 = now_us();
	VkResult r = event ? vkGetEventStatus(g->dev, g->event) : vkGetFenceStatus(g->dev, g->fence);
	double t1 = now_us();
	VkResult want = event ? VK_EVENT_RESET : VK_NOT_READY;
	if (r != want) {
		fprintf(stderr, "vn-micro: %s returned %d, want %d\n",
			event ? "vkGetEventStatus" : "vkGetFenceStatus", r, want);
		exit(1);
	}
	return t1 - t0;
}

static double one_submit(struct gpu *g)
{
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &g->cmd,
	};
	double t0 = now_us();
	CHECK_VK(vkQueueSubmit(g->queue, 1, &si, g->fence));
	CHECK_VK(vkWaitForFences(g->dev, 1, &g->fence, VK_TRUE, 5000000000ull));
	double t1 = now_us();
	CHECK_VK(vkResetFences(g->dev, 1, &g->fence));
	return t1 - t0;
}

static void test_status(struct gpu *g, int iters, const char *name, bool event)
{
	double *t = calloc((size_t)iters, sizeof(*t));
	for (int i = 0; i < 200; i++)
		one_status(g, event);
	for (int i = 0; i < iters; i++)
		t[i] = one_status(g, event);
	report(name, t, iters);
	free(t);
}

static void test_submit(struct gpu *g, int iters)
{
	double *t = calloc((size_t)iters, sizeof(*t));
	for (int i = 0; i < 50; i++)
		one_submit(g);
	for (int i = 0; i < iters; i++)
		t[i] = one_submit(g);
	report("submit_wait_empty", t, iters);
	free(t);
}

/* Idle 2 ms (past Mesa's 1 ms ring idle timeout, so the server ring thread
 * parks) before each measured call. */
static void test_wake(struct gpu *g, int iters)
{
	double *ts = calloc((size_t)iters, sizeof(*ts));
	double *tw = calloc((size_t)iters, sizeof(*tw));
	one_status(g, false);
	one_submit(g);
	for (int i = 0; i < iters; i++) {
		sleep_us(2000);
		ts[i] = one_status(g, false);
		sleep_us(2000);
		tw[i] = one_submit(g);
	}
	report("wake_sync_call_after_2ms_idle", ts, iters);
	report("wake_submit_wait_after_2ms_idle", tw, iters);
	free(ts);
	free(tw);
}

/* The replier: echo each 4-byte request until the parent closes its end. */
static void floor_replier(int fd, bool poll_socket)
{
	for (;;) {
		uint32_t v;
		ssize_t n = recv(fd, &v, sizeof(v), poll_socket ? MSG_DONTWAIT : 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n != (ssize_t)sizeof(v))
			_exit(0);
		if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			_exit(1);
	}
}

static int test_floor(int iters, const char *name, bool poll_socket)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		perror("vn-micro: socketpair");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("vn-micro: fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		floor_replier(sv[1], poll_socket);
	}
	close(sv[1]);
	double *t = calloc((size_t)iters, sizeof(*t));
	int rc = t ? 0 : 1;
	/* A few hundred unmeasured trips first, so both sides are running. */
	for (int i = -500; i < iters && !rc; i++) {
		uint32_t v = (uint32_t)i, back = 0;
		double t0 = now_us();
		if (write(sv[0], &v, sizeof(v)) != (ssize_t)sizeof(v) ||
		    read(sv[0], &back, sizeof(back)) != (ssize_t)sizeof(back) || back != v) {
			fprintf(stderr, "vn-micro: %s: the replier broke off\n", name);
			rc = 1;
		} else if (i >= 0) {
			t[i] = now_us() - t0;
		}
	}
	close(sv[0]);
	if (rc)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (!rc)
		report(name, t, iters);
	free(t);
	return rc;
}

int main(int argc, char **argv)
{
	const char *which = "all";
	int iters = 2000;
	unsigned dev_index = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			iters = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-d") && i + 1 < argc)
			dev_index = (unsigned)atoi(argv[++i]);
		else if (argv[i][0] != '-')
			which = argv[i];
		else {
			fprintf(stderr, "usage: vn-micro [null|event|submit|wake|record|all|floor] [-n ITERS] [-d DEVICE_INDEX]\n");
			return 2;
		}
	}
	if (iters < 10 || iters > 10000000) {
		fprintf(stderr, "vn-micro: -n must be 10..10000000\n");
		return 2;
	}

	if (!strcmp(which, "floor"))
		return test_floor(iters, "floor_polling_replier", true) ||
		       test_floor(iters, "floor_sleeping_replier", false);

	struct gpu g;
	memset(&g, 0, sizeof(g));
	gpu_init(&g, dev_index);
	bool all = !strcmp(which, "all");
	if (all || !strcmp(which, "null"))
		test_status(&g, iters, "null_sync_call", false);
	if (all || !strcmp(which, "event"))
		test_status(&g, iters, "null_sync_call_event", true);
	if (all || !strcmp(which, "submit"))
		test_submit(&g, iters);
	if (all || !strcmp(which, "wake"))
		test_wake(&g, iters / 10 < 50 ? 50 : iters / 10);
	if (all || !strcmp(which, "record"))
		test_record(&g, iters / 10 < 50 ? 50 : iters / 10);
	gpu_fini(&g);
	return 0;
}
