/* The table-driven Venus codec (see vn_codec.h). */
#include "venus/vn_codec.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/util.h"
#include "venus/vn_objects.h"

/* Deepest pNext/struct nesting accepted: Mesa chains ~100 feature structs
 * into one vkGetPhysicalDeviceFeatures2; this leaves room and bounds the
 * recursion. */
#define VN_MAX_DEPTH 512
/* For the few helpers every generated decoder calls per word. */
#define VN_INLINE static inline __attribute__((always_inline))
/* Most elements in one array; the arena limit bounds the bytes. */
#define VN_MAX_ELEMS (1u << 24)

/* ---- arena ---------------------------------------------------------- */

void vn_arena_init(struct vn_arena *a, size_t limit)
{
	a->blocks = NULL;
	a->used = 0;
	a->limit = limit;
}

void *vn_arena_alloc_slow(struct vn_arena *a, size_t size)
{
	if (size > a->limit || a->used > a->limit - size)
		return NULL;
	struct vn_arena_block *b = a->blocks;
	if (!b || b->size - b->used < size) {
		size_t bs = size > VN_ARENA_BLOCK ? size : VN_ARENA_BLOCK;
		/* Keep the first (reusable) block; big ones go after it. */
		b = malloc(sizeof(*b) + bs);
		if (!b)
			return NULL;
		b->size = bs;
		b->used = 0;
		if (a->blocks && bs > VN_ARENA_BLOCK) {
			b->next = a->blocks->next;
			a->blocks->next = b;
		} else {
			b->next = a->blocks;
			a->blocks = b;
		}
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	a->used += size;
	memset(p, 0, size);
	return p;
}

void vn_arena_reset_slow(struct vn_arena *a)
{
	struct vn_arena_block *b = a->blocks, *keep = NULL, *next;
	/* Keep one standard block so steady-state commands never malloc. */
	for (; b; b = next) {
		next = b->next;
		if (!keep && b->size == VN_ARENA_BLOCK) {
			keep = b;
			continue;
		}
		free(b);
	}
	if (keep) {
		keep->used = 0;
		keep->next = NULL;
	}
	a->blocks = keep;
	a->used = 0;
}

void vn_arena_fini(struct vn_arena *a)
{
	vn_arena_reset(a);
	free(a->blocks);
	a->blocks = NULL;
}

/* ---- primitive reads/writes ----------------------------------------- */

void vn_decoder_init(struct vn_decoder *d, const void *data, size_t size,
		     struct vn_arena *arena, struct vn_objects *objs)
{
	memset(d, 0, sizeof(*d));
	d->data = data;
	d->size = size;
	d->arena = arena;
	d->objs = objs;
}

void vn_decoder_fail(struct vn_decoder *d, const char *fmt, ...)
{
	if (d->fatal)
		return;
	d->fatal = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
}

void vn_decoder_truncated(struct vn_decoder *d)
{
	vn_decoder_fail(d, "truncated stream at offset %zu", d->pos);
}

bool vn_peek_u64(const struct vn_decoder *d, uint64_t *v)
{
	if (d->fatal || !pv_range_ok(d->pos, 8, d->size))
		return false;
	memcpy(v, d->data + d->pos, 8);
	return true;
}

VN_INLINE void *alloc(struct vn_decoder *d, uint64_t count, uint64_t elem)
{
	if (d->fatal)
		return NULL;
	if (count > VN_MAX_ELEMS || (elem && count > SIZE_MAX / 2 / elem)) {
		vn_decoder_fail(d, "array of %llu elements too large",
				(unsigned long long)count);
		return NULL;
	}
	void *p = vn_arena_alloc(d->arena, (size_t)(count * elem));
	if (!p)
		vn_decoder_fail(d, "decode arena exhausted (%llu x %llu bytes)",
				(unsigned long long)count, (unsigned long long)elem);
	return p;
}

static void ensure(struct vn_encoder *e, size_t n)
{
	if (!e->overflow && !pv_range_ok(e->pos, n, e->size))
		e->overflow = true;
}

void vn_write_u32(struct vn_encoder *e, uint32_t v)
{
	ensure(e, 4);
	if (e->overflow)
		return;
	memcpy(e->data + e->pos, &v, 4);
	e->pos += 4;
}

void vn_write_u64(struct vn_encoder *e, uint64_t v)
{
	ensure(e, 8);
	if (e->overflow)
		return;
	memcpy(e->data + e->pos, &v, 8);
	e->pos += 8;
}

void vn_write_bytes(struct vn_encoder *e, const void *p, size_t n)
{
	size_t padded = PV_ALIGN_UP(n, (size_t)4);
	if (padded < n) {
		e->overflow = true;
		return;
	}
	ensure(e, padded);
	if (e->overflow)
		return;
	if (n)
		memcpy(e->data + e->pos, p, n);
	memset(e->data + e->pos + n, 0, padded - n);
	e->pos += padded;
}

/* ---- helpers over field rows ---------------------------------------- */

static uint64_t load_uint(const void *p, uint32_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	case 8: { uint64_t v; memcpy(&v, p, 8); return v; }
	default: return 0;
	}
}

static void store_uint(void *p, uint32_t size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	case 8: memcpy(p, &v, 8); break;
	default: break;
	}
}

static void *ptr_at(const void *base, uint32_t off)
{
	void *p;
	memcpy(&p, (const char *)base + off, sizeof(p));
	return p;
}

static void set_ptr(void *base, uint32_t off, const void *p)
{
	memcpy((char *)base + off, &p, sizeof(p));
}

uint64_t vn_field_count(const struct vn_field *fields, const struct vn_field *f,
			const void *base)
{
	if (f->shape == VN_S_FIXED)
		return f->aux;
	if (f->len_kind == VN_L_NONE)
		return 1;
	const struct vn_field *lf = &fields[f->len_field];
	const char *lp = (const char *)base + lf->offset;
	switch (f->len_kind) {
	case VN_L_FIELD:
		return load_uint(lp, f->len_size);
	case VN_L_FIELD_PTR: {
		const void *p = ptr_at(base, lf->offset);
		return p ? load_uint(p, f->len_size) : 0;
	}
	case VN_L_DIV4:
		return load_uint(lp, 8) / 4;
	case VN_L_SAMPLEMASK:
		return (load_uint(lp, 4) + 31) / 32;
	case VN_L_FIELD_MEMBER: {
		const char *p = ptr_at(base, lf->offset);
		return p ? load_uint(p + f->aux, 4) : 0;
	}
	default:
		return 0;
	}
}

bool vn_field_is_out(const struct vn_field *f)
{
	if (f->flags & VN_F_CONST)
		return false;
	if (f->kind == VN_K_ALLOCATOR || f->kind == VN_K_PNEXT)
		return false;
	return f->shape == VN_S_PTR || f->shape == VN_S_ARRAY;
}

/* A scalar travels as 8 bytes when 64-bit, else as 4, whatever its C size. */
static void read_scalar(struct vn_decoder *d, const struct vn_field *f, void *at)
{
	if (f->kind == VN_K_U64) {
		uint64_t v;
		if (vn_read_u64(d, &v))
			store_uint(at, f->elem_size, v);
	} else {
		uint32_t v;
		if (vn_read_u32(d, &v))
			store_uint(at, f->elem_size, v);
	}
}

static bool is_scalar(uint8_t kind)
{
	return kind >= VN_K_U8 && kind <= VN_K_U64;
}

/* sType -> struct, sorted once on first use for binary search. */
static struct vn_stype_entry *sorted_stypes;
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int cmp_stype(const void *a, const void *b)
{
	int32_t x = ((const struct vn_stype_entry *)a)->stype;
	int32_t y = ((const struct vn_stype_entry *)b)->stype;
	return x < y ? -1 : x > y;
}

static void sort_stypes(void)
{
	struct vn_stype_entry *v = malloc(vn_stype_count * sizeof(*v));
	if (!v)
		return;
	memcpy(v, vn_stype_table, vn_stype_count * sizeof(*v));
	qsort(v, vn_stype_count, sizeof(*v), cmp_stype);
	sorted_stypes = v;
}

const struct vn_struct_desc *vn_struct_by_stype(int32_t stype)
{
	pthread_once(&sorted_once, sort_stypes);
	if (!sorted_stypes) {
		for (size_t i = 0; i < vn_stype_count; i++)
			if (vn_stype_table[i].stype == stype)
				return &vn_struct_table[vn_stype_table[i].index];
		return NULL;
	}
	size_t lo = 0, hi = vn_stype_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted_stypes[mid].stype == stype)
			return &vn_struct_table[sorted_stypes[mid].index];
		if (sorted_stypes[mid].stype < stype)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- decode ---------------------------------------------------------- */

enum mode { IN, PARTIAL };

static void decode_fields(struct vn_decoder *d, const struct vn_field *fields,
			  unsigned first, unsigned n, void *base, enum mode m, bool is_param);

static void decode_struct(struct vn_decoder *d, uint16_t sid, void *dst, enum mode m)
{
	if (sid >= VN_STRUCT_COUNT) {
		vn_decoder_fail(d, "bad struct id");
		return;
	}
	const struct vn_struct_desc *s = &vn_struct_table[sid];
	if (++d->depth > VN_MAX_DEPTH) {
		vn_decoder_fail(d, "structs nested too deep");
		return;
	}
	if (s->is_union) {
		uint32_t tag;
		if (m == PARTIAL) {
			d->depth--;
			return;
		}
		if (!vn_read_u32(d, &tag))
			return;
		if (tag >= s->nfields) {
			vn_decoder_fail(d, "%s: bad union tag %u", s->name, tag);
			return;
		}
		decode_fields(d, s->fields, tag, tag + 1, dst, m, false);
	} else {
		decode_fields(d, s->fields, 0, s->nfields, dst, m, false);
	}
	d->depth--;
}

static void *decode_pnext(struct vn_decoder *d, enum mode m)
{
	uint64_t marker;
	if (!vn_read_u64(d, &marker))
		return NULL;
	if (!marker)
		return NULL;
	if (marker != 1) {
		vn_decoder_fail(d, "bad pNext marker %llu", (unsigned long long)marker);
		return NULL;
	}
	uint32_t stype;
	if (!vn_read_u32(d, &stype))
		return NULL;
	const struct vn_struct_desc *s = vn_struct_by_stype((int32_t)stype);
	if (!s) {
		vn_decoder_fail(d, "unknown sType %u in pNext chain", stype);
		return NULL;
	}
	if (++d->depth > VN_MAX_DEPTH) {
		vn_decoder_fail(d, "pNext chain too long");
		return NULL;
	}
	VkBaseOutStructure *st = alloc(d, 1, s->size);
	if (!st)
		return NULL;
	st->sType = (VkStructureType)stype;
	st->pNext = decode_pnext(d, m);
	/* sType and pNext are the first two rows of every chained struct. */
	decode_fields(d, s->fields, 2, s->nfields, st, m, false);
	d->depth--;
	return st;
}

/* read_handle's failure: a wrong-type or unknown id. */
static __attribute__((noinline, cold)) void handle_failed(struct vn_decoder *d,
							 const struct vn_field *f, uint64_t id)
{
	struct vn_object *o = vn_objects_get(d->objs, id);
	if (o)
		vn_decoder_fail(d, "%s: object %llu is a %s, not a %s", f->name,
				(unsigned long long)id, vn_object_type_names[o->type],
				vn_object_type_names[f->type]);
	else if (!d->fatal) {
		d->unknown_id = id;
		d->unknown_type = f->type;
		vn_decoder_fail(d, "%s: unknown %s id %llu", f->name,
				vn_object_type_names[f->type], (unsigned long long)id);
	}
}

VN_INLINE void read_handle(struct vn_decoder *d, const struct vn_field *f, void *dst)
{
	uint64_t id, h = 0;
	if (!vn_read_u64(d, &id))
		return;
	struct vn_object *obj = NULL;
	bool found = !id || (d->cache ? vn_objects_lookup_cached(d->objs, d->cache, id, f->type, &h, &obj)
				      : vn_objects_lookup(d->objs, id, f->type, &h));
	if (!found) {
		handle_failed(d, f, id);
		return;
	}
	if (!d->first_obj)
		d->first_obj = obj;
	memcpy(dst, &h, 8);
}

/* Decodes count elements of f's type into dst (count > 0). */
static void decode_elems(struct vn_decoder *d, const struct vn_field *f, void *dst,
			 uint64_t count, enum mode m, bool out_handles)
{
	if (is_scalar(f->kind) || f->kind == VN_K_BLOB) {
		if (m == PARTIAL)
			return;
		uint64_t bytes = count * f->elem_size;
		const uint8_t *p = vn_take(d, PV_ALIGN_UP(bytes, 4));
		if (p)
			memcpy(dst, p, bytes);
		return;
	}
	if (f->kind == VN_K_HANDLE) {
		if (m == PARTIAL || out_handles) {
			/* Guest ids of objects the host will fill in. */
			uint64_t *ids = out_handles ? vn_out_ids(dst, count) : NULL;
			for (uint64_t i = 0; i < count && !d->fatal; i++) {
				uint64_t id;
				if (vn_read_u64(d, &id) && ids)
					ids[i] = id;
			}
			return;
		}
		for (uint64_t i = 0; i < count && !d->fatal; i++)
			read_handle(d, f, (char *)dst + i * 8);
		return;
	}
	if (f->kind == VN_K_STRUCT || f->kind == VN_K_UNION) {
		for (uint64_t i = 0; i < count && !d->fatal; i++)
			decode_struct(d, f->type, (char *)dst + i * f->elem_size, m);
		return;
	}
	vn_decoder_fail(d, "%s: unsupported element kind", f->name);
}

static char *decode_string(struct vn_decoder *d, const struct vn_field *f)
{
	uint64_t n;
	if (!vn_read_u64(d, &n) || !n)
		return NULL;
	if (n > d->size) {
		vn_decoder_fail(d, "%s: string of %llu bytes", f->name, (unsigned long long)n);
		return NULL;
	}
	const uint8_t *p = vn_take(d, PV_ALIGN_UP((size_t)n, 4));
	char *s = p ? alloc(d, 1, n) : NULL;
	if (!s)
		return NULL;
	/* Check the copy: streams decoded in place live in guest memory. */
	memcpy(s, p, (size_t)n);
	if (!memchr(s, 0, (size_t)n)) {
		vn_decoder_fail(d, "%s: string not terminated", f->name);
		return NULL;
	}
	return s;
}


/* Reads an array's u64 size prefix. False for NULL (size 0) or on failure;
 * a size that differs from the struct's own count member is fatal. */
VN_INLINE bool read_counted_size(struct vn_decoder *d, const struct vn_field *fields,
				 const struct vn_field *f, const void *base, uint64_t *n)
{
	if (!vn_read_u64(d, n) || !*n)
		return false;
	uint64_t want = vn_field_count(fields, f, base);
	if (*n != want) {
		vn_decoder_fail(d, "%s: array size %llu does not match count %llu",
				f->name, (unsigned long long)*n, (unsigned long long)want);
		return false;
	}
	return true;
}
static void decode_array(struct vn_decoder *d, const struct vn_field *fields,
			 const struct vn_field *f, void *base, enum mode em, bool out)
{
	uint64_t n;
	if (!read_counted_size(d, fields, f, base, &n))
		return;
	bool out_handle = out && f->kind == VN_K_HANDLE;
	uint64_t esize = f->kind == VN_K_HANDLE ? 8 : f->elem_size;
	void *p = alloc(d, out_handle ? 2 * n : n, esize);
	if (!p)
		return;
	set_ptr(base, f->offset, p);
	decode_elems(d, f, p, n, em, out_handle);
}

static void decode_field(struct vn_decoder *d, const struct vn_field *fields,
			 const struct vn_field *f, void *base, enum mode m, bool is_param)
{
	char *at = (char *)base + f->offset;
	bool out = is_param && vn_field_is_out(f);
	enum mode em = out ? PARTIAL : m;

	switch (f->shape) {
	case VN_S_VALUE:
		switch (f->kind) {
		case VN_K_STYPE: {
			uint32_t st;
			if (vn_read_u32(d, &st))
				memcpy(at, &st, 4);
			return;
		}
		case VN_K_PNEXT:
			set_ptr(base, f->offset, decode_pnext(d, m));
			return;
		case VN_K_ALLOCATOR: {
			uint64_t marker;
			if (vn_read_u64(d, &marker) && marker)
				vn_decoder_fail(d, "pAllocator must be NULL");
			return;
		}
		case VN_K_HANDLE:
			if (m == PARTIAL) {
				uint64_t id;
				vn_read_u64(d, &id);
				return;
			}
			read_handle(d, f, at);
			return;
		case VN_K_STRUCT:
		case VN_K_UNION:
			decode_struct(d, f->type, at, m);
			return;
		default:
			if (m == PARTIAL && !(f->flags & VN_F_COUNT))
				return;
			read_scalar(d, f, at);
			return;
		}
	case VN_S_FIXED: {
		if (m == PARTIAL && is_scalar(f->kind))
			return;
		uint64_t n;
		if (!vn_read_u64(d, &n))
			return;
		if (n != f->aux) {
			vn_decoder_fail(d, "%s: array size %llu, expected %u", f->name,
					(unsigned long long)n, f->aux);
			return;
		}
		if (is_param) {
			/* A fixed-size array parameter (vkCmdSetBlendConstants'
			 * float[4]) is a pointer in C: its elements live in the
			 * arena, not inline in the args struct. */
			void *p = alloc(d, n, f->kind == VN_K_HANDLE ? 8 : f->elem_size);
			if (!p)
				return;
			set_ptr(base, f->offset, p);
			decode_elems(d, f, p, n, m, false);
			return;
		}
		decode_elems(d, f, at, n, m, false);
		return;
	}
	case VN_S_PTR: {
		uint64_t marker;
		if (!vn_read_u64(d, &marker))
			return;
		if (marker > 1) {
			vn_decoder_fail(d, "%s: bad pointer marker %llu", f->name,
					(unsigned long long)marker);
			return;
		}
		if (!marker) {
			if (is_param && !(f->flags & VN_F_OPTIONAL) &&
			    f->kind != VN_K_U32 && f->kind != VN_K_U64)
				vn_decoder_fail(d, "%s: required pointer is NULL", f->name);
			return;
		}
		bool out_handle = out && f->kind == VN_K_HANDLE;
		void *p = alloc(d, out_handle ? 2 : 1,
				f->kind == VN_K_HANDLE ? 8 : f->elem_size);
		if (!p)
			return;
		set_ptr(base, f->offset, p);
		if (is_scalar(f->kind)) {
			/* Out scalars carry no value unless they count an array. */
			if (out && !(f->flags & VN_F_COUNT))
				return;
			read_scalar(d, f, p);
			return;
		}
		decode_elems(d, f, p, 1, em, out_handle);
		return;
	}
	case VN_S_ARRAY:
		decode_array(d, fields, f, base, em, out);
		return;
	case VN_S_STRING:
		set_ptr(base, f->offset, decode_string(d, f));
		return;
	case VN_S_STRING_ARRAY: {
		uint64_t n;
		if (!read_counted_size(d, fields, f, base, &n))
			return;
		char **v = alloc(d, n, sizeof(char *));
		if (!v)
			return;
		set_ptr(base, f->offset, v);
		for (uint64_t i = 0; i < n && !d->fatal; i++) {
			v[i] = decode_string(d, f);
			if (!v[i] && !d->fatal)
				vn_decoder_fail(d, "%s: NULL string", f->name);
		}
		return;
	}
	default:
		vn_decoder_fail(d, "%s: bad field shape", f->name);
	}
}

static void decode_fields(struct vn_decoder *d, const struct vn_field *fields,
			  unsigned first, unsigned n, void *base, enum mode m, bool is_param)
{
	for (unsigned i = first; i < n && !d->fatal; i++)
		decode_field(d, fields, &fields[i], base, m, is_param);
}

bool vn_decode_params(struct vn_decoder *d, const struct vn_cmd_desc *c, void *args)
{
	d->cmd_name = c->name;
	d->depth = 0;
	d->first_obj = NULL;
	decode_fields(d, c->params, 0, c->nparams, args, IN, true);
	return !d->fatal;
}

/* Straight-line decoders, generated per command: plain parameters
 * (scalars, handles, const arrays) are read inline, the others through
 * decode_field, in the same order and with the same helpers as the table
 * walk, so the results and failures are the same (the decode fuzz target
 * checks). Replaying a recorded graph is mostly plain commands
 * (vkCmdDispatch, vkCmdBindDescriptorSets, vkCmdPushConstants), and the
 * walk's per-field dispatch was most of its cost. */
VN_INLINE void dec_scalar32(struct vn_decoder *d, void *at, uint32_t size)
{
	uint32_t v;
	if (vn_read_u32(d, &v))
		store_uint(at, size, v);
}

VN_INLINE void dec_scalar64(struct vn_decoder *d, void *at, uint32_t size)
{
	uint64_t v;
	if (vn_read_u64(d, &v))
		store_uint(at, size, v);
}

VN_INLINE void dec_stype(struct vn_decoder *d, VkStructureType *at)
{
	uint32_t st;
	if (vn_read_u32(d, &st))
		memcpy(at, &st, 4);
}

/* decode_struct's depth check, for the generated struct decoders. */
VN_INLINE bool struct_enter(struct vn_decoder *d)
{
	if (++d->depth > VN_MAX_DEPTH) {
		vn_decoder_fail(d, "structs nested too deep");
		return false;
	}
	return true;
}

/* decode_field's VN_S_PTR case up to the element, for a const struct:
 * the storage the generated struct decoder fills, or NULL. */
static void *begin_struct_ptr(struct vn_decoder *d, const struct vn_field *f, void *base,
			      bool is_param)
{
	uint64_t marker;
	if (!vn_read_u64(d, &marker))
		return NULL;
	if (marker > 1) {
		vn_decoder_fail(d, "%s: bad pointer marker %llu", f->name,
				(unsigned long long)marker);
		return NULL;
	}
	if (!marker) {
		if (is_param && !(f->flags & VN_F_OPTIONAL))
			vn_decoder_fail(d, "%s: required pointer is NULL", f->name);
		return NULL;
	}
	void *p = alloc(d, 1, f->elem_size);
	if (p)
		set_ptr(base, f->offset, p);
	return p;
}

/* decode_array up to the elements, for an array of const structs. */
VN_INLINE void *begin_struct_array(struct vn_decoder *d, const struct vn_field *fields,
				   const struct vn_field *f, void *base, uint64_t *n)
{
	if (!read_counted_size(d, fields, f, base, n))
		return NULL;
	void *p = alloc(d, *n, f->elem_size);
	if (p)
		set_ptr(base, f->offset, p);
	return p;
}

/* decode_array up to the elements, for a const array of plain values
 * counted by an earlier parameter whose value (want) the generated decoder
 * passes: no lookup of the count member. */
VN_INLINE void *begin_plain_array(struct vn_decoder *d, const struct vn_field *f, void *base,
				  uint64_t want, uint64_t esize, uint64_t *n)
{
	if (!vn_read_u64(d, n) || !*n)
		return NULL;
	if (*n != want) {
		vn_decoder_fail(d, "%s: array size %llu does not match count %llu",
				f->name, (unsigned long long)*n, (unsigned long long)want);
		return NULL;
	}
	void *p = alloc(d, *n, esize);
	if (p)
		set_ptr(base, f->offset, p);
	return p;
}

/* decode_elems for scalars and blobs: the packed bytes, padded to 4. */
VN_INLINE void dec_bytes(struct vn_decoder *d, void *dst, uint64_t bytes)
{
	const uint8_t *p = vn_take(d, PV_ALIGN_UP((size_t)bytes, 4));
	if (p)
		memcpy(dst, p, (size_t)bytes);
}

typedef void (*vn_fast_decode_fn)(struct vn_decoder *d, const struct vn_field *f, void *args);

#include "venus/vn_gen_fast.inc"

bool vn_decode_cmd(struct vn_decoder *d, uint32_t type, const struct vn_cmd_desc *c, void *args)
{
	vn_fast_decode_fn fast = type < VN_CMD_TYPE_COUNT ? vn_fast_decoders[type] : NULL;
	if (!fast)
		return vn_decode_params(d, c, args);
	d->cmd_name = c->name;
	d->depth = 0;
	d->first_obj = NULL;
	fast(d, c->params, args);
	return !d->fatal;
}

bool vn_cmd_has_fast_decoder(uint32_t type)
{
	return type < VN_CMD_TYPE_COUNT && vn_fast_decoders[type];
}

/* ---- encode ---------------------------------------------------------- */

static void encode_fields(struct vn_encoder *e, const struct vn_field *fields,
			  unsigned first, unsigned n, const void *base);

static void encode_pnext(struct vn_encoder *e, const void *p)
{
	const VkBaseInStructure *s = p;
	/* Skip links the codec does not know (the host driver never adds
	 * any, but be safe): the guest would not expect them. */
	while (s && !vn_struct_by_stype((int32_t)s->sType))
		s = s->pNext;
	if (!s) {
		vn_write_u64(e, 0);
		return;
	}
	const struct vn_struct_desc *sd = vn_struct_by_stype((int32_t)s->sType);
	vn_write_u64(e, 1);
	vn_write_u32(e, (uint32_t)s->sType);
	encode_pnext(e, s->pNext);
	encode_fields(e, sd->fields, 2, sd->nfields, s);
}

static void encode_struct(struct vn_encoder *e, uint16_t sid, const void *src)
{
	const struct vn_struct_desc *s = &vn_struct_table[sid];
	if (s->is_union) {
		/* Send the widest member: the guest decodes into the same
		 * storage, so every member's bits arrive. */
		unsigned best = 0;
		for (unsigned i = 1; i < s->nfields; i++) {
			uint64_t a = s->fields[i].elem_size * (s->fields[i].shape == VN_S_FIXED ? s->fields[i].aux : 1);
			uint64_t b = s->fields[best].elem_size * (s->fields[best].shape == VN_S_FIXED ? s->fields[best].aux : 1);
			if (a > b)
				best = i;
		}
		vn_write_u32(e, best);
		encode_fields(e, s->fields, best, best + 1, src);
		return;
	}
	encode_fields(e, s->fields, 0, s->nfields, src);
}

static void encode_elems(struct vn_encoder *e, const struct vn_field *f,
			 const void *src, uint64_t count, const uint64_t *ids)
{
	if (is_scalar(f->kind) || f->kind == VN_K_BLOB) {
		vn_write_bytes(e, src, count * f->elem_size);
		return;
	}
	for (uint64_t i = 0; i < count && !e->overflow; i++) {
		if (f->kind == VN_K_HANDLE) {
			uint64_t h;
			memcpy(&h, (const char *)src + i * 8, 8);
			vn_write_u64(e, ids ? ids[i] : (h ? vn_objects_id_of(e->objs, f->type, h) : 0));
		} else {
			encode_struct(e, f->type, (const char *)src + i * f->elem_size);
		}
	}
}

static void encode_string(struct vn_encoder *e, const char *s)
{
	if (!s) {
		vn_write_u64(e, 0);
		return;
	}
	size_t n = strlen(s) + 1;
	vn_write_u64(e, n);
	vn_write_bytes(e, s, n);
}

static void encode_field(struct vn_encoder *e, const struct vn_field *fields,
			 const struct vn_field *f, const void *base, bool out_param)
{
	const char *at = (const char *)base + f->offset;
	switch (f->shape) {
	case VN_S_VALUE:
		switch (f->kind) {
		case VN_K_STYPE:
			vn_write_u32(e, (uint32_t)load_uint(at, 4));
			return;
		case VN_K_PNEXT:
			encode_pnext(e, ptr_at(base, f->offset));
			return;
		case VN_K_ALLOCATOR:
			vn_write_u64(e, 0);
			return;
		case VN_K_STRUCT:
		case VN_K_UNION:
			encode_struct(e, f->type, at);
			return;
		case VN_K_HANDLE: {
			uint64_t h = load_uint(at, 8);
			vn_write_u64(e, h ? vn_objects_id_of(e->objs, f->type, h) : 0);
			return;
		}
		case VN_K_U64:
			vn_write_u64(e, load_uint(at, f->elem_size));
			return;
		default:
			vn_write_u32(e, (uint32_t)load_uint(at, f->elem_size));
			return;
		}
	case VN_S_FIXED:
		vn_write_u64(e, f->aux);
		encode_elems(e, f, at, f->aux, NULL);
		return;
	case VN_S_PTR: {
		const void *p = ptr_at(base, f->offset);
		vn_write_u64(e, p ? 1 : 0);
		if (!p)
			return;
		if (is_scalar(f->kind)) {
			if (f->kind == VN_K_U64)
				vn_write_u64(e, load_uint(p, f->elem_size));
			else
				vn_write_u32(e, (uint32_t)load_uint(p, f->elem_size));
			return;
		}
		encode_elems(e, f, p, 1, out_param && f->kind == VN_K_HANDLE ?
			     vn_out_ids((void *)p, 1) : NULL);
		return;
	}
	case VN_S_ARRAY: {
		const void *p = ptr_at(base, f->offset);
		if (!p) {
			vn_write_u64(e, 0);
			return;
		}
		uint64_t n = vn_field_count(fields, f, base);
		vn_write_u64(e, n);
		encode_elems(e, f, p, n, out_param && f->kind == VN_K_HANDLE ?
			     vn_out_ids((void *)p, n) : NULL);
		return;
	}
	case VN_S_STRING:
		encode_string(e, ptr_at(base, f->offset));
		return;
	case VN_S_STRING_ARRAY: {
		char *const *v = ptr_at(base, f->offset);
		if (!v) {
			vn_write_u64(e, 0);
			return;
		}
		uint64_t n = vn_field_count(fields, f, base);
		vn_write_u64(e, n);
		for (uint64_t i = 0; i < n; i++)
			encode_string(e, v[i]);
		return;
	}
	default:
		return;
	}
}

static void encode_fields(struct vn_encoder *e, const struct vn_field *fields,
			  unsigned first, unsigned n, const void *base)
{
	for (unsigned i = first; i < n && !e->overflow; i++)
		encode_field(e, fields, &fields[i], base, false);
}

void vn_encode_reply(struct vn_encoder *e, uint32_t cmd_type,
		     const struct vn_cmd_desc *c, const void *args)
{
	vn_write_u32(e, cmd_type);
	const char *ret = (const char *)args + c->ret_offset;
	switch (c->ret) {
	case VN_RET_RESULT:
	case VN_RET_U32:
		vn_write_u32(e, (uint32_t)load_uint(ret, 4));
		break;
	case VN_RET_U64:
		vn_write_u64(e, load_uint(ret, 8));
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < c->nparams; i++) {
		const struct vn_field *f = &c->params[i];
		if (vn_field_is_out(f))
			encode_field(e, c->params, f, args, true);
	}
}
