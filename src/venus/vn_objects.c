/* The per-context object table (see vn_objects.h). */
#include "venus/vn_objects.h"

#include <stdatomic.h>
#include <stdlib.h>

static size_t hash_u64(uint64_t v, size_t nbuckets)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (size_t)v & (nbuckets - 1);
}

static size_t hash_handle(uint32_t type, uint64_t handle, size_t n)
{
	return hash_u64(handle * 31u + type, n);
}

int vn_objects_init(struct vn_objects *t)
{
	t->nbuckets = 256;
	t->count = 0;
	/* Never 0, which a zeroed cache entry holds. */
	atomic_store(&t->generation, 1);
	t->roots = NULL;
	t->by_id = calloc(t->nbuckets, sizeof(*t->by_id));
	t->by_handle = calloc(t->nbuckets, sizeof(*t->by_handle));
	if (!t->by_id || !t->by_handle) {
		free(t->by_id);
		free(t->by_handle);
		return -1;
	}
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

static void unlink_all(struct vn_objects *t, struct vn_object *obj);

void vn_objects_fini(struct vn_objects *t)
{
	pthread_mutex_lock(&t->lock);
	while (t->roots)
		unlink_all(t, t->roots);
	pthread_mutex_unlock(&t->lock);
	free(t->by_id);
	free(t->by_handle);
	pthread_mutex_destroy(&t->lock);
}

static struct vn_object *find_id(struct vn_objects *t, uint64_t id)
{
	struct vn_object *o = t->by_id[hash_u64(id, t->nbuckets)];
	while (o && o->id != id)
		o = o->id_next;
	return o;
}

struct vn_object *vn_objects_get(struct vn_objects *t, uint64_t id)
{
	pthread_mutex_lock(&t->lock);
	struct vn_object *o = id ? find_id(t, id) : NULL;
	pthread_mutex_unlock(&t->lock);
	return o;
}

bool vn_objects_lookup(struct vn_objects *t, uint64_t id, uint32_t type,
		       uint64_t *handle)
{
	pthread_mutex_lock(&t->lock);
	struct vn_object *o = find_id(t, id);
	bool ok = o && o->type == type;
	if (ok)
		*handle = o->handle;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

bool vn_objects_lookup_cached_slow(struct vn_objects *t, struct vn_lookup_cache *cache,
				   uint64_t id, uint32_t type, uint64_t *handle,
				   struct vn_object **obj)
{
	__typeof__(cache->e[0]) *e = &cache->e[id % VN_LOOKUP_CACHE_SIZE];
	pthread_mutex_lock(&t->lock);
	struct vn_object *o = find_id(t, id);
	if (o) {
		e->id = id;
		e->gen = atomic_load_explicit(&t->generation, memory_order_relaxed);
		e->handle = o->handle;
		e->obj = o;
		e->type = o->type;
	}
	bool ok = o && o->type == type;
	if (ok) {
		*handle = o->handle;
		*obj = o;
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

static struct vn_object *find_handle(struct vn_objects *t, uint32_t type, uint64_t handle)
{
	struct vn_object *o = t->by_handle[hash_handle(type, handle, t->nbuckets)];
	while (o && !(o->type == type && o->handle == handle))
		o = o->rev_next;
	return o;
}

uint64_t vn_objects_id_of(struct vn_objects *t, uint32_t type, uint64_t handle)
{
	pthread_mutex_lock(&t->lock);
	struct vn_object *o = find_handle(t, type, handle);
	uint64_t id = o ? o->id : 0;
	pthread_mutex_unlock(&t->lock);
	return id;
}

struct vn_object *vn_objects_of_handle(struct vn_objects *t, uint32_t type, uint64_t handle)
{
	pthread_mutex_lock(&t->lock);
	struct vn_object *o = find_handle(t, type, handle);
	pthread_mutex_unlock(&t->lock);
	return o;
}

static void rehash(struct vn_objects *t)
{
	size_t n = t->nbuckets * 2;
	struct vn_object **by_id = calloc(n, sizeof(*by_id));
	struct vn_object **by_handle = calloc(n, sizeof(*by_handle));
	if (!by_id || !by_handle) {
		/* Keep the smaller table: chains get longer, nothing breaks. */
		free(by_id);
		free(by_handle);
		return;
	}
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct vn_object *o = t->by_id[i], *next;
		for (; o; o = next) {
			next = o->id_next;
			size_t h = hash_u64(o->id, n);
			o->id_next = by_id[h];
			by_id[h] = o;
		}
		o = t->by_handle[i];
		for (; o; o = next) {
			next = o->rev_next;
			size_t h = hash_handle(o->type, o->handle, n);
			o->rev_next = by_handle[h];
			by_handle[h] = o;
		}
	}
	free(t->by_id);
	free(t->by_handle);
	t->by_id = by_id;
	t->by_handle = by_handle;
	t->nbuckets = n;
}

static void sib_insert(struct vn_object **head, struct vn_object *o)
{
	o->sib_prev = NULL;
	o->sib_next = *head;
	if (*head)
		(*head)->sib_prev = o;
	*head = o;
}

struct vn_object *vn_objects_add(struct vn_objects *t, uint64_t id,
				 uint32_t type, uint64_t handle,
				 struct vn_object *parent)
{
	if (!id)
		return NULL;
	struct vn_object *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->id = id;
	o->type = type;
	o->handle = handle;
	o->parent = parent;
	pthread_mutex_lock(&t->lock);
	if (find_id(t, id)) {
		pthread_mutex_unlock(&t->lock);
		free(o);
		return NULL;
	}
	if (t->count + 1 > t->nbuckets)
		rehash(t);
	size_t h = hash_u64(id, t->nbuckets);
	o->id_next = t->by_id[h];
	t->by_id[h] = o;
	h = hash_handle(type, handle, t->nbuckets);
	o->rev_next = t->by_handle[h];
	t->by_handle[h] = o;
	sib_insert(parent ? &parent->children : &t->roots, o);
	t->count++;
	pthread_mutex_unlock(&t->lock);
	return o;
}

static void unlink_one(struct vn_objects *t, struct vn_object *o)
{
	struct vn_object **pp = &t->by_id[hash_u64(o->id, t->nbuckets)];
	while (*pp && *pp != o)
		pp = &(*pp)->id_next;
	if (*pp)
		*pp = o->id_next;
	pp = &t->by_handle[hash_handle(o->type, o->handle, t->nbuckets)];
	while (*pp && *pp != o)
		pp = &(*pp)->rev_next;
	if (*pp)
		*pp = o->rev_next;
	if (o->sib_prev)
		o->sib_prev->sib_next = o->sib_next;
	else if (o->parent)
		o->parent->children = o->sib_next;
	else
		t->roots = o->sib_next;
	if (o->sib_next)
		o->sib_next->sib_prev = o->sib_prev;
	t->count--;
	atomic_fetch_add_explicit(&t->generation, 1, memory_order_release);
	if (o->free_data)
		o->free_data(o);
	free(o);
}

static void unlink_all(struct vn_objects *t, struct vn_object *obj)
{
	while (obj->children)
		unlink_all(t, obj->children);
	unlink_one(t, obj);
}

void vn_objects_remove(struct vn_objects *t, struct vn_object *obj)
{
	pthread_mutex_lock(&t->lock);
	unlink_all(t, obj);
	pthread_mutex_unlock(&t->lock);
}

void vn_objects_remove_children(struct vn_objects *t, struct vn_object *obj)
{
	pthread_mutex_lock(&t->lock);
	while (obj->children)
		unlink_all(t, obj->children);
	pthread_mutex_unlock(&t->lock);
}

size_t vn_objects_count(struct vn_objects *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t vn_objects_children_of_type(struct vn_objects *t, struct vn_object *parent,
				   uint32_t type, struct vn_object **out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&t->lock);
	for (struct vn_object *o = parent->children; o && n < max; o = o->sib_next)
		if (o->type == type)
			out[n++] = o;
	pthread_mutex_unlock(&t->lock);
	return n;
}

struct vn_object *vn_objects_child_of_type(struct vn_objects *t, struct vn_object *parent,
					   uint32_t type)
{
	struct vn_object *o = NULL;
	vn_objects_children_of_type(t, parent, type, &o, 1);
	return o;
}
