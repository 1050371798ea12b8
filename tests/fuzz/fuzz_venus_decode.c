/*
 * libFuzzer target for the Venus codec: decodes a stream of commands
 * exactly as the renderer does (header, generated parameter tables,
 * object lookups against a small populated table, through the ring
 * thread's lookup cache) and encodes each command's reply, without calling
 * any Vulkan driver. Every input must end in success or a clean fatal stop.
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

/* The arguments two decodes of one command produced: values, and arrays
 * of plain elements by content. Anything else holds pointers into each
 * decode's own arena; both decoders reach it through the same
 * decode_field call, so only its presence is compared. */
static bool same_args(const struct vn_cmd_desc *c, const void *a, const void *b)
{
	for (unsigned i = 0; i < c->nparams; i++) {
		const struct vn_field *f = &c->params[i];
		const char *x = (const char *)a + f->offset, *y = (const char *)b + f->offset;
		if (f->shape == VN_S_VALUE) {
			if (memcmp(x, y, f->kind == VN_K_HANDLE ? 8 : f->elem_size))
				return false;
			continue;
		}
		const void *px, *py;
		memcpy(&px, x, sizeof(px));
		memcpy(&py, y, sizeof(py));
		if (!px != !py)
			return false;
		bool plain = f->kind == VN_K_HANDLE || f->kind == VN_K_BLOB ||
			     (f->kind >= VN_K_U8 && f->kind <= VN_K_U64);
		if (!px || !plain || f->shape != VN_S_ARRAY || !(f->flags & VN_F_CONST))
			continue;
		uint64_t n = vn_field_count(c->params, f, a);
		uint64_t esize = f->kind == VN_K_HANDLE ? 8 : f->elem_size;
		if (memcmp(px, py, n * esize))
			return false;
	}
	return true;
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
		vn_arena_reset(&arena);
		struct vn_decoder before = d;
		void *args = vn_arena_alloc(&arena, c->args_size);
		bool ok = args && vn_decode_params(&d, c, args);
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
	if (size) {
		replace_object(1 + data[0] % 8, VN_OBJ_VkDevice + data[size - 1] % 3);
		check_cache();
	}
	return 0;
}
