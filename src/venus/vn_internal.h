/*
 * Renderer internals shared by the src/venus files: the renderer and
 * context objects, the per-thread command executor, rings, blob resources,
 * and the per-type data hung off object-table entries.
 */
#ifndef PV_VENUS_VN_INTERNAL_H
#define PV_VENUS_VN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "os/os_spin.h"
#include "venus/venus.h"
#include "venus/vn_codec.h"
#include "venus/vn_objects.h"
#include "venus/vn_trace.h"

#define VN_CAPSET_SIZE 160
/* Per-command decode memory; generous for pipeline creation, bounded
 * against hostile counts. */
#define VN_ARENA_LIMIT (64u << 20)
#define VN_MAX_TIMELINES 64
#define VN_SPIN_MAX_US 2000u
/* Unset PEARVISOR_VENUS_SPIN_US: adaptive polling (os/os_spin.h) up to
 * this cap where the host has at least VN_SPIN_AUTO_MIN_CPUS online CPUs
 * (each active context polls with up to three threads). */
#define VN_SPIN_AUTO_US 200u
#define VN_SPIN_AUTO_MIN_CPUS 8
/* The most a vtest client thread polls for the rest of a message whose
 * start it has read: Mesa writes a message in several writes back to back
 * (SYNC_WAIT: four), and a thread that sleeps between them costs the
 * guest's next write a wake-up. Short, since the rest is microseconds
 * away unless the guest thread was preempted. */
#define VN_SPIN_REST_US 20u
/* Which threads poll (PEARVISOR_VENUS_SPIN_THREADS, a comma list). All
 * kinds by default. The vtest client threads' polling between messages
 * is a poll() system call every 2 µs (a socket has no memory to watch);
 * back to back they slowed the ring thread's replay on the H100 machine
 * (docs/PERFORMANCE.md, run 33), spaced out they bought vkmark 2-5
 * points in each of runs 35, 36 and 42 with llama inside its spread. */
enum {
	VN_SPIN_VTEST = 1u << 0,     /* vtest client threads, on their socket */
	VN_SPIN_RING = 1u << 1,      /* ring threads, between commands */
	VN_SPIN_FENCE = 1u << 2,     /* fence threads, between fences */
	VN_SPIN_FENCE_WAIT = 1u << 3, /* fence threads, on a pending host fence */
	VN_SPIN_VTEST_REST = 1u << 4, /* vtest client threads, inside a message */
	VN_SPIN_SEQNO = 1u << 5,      /* a thread waiting for a ring's seqno */
	VN_SPIN_DEFAULT = VN_SPIN_VTEST | VN_SPIN_RING | VN_SPIN_FENCE | VN_SPIN_FENCE_WAIT |
			  VN_SPIN_VTEST_REST | VN_SPIN_SEQNO,
};

enum vn_memory_mode { VN_MEMORY_EXPORT, VN_MEMORY_HOSTPTR };

struct venus_renderer {
	struct venus_renderer_options opts;
	uint32_t loader_version;
	uint8_t capset[VN_CAPSET_SIZE];
	enum vn_memory_mode memory_mode;
	bool memory_mode_forced;
	/* Which memory types accept imported host pointers, per device UUID:
	 * finding out needs a throwaway VkDevice, made once per device
	 * rather than once per client. */
	pthread_mutex_t hostptr_lock;
	struct vn_hostptr_probe {
		uint8_t uuid[VK_UUID_SIZE];
		uint32_t importable_types;
		bool used;
	} hostptr_probes[8];
	/* PEARVISOR_VENUS_DUMP: directory that receives every decoded
	 * command's bytes (fuzzing seeds, protocol debugging). */
	const char *dump_dir;
	atomic_uint dump_seq;
	bool trace; /* PEARVISOR_VENUS_TRACE=1: see vn_trace.h */
	/* PEARVISOR_VENUS_SPIN_US: the cap on how long the renderer's threads
	 * busy-poll before blocking (ring threads between commands, fence
	 * threads between fences and on a pending fence); each thread adapts
	 * its window below the cap (os/os_spin.h). Each blocking hand-off
	 * costs a wake-up, tens of µs on an idle many-core host; polling
	 * pays for that with a core, which a 2-core host cannot spare. */
	uint64_t spin_ns;
	unsigned spin_threads; /* VN_SPIN_* */
	/* Fences ride on the guest's own submits (vn_fence.c);
	 * PEARVISOR_VENUS_FENCE_ATTACH=0 turns it off. */
	bool fence_attach;
	/* A fence asked for when nothing reached its queue since the last
	 * one retires with it (vn_fence.c); PEARVISOR_VENUS_FENCE_CHAIN=0
	 * turns it off. */
	bool fence_chain;
	/* PEARVISOR_VENUS_RING_BORROW=0 turns off replaying a parked ring's
	 * batch on the thread that handles its notify (vn_transport.c). */
	bool ring_borrow;
	/* PEARVISOR_VENUS_EMULATE_DMA_BUF / _SYNC_FD: 1 on, 0 off, -1 (unset)
	 * where the host lacks the feature (vn_physical_device_probe). */
	int emulate_dma_buf;
	int emulate_sync_fd;
	bool submit_probe; /* PEARVISOR_VENUS_SUBMIT_PROBE=1: vn_queue_probe */
	/* PEARVISOR_VENUS_PIPELINE=1: ring threads hand recording calls to a
	 * helper thread (vn_pipeline.c). Off by default: on the H100 it
	 * made NVIDIA's recording slower, not faster (docs/PERFORMANCE.md). */
	bool pipeline;
	/* PEARVISOR_VENUS_FENCE_POLL_US: a virtqueue fence with nothing queued
	 * ahead is first polled on the submitting thread for this long, and
	 * retired there if it signals, saving the fence thread's wake-up
	 * (7-39 µs median on the H100). Off by default: it halved the
	 * server's share of an empty submit+wait on the H100, but a fence
	 * behind real GPU work stalls the submitting thread for the whole
	 * poll, and llama.cpp token generation showed no gain (runs 9-10 in
	 * docs/PERFORMANCE.md); on 2 cores the poll also takes the CPU the
	 * driver's own queue thread needs to signal the fence. */
	uint64_t fence_poll_ns;
};

/* A blob resource: shared memory (blob_id 0) or an exported VkDeviceMemory. */
struct vn_resource {
	struct vn_resource *next;
	uint32_t res_id;
	int fd;
	uint8_t *map; /* our mapping (shm); NULL for device memory blobs */
	size_t size;
	unsigned refs; /* users besides the table: rings, reply streams */
};

struct vn_reply_stream {
	struct vn_resource *res;
	size_t offset, size, pos;
};

/* One decoding thread's state: the context thread or a ring thread. */
struct vn_exec;
/* A hand-written handler for a command (vn_handlers.c, vn_transport.c). */
typedef void (*vn_handler_fn)(struct vn_exec *x, const struct vn_cmd_desc *c,
			      void *args, struct vn_decoder *d);

struct vn_exec {
	struct venus_context *ctx;
	/* Per command type, its handler or NULL (generic dispatch), looked
	 * up once: the replay asks for every command. */
	vn_handler_fn handlers[VN_CMD_TYPE_COUNT];
	struct vn_ring *ring; /* NULL on the context thread */
	struct vn_arena arena;
	struct vn_reply_stream reply;
	bool in_streams; /* inside vkExecuteCommandStreamsMESA */
	struct vn_lookup_cache cache; /* this thread's id lookups */
	struct vn_pipe *pipe; /* replay helper (rings only; vn_pipeline.c) */
	uint64_t last_queue_gen; /* the queue's count after this thread's last call on it */
	struct os_spin seqno_spin; /* polling in vkWaitRingSeqnoMESA */
	/* Replaying a parked ring's batch on the thread that notified it
	 * (vn_transport.c), which must not block: vn_exec_stream stops before
	 * any command that may wait. */
	bool borrowed;
	size_t done; /* bytes the last vn_exec_stream consumed */
};

struct vn_ring {
	struct vn_ring *next;
	struct venus_context *ctx;
	uint64_t id;
	struct vn_resource *res;
	_Atomic uint32_t *head, *tail, *status;
	uint8_t *buffer, *extra;
	uint32_t buffer_size, extra_size;
	uint64_t idle_timeout_ns;
	uint32_t cur; /* host-side head */
	uint8_t *scratch;
	struct vn_exec exec;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* notify, virtqueue seqno, stop */
	pthread_cond_t head_cond; /* head advanced (vkWaitRingSeqnoMESA) */
	bool stop, notified, started;
	bool parked;   /* the ring thread waits in its idle park */
	bool borrowed; /* another thread replays for it (vn_transport.c) */
	_Atomic unsigned head_waiters; /* vkWaitRingSeqnoMESA callers */
	uint64_t vq_seqno; /* latest vkSubmitVirtqueueSeqnoMESA */
	/* Logged when the ring stops: how busy replay kept its thread. */
	uint64_t batches, borrowed_batches, busy_ns, cpu_ns, t_start;
};

struct vn_fence_req {
	struct vn_fence_req *next;
	uint32_t ring_idx;
	uint64_t fence_id;
	VkFence fence; /* VK_NULL_HANDLE: retire when reached */
	bool silent;   /* only recycles an attached fence: retires nothing */
	bool claimed;  /* the timeline thread works on it: nobody else may */
	VkDevice device;
	struct vn_device_data *dd;
	uint64_t t_submit, t_queued; /* trace timestamps, 0 when off */
};

/* One fence timeline (ring_idx): its bound queue and pending fences. */
struct vn_timeline {
	struct venus_context *ctx;
	uint32_t idx;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t retired_cond; /* after each retirement (device teardown) */
	struct vn_object *queue; /* bound VkQueue, or NULL */
	struct vn_fence_req *head, **tail;
	pthread_t thread;
	bool started, stop;
	bool kicked; /* poll for work once more: vn_timelines_kick */
	uint64_t fences, cpu_ns, t_start; /* logged when it stops */
};

struct venus_context {
	struct venus_renderer *r;
	uint32_t id;
	char name[64];
	struct venus_context_callbacks cb;
	struct vn_objects objs;
	atomic_bool lost;
	atomic_bool device_lost; /* lost by vn_context_device_lost */
	pthread_mutex_t lost_lock;

	struct vn_exec exec; /* virtqueue path */

	pthread_mutex_t res_lock;
	struct vn_resource *resources;

	pthread_mutex_t ring_lock;
	struct vn_ring *rings;
	/* Ring monitor: sets the ALIVE status bit on every ring at least as
	 * often as the shortest VkRingMonitorInfoMESA period asks. */
	pthread_cond_t monitor_cond;
	pthread_t monitor_thread;
	uint32_t monitor_period_us;
	bool monitor_started, monitor_stop;

	/* ring_idx -> queue timeline binding and fence retirement. */
	struct vn_timeline tl[VN_MAX_TIMELINES];
	/* Virtqueue fences, how many rode on the guest's own submit, and how
	 * many needed no host fence at all (chained to the one before). */
	_Atomic uint64_t fences_total, fences_attached, fences_chained;
	/* external-memory requests vn_dma_buf.c took DMA_BUF out of */
	_Atomic uint64_t dma_buf_stripped;
	_Atomic uint64_t optimal_images; /* vn_drm_modifier.c */
	bool fences_ready;

	struct vn_trace trace;
};

/* Per-type object data. */
struct vn_instance_data {
	struct vn_instance_fns fns;
	uint32_t api_version;
};

struct vn_physical_device_data {
	/* The host's properties with HOST_VISIBLE/COHERENT/CACHED removed from
	 * types the guest cannot map (see vn_memory.c); the guest is shown
	 * exactly these. */
	VkPhysicalDeviceMemoryProperties mem_props;
	enum vn_memory_mode memory_mode;
	uint32_t visible_types; /* types allocated mappable for the guest */
	VkDeviceSize host_ptr_align;
	bool has_ext_memory_host, has_ext_memory_fd, has_dma_buf;
	bool has_ext_semaphore_fd;
	/* SYNC_FD binary semaphores emulated (vn_handlers.c): the host cannot
	 * both import and export them (NVIDIA's driver does not import them),
	 * or PEARVISOR_VENUS_EMULATE_SYNC_FD says so. Mesa 25 needs them for
	 * Vulkan 1.3 and for WSI. */
	bool sync_fd_emulated;
	/* Without it (or with dma-buf emulated) VK_EXT_image_drm_format_modifier
	 * is emulated with LINEAR only (vn_drm_modifier.c), which Mesa needs
	 * for VK_KHR_swapchain. */
	bool has_drm_format_modifier;
	/* VK_EXT_external_memory_dma_buf emulated (vn_dma_buf.c): the host
	 * lacks it, or PEARVISOR_VENUS_EMULATE_DMA_BUF says so. */
	bool dma_buf_emulated;
};

#define VN_FENCE_POOL 16

struct vn_device_data {
	struct vn_device_fns fns;
	struct vn_object *physical_device;
	enum vn_memory_mode memory_mode;
	/* Reset fences for virtqueue fences and vkQueueWaitIdle: on NVIDIA
	 * creating and destroying one costs ~250 µs each, on every submit's
	 * critical path (docs/PERFORMANCE.md, H100 run 4). */
	pthread_mutex_t fence_lock;
	VkFence fence_pool[VN_FENCE_POOL];
	unsigned fence_pool_n;
};

struct vn_queue_data {
	struct venus_context *ctx;
	pthread_mutex_t lock; /* Vulkan requires external sync per queue */
	int ring_idx;         /* -1 when unbound */
	/* Under lock: bumped by every call made on the queue, and the fence
	 * vn_fence.c attached to the guest's own vkQueueSubmit, with the
	 * count that submit left (still the count: nothing was submitted
	 * after it, so it signals when all the queue's work is done). */
	uint64_t gen, attach_gen;
	/* Under lock: the timeline whose last fence covers the queue up to
	 * covered_gen (0: none), so that a fence asked for on it while gen
	 * is still covered_gen can retire with that one (vn_fence.c). */
	uint32_t covered_ring;
	uint64_t covered_gen;
	int attach_score; /* > 0: virtqueue fences follow this queue's submits */
	VkFence attached;
	VkDevice attach_device;
	struct vn_device_data *attach_dd;
};

struct vn_memory_data {
	int fd;
	void *map;
	size_t map_size;
	uint64_t size;
	bool mappable;
};

/* venus.c */
void vn_context_set_lost(struct venus_context *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The host driver returned VK_ERROR_DEVICE_LOST to `what`. */
void vn_context_device_lost(struct venus_context *ctx, const char *what);
struct vn_resource *vn_context_get_resource(struct venus_context *ctx, uint32_t res_id);
void vn_resource_put(struct venus_context *ctx, struct vn_resource *res);

/* vn_dispatch.c */
void vn_exec_init(struct vn_exec *x, struct venus_context *ctx, struct vn_ring *ring);
void vn_exec_fini(struct vn_exec *x);
/* Decodes and runs every command in [data, data+size). False once lost. */
bool vn_exec_stream(struct vn_exec *x, const uint8_t *data, size_t size);
struct vn_object *vn_owner(struct vn_object *o, uint32_t type);
/* The renderer's data for a guest VkPhysicalDevice, or NULL. */
struct vn_physical_device_data *vn_physical_device_data_of(struct vn_exec *x, VkPhysicalDevice pd);
/* The same through a VkDevice the context created; NULL if unknown. */
struct vn_physical_device_data *vn_physical_device_data_of_device(struct vn_exec *x, VkDevice dev);
void vn_dispatch_generic(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			 struct vn_decoder *d);

/* vn_handlers.c: hand-written semantics, NULL for generic commands. */
vn_handler_fn vn_handler_for(uint32_t cmd_type);

/* vn_transport.c: MESA commands. */
vn_handler_fn vn_transport_handler_for(uint32_t cmd_type);
void vn_ring_head_published(struct vn_ring *r);
/* Whether a decoded vkWaitVirtqueueSeqnoMESA / vkWaitRingSeqnoMESA on
 * x's ring would return at once. */
bool vn_ring_wait_done(struct vn_exec *x, uint32_t type, const void *args);
void vn_rings_stop_all(struct venus_context *ctx);
void vn_rings_set_fatal(struct venus_context *ctx);

/* vn_memory.c */
void vn_handle_allocate_memory(struct vn_exec *x, const struct vn_cmd_desc *c,
			       void *args, struct vn_decoder *d);
/* vn_dma_buf.c */
bool vn_dma_buf_emulated(const struct vn_physical_device_data *pdd);
void vn_dma_buf_strip_image(struct vn_exec *x, VkDevice dev, VkImageCreateInfo *ci);
bool vn_dma_buf_image_format_query(struct vn_exec *x, VkPhysicalDevice pd,
				   VkPhysicalDeviceImageFormatInfo2 *info);
void vn_dma_buf_image_format_answer(VkImageFormatProperties2 *props);
void vn_handle_create_buffer(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			     struct vn_decoder *d);
void vn_handle_device_buffer_reqs(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
				  struct vn_decoder *d);
void vn_handle_external_buffer_props(struct vn_exec *x, const struct vn_cmd_desc *c,
				     void *args, struct vn_decoder *d);
/* vn_drm_modifier.c */
bool vn_drm_modifier_emulated(const struct vn_physical_device_data *pdd);
void vn_handle_create_image(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			    struct vn_decoder *d);
void vn_handle_device_image_reqs(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
				 struct vn_decoder *d);
void vn_handle_format_props2(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			     struct vn_decoder *d);
void vn_handle_image_format_props2(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
				   struct vn_decoder *d);
void vn_handle_image_modifier_props(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
				    struct vn_decoder *d);
void vn_handle_image_subresource_layout2(struct vn_exec *x, const struct vn_cmd_desc *c,
					 void *args, struct vn_decoder *d);
void vn_handle_image_subresource_layout(struct vn_exec *x, const struct vn_cmd_desc *c,
					void *args, struct vn_decoder *d);
void vn_handle_get_memory_resource_properties(struct vn_exec *x,
					      const struct vn_cmd_desc *c,
					      void *args, struct vn_decoder *d);
int vn_memory_export_blob(struct venus_context *ctx, uint64_t mem_id,
			  struct venus_blob *out);
void vn_physical_device_probe(struct venus_renderer *r, const struct vn_instance_fns *f,
			      VkPhysicalDevice pd, struct vn_physical_device_data *data);
void vn_memory_mask_props(VkPhysicalDeviceMemoryProperties *p, uint32_t visible_types);
void vn_handle_memory_props(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			    struct vn_decoder *d);
void vn_handle_memory_props2(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			     struct vn_decoder *d);

/* vn_fence.c */
int vn_fences_start(struct venus_context *ctx);
void vn_fences_stop(struct venus_context *ctx);
void vn_timelines_kick(struct venus_context *ctx);
void vn_timeline_bind(struct venus_context *ctx, uint32_t ring_idx, struct vn_object *queue);
void vn_timeline_unbind_queue(struct venus_context *ctx, struct vn_object *queue);
int vn_fence_submit(struct venus_context *ctx, uint32_t ring_idx, uint64_t fence_id);
/* Before the host device goes: waits out its pending virtqueue fences and
 * destroys its pooled ones. */
void vn_device_fences_fini(struct venus_context *ctx, struct vn_device_data *dd, VkDevice dev);
void vn_handle_device_wait_idle(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
				struct vn_decoder *d);
void vn_handle_queue_wait_idle(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			       struct vn_decoder *d);
void vn_queue_probe(struct vn_exec *x, VkQueue queue, const char *what);
void vn_handle_queue_submit(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			    struct vn_decoder *d);
void vn_handle_queue_submit2(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			     struct vn_decoder *d);

/* vn_pipeline.c: replay pipelining for a ring's command batches. */
struct vn_pipe;
struct vn_pipe *vn_pipe_create(uint32_t ctx_id);
void vn_pipe_destroy(struct vn_pipe *p);
bool vn_pipe_begin(struct vn_pipe *p);
bool vn_pipe_ready(const struct vn_pipe *p);
bool vn_pipe_idle(const struct vn_pipe *p);
void vn_pipe_push(struct vn_pipe *p, void (*call)(const void *, void *), const void *fns,
		  void *args);
void vn_pipe_drain(struct vn_pipe *p);
void vn_pipe_end(struct vn_pipe *p);

/* The polling cap for one kind of thread (VN_SPIN_*): 0 where that kind
 * does not poll. */
uint64_t vn_spin_ns(const struct venus_renderer *r, unsigned kind);

#endif
