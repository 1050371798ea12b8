/*
 * Venus codec tests: decoding real command layouts, reply encoding, and
 * hostile streams (truncation at every byte, bad ids, wrong object types,
 * count mismatches, unknown sTypes, unterminated strings).
 */
#include <string.h>

#include "test.h"
#include "venus/vn_codec.h"
#include "venus/vn_objects.h"
#include "venus_buf.h"

#define DEVICE_ID 0x1000
#define DEVICE_HANDLE 0xd00d
#define BUFFER_ID 0x2000
#define BUFFER_HANDLE 0xb0b0

/* vkCreateBuffer's parameters (after the command header), as a guest
 * driver encodes them. */
static void create_buffer_params(struct buf *b, uint64_t device_id, uint32_t nqf,
				 uint64_t array_size)
{
	u64(b, device_id);
	u64(b, 1); /* pCreateInfo */
	u32(b, VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
	u64(b, 0); /* pNext */
	u32(b, 0); /* flags */
	u64(b, 65536); /* size */
	u32(b, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
	u32(b, VK_SHARING_MODE_CONCURRENT);
	u32(b, nqf);
	u64(b, array_size);
	for (uint64_t i = 0; i < (array_size < 8 ? array_size : 0); i++)
		u32(b, (uint32_t)i + 5);
	u64(b, 0); /* pAllocator */
	u64(b, 1); /* pBuffer */
	u64(b, BUFFER_ID);
}

static void setup(struct vn_objects *t, struct vn_arena *a)
{
	vn_objects_init(t);
	vn_arena_init(a, 1 << 20);
	vn_objects_add(t, DEVICE_ID, VN_OBJ_VkDevice, DEVICE_HANDLE, NULL);
}

TEST(venus_decode_create_buffer)
{
	struct vn_objects t;
	struct vn_arena a;
	setup(&t, &a);
	struct buf b = { .n = 0 };
	create_buffer_params(&b, DEVICE_ID, 2, 2);
	struct vn_decoder d;
	vn_decoder_init(&d, b.d, b.n, &a, &t);
	struct vn_args_vkCreateBuffer args;
	memset(&args, 0, sizeof(args));
	CHECK(vn_decode_params(&d, &vn_cmd_vkCreateBuffer, &args));
	CHECK_EQ(d.pos, b.n);
	CHECK_EQ((uintptr_t)args.device, DEVICE_HANDLE);
	CHECK(args.pCreateInfo != NULL);
	if (args.pCreateInfo) {
		CHECK_EQ(args.pCreateInfo->sType, VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
		CHECK_EQ(args.pCreateInfo->size, 65536);
		CHECK_EQ(args.pCreateInfo->usage, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
		CHECK_EQ(args.pCreateInfo->queueFamilyIndexCount, 2);
		CHECK(args.pCreateInfo->pQueueFamilyIndices != NULL);
		if (args.pCreateInfo->pQueueFamilyIndices)
			CHECK_EQ(args.pCreateInfo->pQueueFamilyIndices[1], 6);
	}
	CHECK(args.pBuffer != NULL);
	if (args.pBuffer)
		CHECK_EQ(vn_out_ids(args.pBuffer, 1)[0], BUFFER_ID);

	/* The reply carries the result and the guest's id back. */
	*args.pBuffer = (VkBuffer)(uintptr_t)BUFFER_HANDLE;
	args.ret = VK_SUCCESS;
	uint8_t out[64];
	struct vn_encoder e = { .data = out, .size = sizeof(out), .objs = &t };
	vn_encode_reply(&e, VN_CMD_vkCreateBuffer, &vn_cmd_vkCreateBuffer, &args);
	CHECK(!e.overflow);
	CHECK_EQ(e.pos, 4 + 4 + 8 + 8);
	uint32_t w[6];
	memcpy(w, out, sizeof(w));
	CHECK_EQ(w[0], VN_CMD_vkCreateBuffer);
	CHECK_EQ(w[1], VK_SUCCESS);
	uint64_t marker, id;
	memcpy(&marker, out + 8, 8);
	memcpy(&id, out + 16, 8);
	CHECK_EQ(marker, 1);
	CHECK_EQ(id, BUFFER_ID);

	/* A reply that does not fit is reported, not written past the end. */
	struct vn_encoder small = { .data = out, .size = 12, .objs = &t };
	vn_encode_reply(&small, VN_CMD_vkCreateBuffer, &vn_cmd_vkCreateBuffer, &args);
	CHECK(small.overflow);
	vn_arena_fini(&a);
	vn_objects_fini(&t);
}

/* A fixed-size array parameter is a pointer in C: the floats must land in
 * the arena, and the pointer must point at them (vkCmdSetBlendConstants). */
TEST(venus_decode_fixed_array_param)
{
	struct vn_objects t;
	struct vn_arena a;
	setup(&t, &a);
	vn_objects_add(&t, 0x3000, VN_OBJ_VkCommandBuffer, 0xcb, NULL);
	struct buf b = { .n = 0 };
	u64(&b, 0x3000);
	u64(&b, 4);
	const float k[4] = { 0.25f, 0.5f, 0.75f, 1.0f };
	for (int i = 0; i < 4; i++) {
		uint32_t v;
		memcpy(&v, &k[i], 4);
		u32(&b, v);
	}
	struct vn_decoder d;
	vn_decoder_init(&d, b.d, b.n, &a, &t);
	struct vn_args_vkCmdSetBlendConstants args;
	memset(&args, 0, sizeof(args));
	CHECK(vn_decode_params(&d, &vn_cmd_vkCmdSetBlendConstants, &args));
	CHECK_EQ(d.pos, b.n);
	CHECK(args.blendConstants != NULL);
	if (args.blendConstants)
		CHECK(!memcmp(args.blendConstants, k, sizeof(k)));
	CHECK_EQ(args.pad_, 0);

	/* A wrong element count is refused. */
	struct buf bad = b;
	uint64_t three = 3;
	memcpy(bad.d + 8, &three, 8);
	vn_decoder_init(&d, bad.d, bad.n, &a, &t);
	memset(&args, 0, sizeof(args));
	CHECK(!vn_decode_params(&d, &vn_cmd_vkCmdSetBlendConstants, &args));
	vn_arena_fini(&a);
	vn_objects_fini(&t);
}

TEST(venus_decode_truncated_everywhere)
{
	struct vn_objects t;
	struct vn_arena a;
	setup(&t, &a);
	struct buf b = { .n = 0 };
	create_buffer_params(&b, DEVICE_ID, 2, 2);
	for (size_t len = 0; len < b.n; len++) {
		struct vn_decoder d;
		struct vn_args_vkCreateBuffer args;
		memset(&args, 0, sizeof(args));
		vn_arena_reset(&a);
		vn_decoder_init(&d, b.d, len, &a, &t);
		CHECK(!vn_decode_params(&d, &vn_cmd_vkCreateBuffer, &args));
		CHECK(strstr(d.why, "truncated") != NULL);
	}
	vn_arena_fini(&a);
	vn_objects_fini(&t);
}

static bool decode_buffer(struct vn_objects *t, struct vn_arena *a, struct buf *b,
			  char *why, size_t why_size)
{
	struct vn_decoder d;
	struct vn_args_vkCreateBuffer args;
	memset(&args, 0, sizeof(args));
	vn_arena_reset(a);
	vn_decoder_init(&d, b->d, b->n, a, t);
	bool ok = vn_decode_params(&d, &vn_cmd_vkCreateBuffer, &args);
	snprintf(why, why_size, "%s", d.why);
	return ok;
}

TEST(venus_decode_hostile_ids_and_counts)
{
	struct vn_objects t;
	struct vn_arena a;
	setup(&t, &a);
	vn_objects_add(&t, BUFFER_ID + 1, VN_OBJ_VkBuffer, 0x77, NULL);
	char why[200];
	struct buf b = { .n = 0 };

	create_buffer_params(&b, 0x9999, 2, 2); /* unknown device id */
	CHECK(!decode_buffer(&t, &a, &b, why, sizeof(why)));
	CHECK(strstr(why, "unknown VkDevice id") != NULL);

	b.n = 0;
	create_buffer_params(&b, BUFFER_ID + 1, 2, 2); /* a buffer, not a device */
	CHECK(!decode_buffer(&t, &a, &b, why, sizeof(why)));
	CHECK(strstr(why, "is a VkBuffer, not a VkDevice") != NULL);

	b.n = 0;
	create_buffer_params(&b, DEVICE_ID, 2, 3); /* array size != count */
	CHECK(!decode_buffer(&t, &a, &b, why, sizeof(why)));
	CHECK(strstr(why, "does not match count") != NULL);

	b.n = 0;
	create_buffer_params(&b, DEVICE_ID, 0xffffffffu, 0xffffffffu); /* huge */
	CHECK(!decode_buffer(&t, &a, &b, why, sizeof(why)));

	/* A pAllocator is never accepted. */
	b.n = 0;
	create_buffer_params(&b, DEVICE_ID, 0, 0);
	memset(b.d + b.n - 24, 0, 8);
	b.d[b.n - 24] = 1;
	CHECK(!decode_buffer(&t, &a, &b, why, sizeof(why)));

	/* Unknown sType in pNext. */
	b.n = 0;
	u64(&b, DEVICE_ID);
	u64(&b, 1);
	u32(&b, VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
	u64(&b, 1);
	u32(&b, 0x7ffffff0u);
	CHECK(!decode_buffer(&t, &a, &b, why, sizeof(why)));
	CHECK(strstr(why, "unknown sType") != NULL);

	/* Wrong sType for the struct itself is still decoded by layout (the
	 * host driver validates), but a bad pointer marker is fatal. */
	b.n = 0;
	u64(&b, DEVICE_ID);
	u64(&b, 7);
	CHECK(!decode_buffer(&t, &a, &b, why, sizeof(why)));
	CHECK(strstr(why, "marker") != NULL);

	vn_arena_fini(&a);
	vn_objects_fini(&t);
}

TEST(venus_decode_strings)
{
	struct vn_objects t;
	struct vn_arena a;
	setup(&t, &a);
	/* vkCreateInstance with application name "pv" and one extension. */
	struct buf b = { .n = 0 };
	u64(&b, 1);
	u32(&b, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
	u64(&b, 0);
	u32(&b, 0);
	u64(&b, 1); /* pApplicationInfo */
	u32(&b, VK_STRUCTURE_TYPE_APPLICATION_INFO);
	u64(&b, 0);
	u64(&b, 3);
	memcpy(b.d + b.n, "pv\0\0", 4);
	b.n += 4;
	u32(&b, 1);
	u64(&b, 0); /* pEngineName */
	u32(&b, 0);
	u32(&b, VK_API_VERSION_1_1);
	u32(&b, 0); /* layers */
	u64(&b, 0);
	u32(&b, 1); /* extensions */
	u64(&b, 1);
	u64(&b, 5);
	size_t ext_at = b.n;
	memcpy(b.d + b.n, "VK_X\0\0\0\0", 8);
	b.n += 8;
	u64(&b, 0); /* pAllocator */
	u64(&b, 1);
	u64(&b, 42); /* pInstance id */
	struct vn_decoder d;
	struct vn_args_vkCreateInstance args;
	memset(&args, 0, sizeof(args));
	vn_decoder_init(&d, b.d, b.n, &a, &t);
	CHECK(vn_decode_params(&d, &vn_cmd_vkCreateInstance, &args));
	CHECK(args.pCreateInfo && args.pCreateInfo->pApplicationInfo);
	if (args.pCreateInfo && args.pCreateInfo->pApplicationInfo) {
		CHECK(!strcmp(args.pCreateInfo->pApplicationInfo->pApplicationName, "pv"));
		CHECK(args.pCreateInfo->pApplicationInfo->pEngineName == NULL);
		CHECK_EQ(args.pCreateInfo->enabledExtensionCount, 1);
		CHECK(!strcmp(args.pCreateInfo->ppEnabledExtensionNames[0], "VK_X"));
	}
	/* The same stream with the terminator overwritten must fail. */
	b.d[ext_at + 4] = 'Y';
	vn_arena_reset(&a);
	memset(&args, 0, sizeof(args));
	vn_decoder_init(&d, b.d, b.n, &a, &t);
	CHECK(!vn_decode_params(&d, &vn_cmd_vkCreateInstance, &args));
	CHECK(strstr(d.why, "not terminated") != NULL);
	vn_arena_fini(&a);
	vn_objects_fini(&t);
}

TEST(venus_objects_parent_removal)
{
	struct vn_objects t;
	vn_objects_init(&t);
	struct vn_object *dev = vn_objects_add(&t, 1, VN_OBJ_VkDevice, 10, NULL);
	struct vn_object *pool = vn_objects_add(&t, 2, VN_OBJ_VkCommandPool, 20, dev);
	for (uint64_t i = 0; i < 1000; i++)
		CHECK(vn_objects_add(&t, 100 + i, VN_OBJ_VkCommandBuffer, 1000 + i, pool) != NULL);
	CHECK(vn_objects_add(&t, 2, VN_OBJ_VkBuffer, 30, dev) == NULL); /* id in use */
	CHECK(vn_objects_add(&t, 0, VN_OBJ_VkBuffer, 30, dev) == NULL); /* id 0 */
	CHECK_EQ(vn_objects_count(&t), 1002);
	CHECK_EQ(vn_objects_id_of(&t, VN_OBJ_VkCommandBuffer, 1500), 600);
	uint64_t h = 0;
	CHECK(!vn_objects_lookup(&t, 600, VN_OBJ_VkBuffer, &h));
	CHECK(vn_objects_lookup(&t, 600, VN_OBJ_VkCommandBuffer, &h));
	CHECK_EQ(h, 1500);
	vn_objects_remove(&t, pool);
	CHECK_EQ(vn_objects_count(&t), 1);
	CHECK(vn_objects_get(&t, 600) == NULL);
	vn_objects_fini(&t);
}

TEST(venus_extension_table_sorted_and_has_protocol)
{
	bool cs = false, mesa = false;
	for (size_t i = 0; i < vn_extension_count; i++) {
		if (i)
			CHECK(strcmp(vn_extension_table[i - 1].name, vn_extension_table[i].name) < 0);
		cs |= !strcmp(vn_extension_table[i].name, "VK_EXT_command_serialization");
		mesa |= !strcmp(vn_extension_table[i].name, "VK_MESA_venus_protocol") &&
			vn_extension_table[i].number == 385;
	}
	CHECK(cs);
	CHECK(mesa);
	CHECK(vn_cmd_table[VN_CMD_vkCreateRingMESA] != NULL);
	CHECK(vn_cmd_table[VN_CMD_vkQueueSubmit2] == &vn_cmd_vkQueueSubmit2);
}
