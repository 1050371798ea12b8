/*
 * libFuzzer target for the Venus codec: decodes a stream of commands
 * exactly as the renderer does (header, generated parameter tables,
 * object lookups against a small populated table, through the ring
 * thread's lookup cache) and encodes each command's reply, without calling
 * any Vulkan driver. Every input must end in success or a clean fatal stop.
 * Unknown ids become objects for the length of one input (learn()).
 * Between inputs an object is replaced (same id, other type and handle),
 * and the cache must then agree with the table on every id. Commands with
 * a generated straight-line decoder are decoded both ways, which must
 * agree on success, stream position, failure reason and every argument.
 *
 * Run: tests/fuzz/run.sh venus_decode [SECONDS].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venus/vn_codec.h"
#include "venus/vn_objects.h"

static struct vn_objects objs;
static struct vn_arena arena, arena2;
static struct vn_lookup_cache cache;

static void populate(void)
{
	/* One object of each type, id = 0x100 + type, plus a few extra
	 * ids so wrong-type lookups are reachable. */
	for (uint32_t t = 1; t < VN_OBJ_COUNT; t++)
		vn_objects_add(&objs, 0x100 + t, t, 0x10000 + t, NULL);
	for (uint32_t i = 1; i <= 8; i++)
		vn_objects_add(&objs, i, VN_OBJ_VkDevice + (i % 3), 0x20000 + i, NULL);
}

/* A stale cache entry would hand out a freed object's handle. */
static void check_cache(void)
{
	for (uint64_t id = 1; id < 0x100 + VN_OBJ_COUNT; id++) {
		for (uint32_t t = 1; t < VN_OBJ_COUNT; t++) {
			uint64_t h1 = 0, h2 = 0;
			struct vn_object *o;
			bool a = vn_objects_lookup(&objs, id, t, &h1);
			bool b = vn_objects_lookup_cached(&objs, &cache, id, t, &h2, &o);
			if (a != b || h1 != h2)
				abort();
		}
		if (id == 8)
			id = 0x100;
	}
}

static void replace_object(uint32_t id, uint32_t type)
{
	struct vn_object *o = vn_objects_get(&objs, id);
	if (o)
		vn_objects_remove(&objs, o);
	vn_objects_add(&objs, id, type, 0x30000 + type, NULL);
}

/* Deep comparison of what two decodes of one command produced: values,
 * and everything reachable through pointers (arrays, structs, pNext
 * chains, strings) by content, since each decode has its own arena.
 * Unions are skipped: both decoders reach them through decode_struct. */
static bool same_fields(const struct vn_field *fields, unsigned first, unsigned n,
			const void *a, const void *b, bool is_param);

static bool same_struct(uint16_t sid, const void *a, const void *b)
{
	const struct vn_struct_desc *s = &vn_struct_table[sid];
	return s->is_union || same_fields(s->fields, 0, s->nfields, a, b, false);
}

static bool same_elems(const struct vn_field *f, const char *a, const char *b, uint64_t n)
{
	if (f->kind == VN_K_STRUCT) {
		for (uint64_t i = 0; i < n; i++)
			if (!same_struct(f->type, a + i * f->elem_size, b + i * f->elem_size))
				return false;
		return true;
	}
	if (f->kind == VN_K_UNION)
		return true;
	uint64_t esize = f->kind == VN_K_HANDLE ? 8 : f->elem_size;
	return !memcmp(a, b, n * esize);
}

static bool same_pnext(const VkBaseInStructure *a, const VkBaseInStructure *b)
{
	for (; a && b; a = a->pNext, b = b->pNext) {
		if (a->sType != b->sType)
			return false;
		const struct vn_struct_desc *s = vn_struct_by_stype((int32_t)a->sType);
		if (s && !s->is_union && !same_fields(s->fields, 2, s->nfields, a, b, false))
			return false;
	}
	return !a && !b;
}

static bool same_strings(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_fields(const struct vn_field *fields, unsigned first, unsigned n,
			const void *a, const void *b, bool is_param)
{
	for (unsigned i = first; i < n; i++) {
		const struct vn_field *f = &fields[i];
		const char *x = (const char *)a + f->offset, *y = (const char *)b + f->offset;
		const void *px = NULL, *py = NULL;
		bool is_ptr = f->shape != VN_S_VALUE || f->kind == VN_K_PNEXT;
		if (f->shape == VN_S_FIXED && !is_param)
			is_ptr = false;
		if (is_ptr) {
			memcpy(&px, x, sizeof(px));
			memcpy(&py, y, sizeof(py));
		}
		switch (f->shape) {
		case VN_S_VALUE:
			if (f->kind == VN_K_PNEXT) {
				if (!same_pnext(px, py))
					return false;
			} else if (f->kind == VN_K_STRUCT) {
				if (!same_struct(f->type, x, y))
					return false;
			} else if (f->kind == VN_K_STYPE) {
				if (memcmp(x, y, 4))
					return false;
			} else if (f->kind != VN_K_ALLOCATOR && f->kind != VN_K_UNION &&
				   !same_elems(f, x, y, 1)) {
				return false;
			}
			break;
		case VN_S_FIXED:
			if (!is_param) {
				if (!same_elems(f, x, y, f->aux))
					return false;
				break;
			}
			/* fall through: a fixed array parameter is a pointer */
		case VN_S_PTR:
		case VN_S_ARRAY:
			if (!px != !py)
				return false;
			if (px && !same_elems(f, px, py, f->shape == VN_S_ARRAY ?
					      vn_field_count(fields, f, a) :
					      f->shape == VN_S_FIXED ? f->aux : 1))
				return false;
			break;
		case VN_S_STRING:
			if (!same_strings(px, py))
				return false;
			break;
		case VN_S_STRING_ARRAY:
			if (!px != !py)
				return false;
			for (uint64_t k = 0; px && k < vn_field_count(fields, f, a); k++)
				if (!same_strings(((char *const *)px)[k], ((char *const *)py)[k]))
					return false;
			break;
		default:
			break;
		}
	}
	return true;
}

static bool same_args(const struct vn_cmd_desc *c, const void *a, const void *b)
{
	return same_fields(c->params, 0, c->nparams, a, b, true);
}

/* Ids an input names that the table lacks become objects of the expected
 * type for that input, so recorded streams (the seeds: real Mesa ids)
 * decode past their handles into the arrays and structs behind them. */
#define MAX_LEARNED 64
static uint64_t learned[MAX_LEARNED];
static unsigned nlearned;

static bool learn(const struct vn_decoder *d)
{
	if (!d->unknown_id || nlearned == MAX_LEARNED || vn_objects_get(&objs, d->unknown_id))
		return false;
	if (!vn_objects_add(&objs, d->unknown_id, d->unknown_type, 0x50000 + nlearned, NULL))
		return false;
	learned[nlearned++] = d->unknown_id;
	return true;
}

static void forget(void)
{
	for (unsigned i = 0; i < nlearned; i++) {
		struct vn_object *o = vn_objects_get(&objs, learned[i]);
		if (o)
			vn_objects_remove(&objs, o);
	}
	nlearned = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static uint8_t reply[1 << 16];
	if (!ready) {
		vn_objects_init(&objs);
		vn_arena_init(&arena, 8u << 20);
		vn_arena_init(&arena2, 8u << 20);
		populate();
		ready = 1;
	}
	struct vn_decoder d;
	vn_decoder_init(&d, data, size, &arena, &objs);
	d.cache = &cache;
	while (d.pos < size && !d.fatal) {
		uint32_t type, flags;
		if (!vn_read_u32(&d, &type) || !vn_read_u32(&d, &flags))
			break;
		const struct vn_cmd_desc *c = type < VN_CMD_TYPE_COUNT ? vn_cmd_table[type] : NULL;
		if (!c)
			break;
		struct vn_decoder before = d;
		void *args;
		bool ok;
		for (;;) {
			vn_arena_reset(&arena);
			args = vn_arena_alloc(&arena, c->args_size);
			ok = args && vn_decode_params(&d, c, args);
			if (ok || !learn(&d))
				break;
			d = before;
		}
		if (args && vn_cmd_has_fast_decoder(type)) {
			struct vn_decoder d2 = before;
			d2.arena = &arena2;
			vn_arena_reset(&arena2);
			void *args2 = vn_arena_alloc(&arena2, c->args_size);
			bool ok2 = args2 && vn_decode_cmd(&d2, type, c, args2);
			if (ok != ok2 || d.pos != d2.pos || strcmp(d.why, d2.why) ||
			    (ok && !same_args(c, args, args2))) {
				fprintf(stderr, "%s: table walk %d at %zu (%s), generated %d at %zu (%s)\n",
					c->name, ok, d.pos, d.why, ok2, d2.pos, d2.why);
				abort();
			}
		}
		if (!ok)
			break;
		struct vn_encoder e = { .data = reply, .size = sizeof(reply), .objs = &objs };
		vn_encode_reply(&e, type, c, args);
	}
	vn_arena_reset(&arena);
	vn_arena_reset(&arena2);
	forget();
	if (size) {
		replace_object(1 + data[0] % 8, VN_OBJ_VkDevice + data[size - 1] % 3);
		check_cache();
	}
	return 0;
}
