/*
 * Per-context object table: guest object id -> host handle, with the
 * handle's type (checked on every lookup), its parent (so destroying a pool
 * or device forgets what it implicitly freed) and per-type data (dispatch
 * tables, queue timeline binding, memory mapping). A reverse map from host
 * handle to id serves replies that return existing handles.
 *
 * Thread-safe: rings and the context thread decode concurrently.
 */
#ifndef PV_VENUS_VN_OBJECTS_H
#define PV_VENUS_VN_OBJECTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vn_object {
	uint64_t id, handle;
	uint32_t type;
	struct vn_object *parent, *children, *sib_next, *sib_prev;
	struct vn_object *id_next, *rev_next;
	void *data;
	void (*free_data)(struct vn_object *obj);
	/* The owning device's function table, once looked up (dispatch_fns):
	 * every replayed command would walk command buffer -> pool ->
	 * device for it. Threads may fill it concurrently (relaxed atomics,
	 * same value); it lives as long as the device, which outlives the
	 * object. */
	const void *dev_fns;
};

struct vn_objects {
	pthread_mutex_t lock;
	/* Bumped by every removal: a vn_lookup_cache entry made under an
	 * older generation may name a freed object and is not used. */
	_Atomic uint64_t generation;
	struct vn_object **by_id, **by_handle;
	size_t nbuckets, count;
	struct vn_object *roots;
};

int vn_objects_init(struct vn_objects *t);
/* Forgets every object (running free_data); no Vulkan calls. */
void vn_objects_fini(struct vn_objects *t);
struct vn_object *vn_objects_get(struct vn_objects *t, uint64_t id);
/* True and *handle set when id names an object of this type. */
bool vn_objects_lookup(struct vn_objects *t, uint64_t id, uint32_t type,
		       uint64_t *handle);
/* A decoding thread's memo of id lookups. Replaying a command buffer looks
 * up the same few ids (the command buffer, its pipelines and descriptor
 * sets) thousands of times a graph; a hit costs one atomic load instead of
 * the table lock and a hash walk. Direct-mapped on the id; only valid
 * while no object has been removed since the entry was made. */
#define VN_LOOKUP_CACHE_SIZE 64
struct vn_lookup_cache {
	struct {
		uint64_t id, gen, handle;
		struct vn_object *obj;
		uint32_t type;
	} e[VN_LOOKUP_CACHE_SIZE];
};
/* vn_objects_lookup through cache (zero-initialised before first use);
 * also returns the object (*obj may be NULL). */
bool vn_objects_lookup_cached_slow(struct vn_objects *t, struct vn_lookup_cache *cache,
				   uint64_t id, uint32_t type, uint64_t *handle,
				   struct vn_object **obj);
/* Inline: a hit is a few loads, and replay looks up every handle. */
static inline bool vn_objects_lookup_cached(struct vn_objects *t, struct vn_lookup_cache *cache,
					    uint64_t id, uint32_t type, uint64_t *handle,
					    struct vn_object **obj)
{
	__typeof__(cache->e[0]) *e = &cache->e[id % VN_LOOKUP_CACHE_SIZE];
	if (e->id == id && e->gen == atomic_load_explicit(&t->generation, memory_order_acquire)) {
		if (e->type != type)
			return false;
		*handle = e->handle;
		*obj = e->obj;
		return true;
	}
	return vn_objects_lookup_cached_slow(t, cache, id, type, handle, obj);
}
/* The guest id of a host handle, or 0. */
uint64_t vn_objects_id_of(struct vn_objects *t, uint32_t type, uint64_t handle);
/* The object of a host handle, or NULL. */
struct vn_object *vn_objects_of_handle(struct vn_objects *t, uint32_t type, uint64_t handle);
/* NULL when the id is 0, already used, or memory ran out. */
struct vn_object *vn_objects_add(struct vn_objects *t, uint64_t id,
				 uint32_t type, uint64_t handle,
				 struct vn_object *parent);
/* Forgets obj and, recursively, its children. */
void vn_objects_remove(struct vn_objects *t, struct vn_object *obj);
/* Forgets the children of obj, keeping obj. */
void vn_objects_remove_children(struct vn_objects *t, struct vn_object *obj);
size_t vn_objects_count(struct vn_objects *t);
/* Up to max children of parent with this type, in out; returns how many. */
size_t vn_objects_children_of_type(struct vn_objects *t, struct vn_object *parent,
				   uint32_t type, struct vn_object **out, size_t max);
/* The first child of parent with this type, or NULL. */
struct vn_object *vn_objects_child_of_type(struct vn_objects *t, struct vn_object *parent,
					   uint32_t type);

#endif
