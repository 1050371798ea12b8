/*
 * Command execution: split a stream into commands, decode each through the
 * generated tables, run it (generic call through the owning instance's or
 * device's function table, or a hand-written handler), keep the object
 * table in step with creates and destroys, and write the reply.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "os/log.h"
#include "venus/vn_internal.h"

void vn_exec_init(struct vn_exec *x, struct venus_context *ctx, struct vn_ring *ring)
{
	memset(x, 0, sizeof(*x));
	x->ctx = ctx;
	x->ring = ring;
	for (uint32_t t = 0; t < VN_CMD_TYPE_COUNT; t++) {
		x->handlers[t] = vn_transport_handler_for(t);
		if (!x->handlers[t])
			x->handlers[t] = vn_handler_for(t);
	}
	vn_arena_init(&x->arena, VN_ARENA_LIMIT);
	os_spin_init(&x->seqno_spin, vn_spin_ns(ctx->r, VN_SPIN_SEQNO));
	/* Not with command dumps: those want each command's call made
	 * before the next is decoded. */
	if (ring && ctx->r->pipeline && !ctx->r->dump_dir)
		x->pipe = vn_pipe_create(ctx->id);
}

void vn_exec_fini(struct vn_exec *x)
{
	if (x->reply.res)
		vn_resource_put(x->ctx, x->reply.res);
	x->reply.res = NULL;
	vn_pipe_destroy(x->pipe);
	x->pipe = NULL;
	vn_arena_fini(&x->arena);
}

/* Walks up the parent chain to the first object of the given type. */
struct vn_object *vn_owner(struct vn_object *o, uint32_t type)
{
	while (o && o->type != type)
		o = o->parent;
	return o;
}

struct vn_physical_device_data *vn_physical_device_data_of(struct vn_exec *x, VkPhysicalDevice pd)
{
	struct vn_object *o = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkPhysicalDevice,
						   (uint64_t)(uintptr_t)pd);
	return o ? o->data : NULL;
}

struct vn_physical_device_data *vn_physical_device_data_of_device(struct vn_exec *x, VkDevice dev)
{
	struct vn_object *o = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkDevice,
						   (uint64_t)(uintptr_t)dev);
	struct vn_device_data *dd = o ? o->data : NULL;
	return dd && dd->physical_device ? dd->physical_device->data : NULL;
}

static const void *fns_for(struct vn_object *first, uint8_t level)
{
	if (level == VN_LEVEL_INSTANCE) {
		struct vn_object *inst = vn_owner(first, VN_OBJ_VkInstance);
		return inst && inst->data ? &((struct vn_instance_data *)inst->data)->fns : NULL;
	}
	struct vn_object *dev = vn_owner(first, VN_OBJ_VkDevice);
	return dev && dev->data ? &((struct vn_device_data *)dev->data)->fns : NULL;
}

static uint64_t handle_param(const struct vn_cmd_desc *c, const void *args, unsigned i)
{
	uint64_t h;
	memcpy(&h, (const char *)args + c->params[i].offset, 8);
	return h;
}

static struct vn_object *find_parent(struct venus_context *ctx,
				     const struct vn_cmd_desc *c, const void *args,
				     uint32_t created_type)
{
	uint32_t ptype = vn_object_type_parent[created_type];
	uint64_t h = 0;
	if (c->parent_kind == VN_PARENT_PARAM) {
		h = handle_param(c, args, c->parent_param);
	} else if (c->parent_kind == VN_PARENT_MEMBER) {
		const char *p;
		memcpy(&p, (const char *)args + c->params[c->parent_param].offset, sizeof(p));
		if (p)
			memcpy(&h, p + c->parent_offset, 8);
	}
	if (!h || !ptype)
		return NULL;
	return vn_objects_of_handle(&ctx->objs, ptype, h);
}

static void track_lifetime(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			   struct vn_decoder *d)
{
	struct venus_context *ctx = x->ctx;
	const struct vn_field *f = &c->params[c->life_param];
	if (c->life == VN_LIFE_CREATE) {
		if (c->ret == VN_RET_RESULT && *(VkResult *)((char *)args + c->ret_offset) < 0)
			return;
		void *p;
		memcpy(&p, (char *)args + f->offset, sizeof(p));
		if (!p)
			return;
		uint64_t n = f->shape == VN_S_PTR ? 1 : vn_field_count(c->params, f, args);
		uint64_t *handles = p, *ids = vn_out_ids(p, n);
		struct vn_object *parent = find_parent(ctx, c, args, f->type);
		for (uint64_t i = 0; i < n; i++) {
			if (!handles[i])
				continue;
			if (!vn_objects_add(&ctx->objs, ids[i], f->type, handles[i], parent))
				vn_decoder_fail(d, "%s: object id %llu is 0 or already in use",
						f->name, (unsigned long long)ids[i]);
		}
	} else if (c->life == VN_LIFE_DESTROY) {
		uint64_t n = 1;
		const uint64_t *handles;
		uint64_t one;
		if (f->shape == VN_S_ARRAY) {
			memcpy(&handles, (char *)args + f->offset, sizeof(handles));
			n = handles ? vn_field_count(c->params, f, args) : 0;
		} else {
			memcpy(&one, (char *)args + f->offset, 8);
			handles = &one;
		}
		for (uint64_t i = 0; i < n; i++) {
			if (!handles[i])
				continue;
			struct vn_object *o = vn_objects_of_handle(&ctx->objs, f->type, handles[i]);
			if (o)
				vn_objects_remove(&ctx->objs, o);
		}
	}
}

/* The function table for a command's first (dispatchable) handle; NULL,
 * with the decoder failed, when there is none. */
static const void *dispatch_fns(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
				struct vn_decoder *d, struct vn_object **first_out)
{
	if (!c->call || !c->nparams) {
		vn_decoder_fail(d, "no host implementation");
		return NULL;
	}
	uint64_t h0 = handle_param(c, args, 0);
	struct vn_object *first = d->first_obj;
	if (!first || first->type != c->params[0].type || first->handle != h0)
		first = vn_objects_of_handle(&x->ctx->objs, c->params[0].type, h0);
	const void *fns = NULL;
	if (first && c->level == VN_LEVEL_DEVICE) {
		fns = __atomic_load_n(&first->dev_fns, __ATOMIC_RELAXED);
		if (!fns) {
			fns = fns_for(first, VN_LEVEL_DEVICE);
			__atomic_store_n(&first->dev_fns, fns, __ATOMIC_RELAXED);
		}
	} else if (first) {
		fns = fns_for(first, c->level);
	}
	if (!fns)
		vn_decoder_fail(d, "dispatchable handle %s is NULL or orphaned",
				c->params[0].name);
	*first_out = first;
	return fns;
}

void vn_dispatch_generic(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			 struct vn_decoder *d)
{
	struct vn_object *first;
	const void *fns = dispatch_fns(x, c, args, d, &first);
	if (!fns)
		return;
	if (first->type == VN_OBJ_VkQueue && first->data) {
		struct vn_queue_data *q = first->data;
		uint64_t t0 = vn_trace_now(&x->ctx->trace);
		pthread_mutex_lock(&q->lock);
		c->call(fns, args);
		x->last_queue_gen = ++q->gen;
		pthread_mutex_unlock(&q->lock);
		/* What ends a run of chained fences (vn_fence.c). */
		pv_debug("venus: ctx %u: %s on queue %p: its call %llu", x->ctx->id, c->name,
			 (void *)(uintptr_t)first->handle, (unsigned long long)x->last_queue_gen);
		vn_trace_since(&x->ctx->trace, VN_TRACE_QUEUE_CALL, t0);
		if (x->ctx->cb.event)
			x->ctx->cb.event(x->ctx->cb.opaque, VENUS_EVENT_QUEUE_CALL, 0);
	} else {
		c->call(fns, args);
	}
	if (c->life != VN_LIFE_NONE)
		track_lifetime(x, c, args, d);
}

static bool write_reply(struct vn_exec *x, uint32_t type, const struct vn_cmd_desc *c,
			const void *args, struct vn_decoder *d)
{
	struct vn_reply_stream *rs = &x->reply;
	if (!rs->res || !rs->res->map) {
		vn_decoder_fail(d, "reply requested but no reply stream is set");
		return false;
	}
	struct vn_encoder e = {
		.data = rs->res->map + rs->offset,
		.size = rs->size,
		.pos = rs->pos,
		.objs = &x->ctx->objs,
	};
	vn_encode_reply(&e, type, c, args);
	if (e.overflow) {
		vn_decoder_fail(d, "reply does not fit the reply stream (at %zu of %zu)",
				rs->pos, rs->size);
		return false;
	}
	rs->pos = e.pos;
	return true;
}

static void dump_command(struct venus_renderer *r, const char *name,
			 const uint8_t *p, size_t n)
{
	unsigned seq = atomic_fetch_add(&r->dump_seq, 1);
	if (seq >= 100000)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/%05u-%s.bin", r->dump_dir, seq, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, p, n) < 0)
		pv_debug("venus: dump %s: short write", path);
	close(fd);
}

/* Recording commands the replay helper may run: a command buffer first,
 * no reply, no object created or destroyed, no hand-written handler. */
static bool pipelinable(const struct vn_cmd_desc *c, uint32_t flags, vn_handler_fn h)
{
	return !h && c->call && c->level == VN_LEVEL_DEVICE && c->nparams &&
	       c->params[0].type == VN_OBJ_VkCommandBuffer && c->life == VN_LIFE_NONE &&
	       !(flags & VN_COMMAND_GENERATE_REPLY);
}

/* Batches smaller than this replay inline: a few commands are not worth
 * waking the helper for. */
#define VN_PIPE_MIN_BATCH 4096u
/* Queued commands keep their arguments in the arena: past this much, wait
 * for the helper and start the arena over. Each such wait empties the
 * pipeline, so it is rare: a 2,000-command batch's arguments take
 * ~200 KiB. */
#define VN_PIPE_ARENA_MAX (1u << 20)

/* Commands that can block their thread: on the GPU (fence, semaphore,
 * idle and query waits, a device's teardown waiting out its fences), on
 * another ring or on the virtqueue (whose thread may be the one asking:
 * vn_ring_wait_done says whether such a wait is over already), or on
 * anything (nested command streams, a ring's teardown). */
static bool may_block(uint32_t type)
{
	switch (type) {
	case VN_CMD_vkDestroyInstance:
	case VN_CMD_vkDestroyDevice:
	case VN_CMD_vkQueueWaitIdle:
	case VN_CMD_vkDeviceWaitIdle:
	case VN_CMD_vkWaitForFences:
	case VN_CMD_vkGetQueryPoolResults:
	case VN_CMD_vkWaitSemaphores:
	case VN_CMD_vkExecuteCommandStreamsMESA:
	case VN_CMD_vkDestroyRingMESA:
	case VN_CMD_vkWaitSemaphoreResourceMESA:
	case VN_CMD_vkWaitVirtqueueSeqnoMESA:
	case VN_CMD_vkWaitRingSeqnoMESA:
		return true;
	default:
		return false;
	}
}

bool vn_exec_stream(struct vn_exec *x, const uint8_t *data, size_t size)
{
	struct venus_context *ctx = x->ctx;
	struct vn_decoder d;
	vn_decoder_init(&d, data, size, &x->arena, &ctx->objs);
	d.cache = &x->cache;
	const bool debug = pv_log_enabled(PV_LOG_DEBUG);
	struct vn_pipe *p = x->borrowed ? NULL : x->pipe;
	if (p && (size < VN_PIPE_MIN_BATCH || !vn_pipe_begin(p)))
		p = NULL;
	x->done = 0;
	while (d.pos < size) {
		if (atomic_load(&ctx->lost))
			goto lost;
		size_t start = d.pos;
		uint32_t type, flags;
		d.cmd_name = "command header";
		if (!vn_read_u32(&d, &type) || !vn_read_u32(&d, &flags))
			goto fatal;
		const struct vn_cmd_desc *c = type < VN_CMD_TYPE_COUNT ? vn_cmd_table[type] : NULL;
		if (!c) {
			vn_decoder_fail(&d, "unknown command type %u", type);
			goto fatal;
		}
		const bool seqno_wait = type == VN_CMD_vkWaitVirtqueueSeqnoMESA ||
					type == VN_CMD_vkWaitRingSeqnoMESA;
		if (x->borrowed && may_block(type) && !seqno_wait) {
			d.pos = start; /* the ring's own thread takes it from here */
			break;
		}
		if (debug)
			pv_debug("venus: ctx %u %s: %s%s", ctx->id, x->ring ? "ring" : "vq", c->name,
				 (flags & VN_COMMAND_GENERATE_REPLY) ? " (reply)" : "");
		uint64_t t0 = vn_trace_now(&ctx->trace);
		if (p && !vn_pipe_idle(p) && x->arena.used > VN_PIPE_ARENA_MAX)
			vn_pipe_drain(p);
		if (!p || vn_pipe_idle(p))
			vn_arena_reset(&x->arena);
		void *args = vn_arena_alloc(&x->arena, c->args_size);
		if (!args) {
			vn_decoder_fail(&d, "out of memory");
			goto fatal;
		}
		if (!vn_decode_cmd(&d, type, c, args))
			goto fatal;
		/* Mesa orders a ring after the virtqueue with these, and the
		 * seqno is usually in by the time the notify comes. */
		if (x->borrowed && seqno_wait && !vn_ring_wait_done(x, type, args)) {
			d.pos = start;
			break;
		}
		vn_handler_fn h = x->handlers[type];
		if (p && pipelinable(c, flags, h) && vn_pipe_ready(p)) {
			struct vn_object *first;
			const void *fns = dispatch_fns(x, c, args, &d, &first);
			if (!fns)
				goto fatal;
			vn_pipe_push(p, c->call, fns, args);
			vn_trace_cmd(&ctx->trace, type, c->name, t0);
			continue;
		}
		/* Everything queued first: this command may use what they
		 * recorded, or end the objects they name. */
		if (p)
			vn_pipe_drain(p);
		if (h)
			h(x, c, args, &d);
		else if (c->level == VN_LEVEL_GLOBAL)
			vn_decoder_fail(&d, "no host implementation");
		else
			vn_dispatch_generic(x, c, args, &d);
		if (ctx->r->dump_dir)
			dump_command(ctx->r, c->name, data + start, d.pos - start);
		if (d.fatal)
			goto fatal;
		/* A lost device never runs the guest's work again: without
		 * this its Venus driver waits forever on feedback memory and
		 * fences that nothing will signal (docs/PERFORMANCE.md, run
		 * 29). A fatal ring makes it give up with an error instead;
		 * this command's own result still goes back. */
		if (c->ret == VN_RET_RESULT &&
		    *(const VkResult *)((const char *)args + c->ret_offset) == VK_ERROR_DEVICE_LOST)
			vn_context_device_lost(ctx, c->name);
		if ((flags & VN_COMMAND_GENERATE_REPLY) && !write_reply(x, type, c, args, &d))
			goto fatal;
		vn_trace_cmd(&ctx->trace, type, c->name, t0);
		if (x->ring && !x->in_streams) {
			atomic_store(x->ring->head, x->ring->cur + (uint32_t)d.pos);
			vn_ring_head_published(x->ring);
		}
		(void)start;
		continue;
fatal:
		vn_context_set_lost(ctx, "%s: %s (command at offset %zu)",
				    d.cmd_name ? d.cmd_name : "?", d.why, start);
		goto lost;
	}
	if (p)
		vn_pipe_end(p);
	vn_arena_reset(&x->arena);
	x->done = d.pos;
	return true;
lost:
	/* The queued calls still point into the arena and the stream. */
	if (p)
		vn_pipe_end(p);
	return false;
}
