/*
 * libFuzzer target for the Venus codec: decodes a stream of commands
 * exactly as the renderer does (header, generated parameter tables,
 * object lookups against a small populated table, through the ring
 * thread's lookup cache) and encodes each command's reply, without calling
 * any Vulkan driver. Every input must end in success or a clean fatal stop.
 * Between inputs an object is replaced (same id, other type and handle),
 * and the cache must then agree with the table on every id.
 *
 * Run: tests/fuzz/run.sh venus_decode [SECONDS].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "venus/vn_codec.h"
#include "venus/vn_objects.h"

static struct vn_objects objs;
static struct vn_arena arena;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static uint8_t reply[1 << 16];
	if (!ready) {
		vn_objects_init(&objs);
		vn_arena_init(&arena, 8u << 20);
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
		void *args = vn_arena_alloc(&arena, c->args_size);
		if (!args || !vn_decode_params(&d, c, args))
			break;
		struct vn_encoder e = { .data = reply, .size = sizeof(reply), .objs = &objs };
		vn_encode_reply(&e, type, c, args);
	}
	vn_arena_reset(&arena);
	if (size) {
		replace_object(1 + data[0] % 8, VN_OBJ_VkDevice + data[size - 1] % 3);
		check_cache();
	}
	return 0;
}
