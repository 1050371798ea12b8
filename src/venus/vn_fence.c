/*
 * Fence timelines: ring_idx N > 0 follows the VkQueue that the guest bound
 * to it with VkDeviceQueueTimelineInfoMESA. A fence on it is an empty
 * vkQueueSubmit with a VkFence, made under the queue's lock so it orders
 * after everything submitted before; one thread per context waits for the
 * fences in order and reports retirement. Unbound timelines (and ring_idx
 * 0, the CPU timeline) retire at once.
 */
#include <errno.h>
#include <stdlib.h>

#include "os/log.h"
#include "venus/vn_internal.h"

void vn_timeline_bind(struct venus_context *ctx, uint32_t ring_idx, struct vn_object *queue)
{
	pthread_mutex_lock(&ctx->fence_lock);
	ctx->timelines[ring_idx] = queue;
	struct vn_queue_data *q = queue->data;
	q->ring_idx = (int)ring_idx;
	pthread_mutex_unlock(&ctx->fence_lock);
}

void vn_timeline_unbind_queue(struct venus_context *ctx, struct vn_object *queue)
{
	pthread_mutex_lock(&ctx->fence_lock);
	for (int i = 0; i < VN_MAX_TIMELINES; i++)
		if (ctx->timelines[i] == queue)
			ctx->timelines[i] = NULL;
	pthread_mutex_unlock(&ctx->fence_lock);
}

static void retire(struct venus_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
	if (ctx->cb.fence_retired)
		ctx->cb.fence_retired(ctx->cb.opaque, ring_idx, fence_id);
}

static void *fence_thread(void *arg)
{
	struct venus_context *ctx = arg;
	pthread_setname_np(pthread_self(), "vn-fence");
	pthread_mutex_lock(&ctx->fence_lock);
	for (;;) {
		while (!ctx->fence_head && !ctx->fence_stop)
			pthread_cond_wait(&ctx->fence_cond, &ctx->fence_lock);
		if (!ctx->fence_head)
			break;
		struct vn_fence_req *req = ctx->fence_head;
		pthread_mutex_unlock(&ctx->fence_lock);
		if (req->fence) {
			/* Bounded waits so a stop request is noticed. */
			VkResult res;
			do {
				res = req->fns->WaitForFences(req->device, 1, &req->fence, VK_TRUE,
							      100000000ull);
			} while (res == VK_TIMEOUT && !__atomic_load_n(&ctx->fence_stop, __ATOMIC_ACQUIRE));
			req->fns->DestroyFence(req->device, req->fence, NULL);
		}
		pthread_mutex_lock(&ctx->fence_lock);
		ctx->fence_head = req->next;
		if (!ctx->fence_head)
			ctx->fence_tail = &ctx->fence_head;
		pthread_mutex_unlock(&ctx->fence_lock);
		retire(ctx, req->ring_idx, req->fence_id);
		free(req);
		pthread_mutex_lock(&ctx->fence_lock);
	}
	pthread_mutex_unlock(&ctx->fence_lock);
	return NULL;
}

int vn_fences_start(struct venus_context *ctx)
{
	ctx->fence_head = NULL;
	ctx->fence_tail = &ctx->fence_head;
	if (pthread_create(&ctx->fence_thread, NULL, fence_thread, ctx))
		return -EAGAIN;
	ctx->fence_started = true;
	return 0;
}

void vn_fences_stop(struct venus_context *ctx)
{
	if (!ctx->fence_started)
		return;
	pthread_mutex_lock(&ctx->fence_lock);
	__atomic_store_n(&ctx->fence_stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&ctx->fence_cond);
	pthread_mutex_unlock(&ctx->fence_lock);
	pthread_join(ctx->fence_thread, NULL);
	ctx->fence_started = false;
	/* Whatever is left never reached the thread: report it retired so
	 * the client does not wait forever on a dead context. */
	struct vn_fence_req *req = ctx->fence_head;
	ctx->fence_head = NULL;
	ctx->fence_tail = &ctx->fence_head;
	while (req) {
		struct vn_fence_req *next = req->next;
		if (req->fence)
			req->fns->DestroyFence(req->device, req->fence, NULL);
		free(req);
		req = next;
	}
}

int vn_fence_submit(struct venus_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
	if (ring_idx >= VN_MAX_TIMELINES)
		return -EINVAL;
	struct vn_fence_req *req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->ring_idx = ring_idx;
	req->fence_id = fence_id;
	/* The queue is looked up and used under fence_lock so it cannot be
	 * destroyed (and unbound) in between. */
	pthread_mutex_lock(&ctx->fence_lock);
	struct vn_object *qo = ring_idx ? ctx->timelines[ring_idx] : NULL;
	if (qo && !atomic_load(&ctx->lost)) {
		struct vn_queue_data *q = qo->data;
		struct vn_object *dev = vn_owner(qo, VN_OBJ_VkDevice);
		struct vn_device_data *dd = dev ? dev->data : NULL;
		if (dd) {
			VkDevice device = (VkDevice)(uintptr_t)dev->handle;
			VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
			VkFence fence = VK_NULL_HANDLE;
			if (dd->fns.CreateFence(device, &fci, NULL, &fence) == VK_SUCCESS) {
				pthread_mutex_lock(&q->lock);
				VkResult res = dd->fns.QueueSubmit((VkQueue)(uintptr_t)qo->handle, 0,
								   NULL, fence);
				pthread_mutex_unlock(&q->lock);
				if (res == VK_SUCCESS) {
					req->fence = fence;
					req->device = device;
					req->fns = &dd->fns;
				} else {
					dd->fns.DestroyFence(device, fence, NULL);
				}
			}
		}
	}
	if (!req->fence && !ctx->fence_head) {
		/* Nothing to wait for and nothing queued ahead: retire now. */
		pthread_mutex_unlock(&ctx->fence_lock);
		free(req);
		retire(ctx, ring_idx, fence_id);
		return 0;
	}
	*ctx->fence_tail = req;
	ctx->fence_tail = &req->next;
	pthread_cond_broadcast(&ctx->fence_cond);
	pthread_mutex_unlock(&ctx->fence_lock);
	return 0;
}
