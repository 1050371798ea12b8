/*
 * libFuzzer target for the Venus codec: decodes a stream of commands
 * exactly as the renderer does (header, generated parameter tables,
 * object lookups against a small populated table) and encodes each
 * command's reply, without calling any Vulkan driver. Every input must end
 * in success or a clean fatal stop.
 *
 * Run: tests/fuzz/run.sh venus_decode [SECONDS].
 */
#include <stdint.h>
#include <string.h>

#include "venus/vn_codec.h"
#include "venus/vn_objects.h"

static struct vn_objects objs;
static struct vn_arena arena;

static void populate(void)
{
	/* One object of each type, id = 0x100 + type, plus a few extra
	 * ids so wrong-type lookups are reachable. */
	for (uint32_t t = 1; t < VN_OBJ_COUNT; t++)
		vn_objects_add(&objs, 0x100 + t, t, 0x10000 + t, NULL);
	for (uint32_t i = 1; i <= 8; i++)
		vn_objects_add(&objs, i, VN_OBJ_VkDevice + (i % 3), 0x20000 + i, NULL);
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
	return 0;
}
