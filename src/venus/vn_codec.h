/*
 * The table-driven Venus codec. tools/gen_venus.py describes every struct,
 * union and command parameter the protocol carries as vn_field rows; this
 * module walks those rows to decode guest streams into native Vulkan
 * structs (allocated from a per-command arena) and to encode replies.
 *
 * Wire rules (VK_EXT_command_serialization): scalars are little-endian and
 * padded to 4 bytes; pointers and arrays start with a u64 element count
 * (0 = NULL, 1 = simple pointer); packed scalar arrays, strings and blobs
 * are padded to 4 once; handles are u64 guest object ids; a pNext link is a
 * u64 marker, the sType, the link's own pNext, then its members.
 */
#ifndef PV_VENUS_VN_CODEC_H
#define PV_VENUS_VN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "os/util.h"
#include "venus/vn_gen.h"

enum vn_kind {
	VN_K_U8 = 1, VN_K_U16, VN_K_U32, VN_K_U64,
	VN_K_HANDLE, VN_K_STRUCT, VN_K_UNION,
	VN_K_BLOB,      /* void* bytes */
	VN_K_STYPE, VN_K_PNEXT,
	VN_K_ALLOCATOR, /* VkAllocationCallbacks*: must be NULL on the wire */
};

enum vn_shape {
	VN_S_VALUE,        /* inline */
	VN_S_FIXED,        /* inline array [aux] */
	VN_S_PTR,          /* pointer to one element */
	VN_S_ARRAY,        /* pointer to len elements */
	VN_S_STRING,       /* NUL-terminated char* */
	VN_S_STRING_ARRAY, /* const char* const*, len strings */
};

enum vn_len {
	VN_L_NONE, VN_L_FIELD, VN_L_FIELD_PTR, VN_L_DIV4, VN_L_SAMPLEMASK,
	VN_L_FIELD_MEMBER,
};

#define VN_F_CONST 0x1u
#define VN_F_OPTIONAL 0x2u
#define VN_F_COUNT 0x4u /* the len of a pointer array: kept in out structs */

struct vn_field {
	const char *name;
	uint32_t offset;
	uint32_t elem_size;
	uint8_t kind, shape, len_kind, flags;
	uint16_t type; /* enum vn_struct_id or enum vn_object_type */
	uint16_t len_field;
	uint32_t aux;  /* FIXED: count; FIELD_MEMBER: member offset */
	uint32_t len_size;
};

struct vn_struct_desc {
	const char *name;
	uint32_t size;
	int32_t stype;
	uint8_t has_stype, is_union;
	uint16_t nfields;
	const struct vn_field *fields;
};

extern const struct vn_struct_desc vn_struct_table[VN_STRUCT_COUNT];

enum vn_level { VN_LEVEL_GLOBAL, VN_LEVEL_INSTANCE, VN_LEVEL_DEVICE };
enum vn_ret { VN_RET_VOID, VN_RET_RESULT, VN_RET_U32, VN_RET_U64 };
enum vn_life { VN_LIFE_NONE, VN_LIFE_CREATE, VN_LIFE_DESTROY };
enum vn_parent { VN_PARENT_NONE, VN_PARENT_PARAM, VN_PARENT_MEMBER };

struct vn_cmd_desc {
	const char *name;
	uint32_t args_size;
	uint16_t nparams;
	const struct vn_field *params;
	uint8_t level, ret;
	uint32_t ret_offset;
	void (*call)(const void *fns, void *args);
	uint8_t life, life_param;
	uint8_t parent_kind, parent_param;
	uint32_t parent_offset;
};

/* Bump allocator for one command's decoded structs; bounded so a hostile
 * count cannot take the host's memory. */
struct vn_arena_block {
	struct vn_arena_block *next;
	size_t size, used;
	max_align_t data[];
};

#define VN_ARENA_BLOCK (64 * 1024)

struct vn_arena {
	struct vn_arena_block *blocks;
	size_t used, limit;
};
void vn_arena_init(struct vn_arena *a, size_t limit);
void vn_arena_fini(struct vn_arena *a);
void *vn_arena_alloc_slow(struct vn_arena *a, size_t size);
void vn_arena_reset_slow(struct vn_arena *a);

/* The common cases inline (the replay allocates and resets once per
 * command): room in the current block; only the standard block to reset. */

/* Zeroed; NULL past the limit. */
static inline void *vn_arena_alloc(struct vn_arena *a, size_t size)
{
	if (size > a->limit)
		return NULL; /* also keeps the rounding below from wrapping */
	size = PV_ALIGN_UP(size ? size : 1, (size_t)16);
	struct vn_arena_block *b = a->blocks;
	if (__builtin_expect(b && size <= a->limit && a->used <= a->limit - size &&
			     b->size - b->used >= size, 1)) {
		void *p = (char *)b->data + b->used;
		b->used += size;
		a->used += size;
		memset(p, 0, size);
		return p;
	}
	return vn_arena_alloc_slow(a, size);
}

static inline void vn_arena_reset(struct vn_arena *a)
{
	struct vn_arena_block *b = a->blocks;
	if (__builtin_expect(b && !b->next && b->size == VN_ARENA_BLOCK, 1)) {
		b->used = 0;
		a->used = 0;
		return;
	}
	vn_arena_reset_slow(a);
}

struct vn_objects;
struct vn_object;

struct vn_decoder {
	const uint8_t *data;
	size_t size, pos;
	struct vn_arena *arena;
	struct vn_objects *objs;
	const char *cmd_name; /* for the loss message */
	/* Optional memo of id lookups (the decoding thread's own). */
	struct vn_lookup_cache *cache;
	/* The object of the command's first handle parameter, when the
	 * cache found it: dispatch needs it again. */
	struct vn_object *first_obj;
	bool fatal;
	char why[192];
	unsigned depth;
	/* The id and expected type of the handle that failed as unknown (the
	 * decode fuzz target creates such objects to get further). */
	uint64_t unknown_id;
	uint32_t unknown_type;
};

struct vn_encoder {
	uint8_t *data;
	size_t size, pos;
	struct vn_objects *objs;
	bool overflow;
};

void vn_decoder_init(struct vn_decoder *d, const void *data, size_t size,
		     struct vn_arena *arena, struct vn_objects *objs);
/* Marks the stream fatal once; the first reason wins. */
void vn_decoder_fail(struct vn_decoder *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Fails the stream as truncated at its position (once). */
void vn_decoder_truncated(struct vn_decoder *d);

/* The next n bytes of the stream, or NULL (and the stream failed). Always
 * inline (GCC kept out-of-line copies of these three): replaying a
 * recorded command buffer reads a few words per command, and a call per
 * word was a large share of the decode. */
#define VN_ALWAYS_INLINE static inline __attribute__((always_inline))
VN_ALWAYS_INLINE const uint8_t *vn_take(struct vn_decoder *d, size_t n)
{
	/* pos <= size always holds (vn_decoder_init starts at 0 and this is
	 * the only place pos moves), so size - pos cannot wrap. */
	size_t pos = d->pos;
	if (__builtin_expect(!d->fatal && n <= d->size - pos, 1)) {
		d->pos = pos + n;
		return d->data + pos;
	}
	vn_decoder_truncated(d);
	return NULL;
}

VN_ALWAYS_INLINE bool vn_read_u32(struct vn_decoder *d, uint32_t *v)
{
	const uint8_t *p = vn_take(d, 4);
	if (!p)
		return false;
	memcpy(v, p, 4);
	return true;
}

VN_ALWAYS_INLINE bool vn_read_u64(struct vn_decoder *d, uint64_t *v)
{
	const uint8_t *p = vn_take(d, 8);
	if (!p)
		return false;
	memcpy(v, p, 8);
	return true;
}
bool vn_peek_u64(const struct vn_decoder *d, uint64_t *v);

void vn_write_u32(struct vn_encoder *e, uint32_t v);
void vn_write_u64(struct vn_encoder *e, uint64_t v);
void vn_write_bytes(struct vn_encoder *e, const void *p, size_t n); /* padded to 4 */

/* Decodes a command's parameters into args (args_size bytes, zeroed). Out
 * parameters follow the "partial" rule. Out handles get room for ids: a
 * pointer p to n handles is followed in memory by n u64 guest ids
 * (vn_out_ids). Returns false when the stream went fatal. */
bool vn_decode_params(struct vn_decoder *d, const struct vn_cmd_desc *c, void *args);
/* The same for command `type`, through its generated straight-line decoder
 * when it has one (same result, same stream position, same failure). */
bool vn_decode_cmd(struct vn_decoder *d, uint32_t type, const struct vn_cmd_desc *c, void *args);
bool vn_cmd_has_fast_decoder(uint32_t type);
/* Encodes the reply (type, return value, out parameters). */
void vn_encode_reply(struct vn_encoder *e, uint32_t cmd_type,
		     const struct vn_cmd_desc *c, const void *args);
/* Element count of an array field of params/struct base after the call. */
uint64_t vn_field_count(const struct vn_field *fields, const struct vn_field *f,
			const void *base);
bool vn_field_is_out(const struct vn_field *f);

static inline uint64_t *vn_out_ids(void *handles, uint64_t n)
{
	return (uint64_t *)handles + n;
}

const struct vn_struct_desc *vn_struct_by_stype(int32_t stype);

#endif
