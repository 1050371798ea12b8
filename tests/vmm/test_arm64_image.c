#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "arch/arm64/image.h"
#include "../unit/test.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* A fake Image: header plus a recognizable body. */
static uint8_t *make_image(size_t len, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	uint8_t *b = calloc(1, len);
	put_le64(b + 8, text_offset);
	put_le64(b + 16, image_size);
	put_le64(b + 24, flags);
	put_le32(b + 0x38, ARM64_IMAGE_MAGIC);
	for (size_t i = 64; i < len; i++)
		b[i] = (uint8_t)(i * 7);
	return b;
}

static uint8_t *gzip_buf(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	size_t cap = deflateBound(&zs, len) + 32;
	uint8_t *out = malloc(cap);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

TEST(plain_image)
{
	uint8_t *b = make_image(4096, 0, 0x200000, 0xa);
	struct arm64_image img;
	char err[200] = "";
	CHECK_EQ(arm64_image_decode(b, 4096, &img, err, sizeof(err)), 0);
	CHECK_EQ(img.size, 4096);
	CHECK_EQ(img.hdr.text_offset, 0);
	CHECK_EQ(img.hdr.image_size, 0x200000);
	CHECK_EQ(img.hdr.flags, 0xa);
	CHECK(!strcmp(img.packing, "Image"));
	CHECK(img.data && !memcmp(img.data, b, 4096));
	arm64_image_free(&img);
	free(b);
}

TEST(truncated_header)
{
	uint8_t *b = make_image(4096, 0, 0x200000, 0);
	struct arm64_image img;
	char err[200] = "";
	CHECK_EQ(arm64_image_decode(b, 40, &img, err, sizeof(err)), -1);
	CHECK(strstr(err, "too short") != NULL);
	CHECK(img.data == NULL);
	free(b);
}

TEST(bad_magic)
{
	uint8_t *b = make_image(4096, 0, 0x200000, 0);
	b[0x38] = 'X';
	struct arm64_image img;
	char err[200] = "";
	CHECK_EQ(arm64_image_decode(b, 4096, &img, err, sizeof(err)), -1);
	CHECK(strstr(err, "not an arm64 Linux Image") != NULL);
	free(b);
}

TEST(big_endian_and_bad_fields_rejected)
{
	struct arm64_image_header_info info;
	char err[200];
	uint8_t *b = make_image(4096, 0, 0x200000, 1);
	CHECK_EQ(arm64_image_parse_header(b, 4096, &info, err, sizeof(err)), -1);
	CHECK(strstr(err, "big-endian") != NULL);
	free(b);
	b = make_image(4096, 0x123, 0x200000, 0);   /* unaligned text_offset */
	CHECK_EQ(arm64_image_parse_header(b, 4096, &info, err, sizeof(err)), -1);
	free(b);
	b = make_image(4096, 0, UINT64_MAX, 0);      /* absurd image_size */
	CHECK_EQ(arm64_image_parse_header(b, 4096, &info, err, sizeof(err)), -1);
	free(b);
}

TEST(old_kernel_without_image_size)
{
	struct arm64_image_header_info info;
	char err[200];
	uint8_t *b = make_image(4096, 0, 0, 0);
	CHECK_EQ(arm64_image_parse_header(b, 4096, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.text_offset, 0x80000);
	CHECK(info.image_size >= 4096);
	free(b);
}

TEST(gzip_image)
{
	size_t len = 1 << 20, zlen;
	uint8_t *b = make_image(len, 0, 2 << 20, 0);
	uint8_t *z = gzip_buf(b, len, &zlen);
	CHECK(zlen < len);
	struct arm64_image img;
	char err[200] = "";
	CHECK_EQ(arm64_image_decode(z, zlen, &img, err, sizeof(err)), 0);
	CHECK_EQ(img.size, len);
	CHECK(!strcmp(img.packing, "gzip"));
	CHECK(img.data && !memcmp(img.data, b, len));
	arm64_image_free(&img);

	/* Truncated stream: an error, not a partial kernel. */
	CHECK_EQ(arm64_image_decode(z, zlen / 2, &img, err, sizeof(err)), -1);
	CHECK(strstr(err, "gzip") != NULL);
	/* Corrupt stream. */
	memset(z + 20, 0xff, 64);
	CHECK_EQ(arm64_image_decode(z, zlen, &img, err, sizeof(err)), -1);
	free(z);
	free(b);
}

TEST(gzip_of_garbage_is_not_an_image)
{
	uint8_t junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31);
	size_t zlen;
	uint8_t *z = gzip_buf(junk, sizeof(junk), &zlen);
	struct arm64_image img;
	char err[200] = "";
	CHECK_EQ(arm64_image_decode(z, zlen, &img, err, sizeof(err)), -1);
	CHECK(strstr(err, "magic") != NULL);
	free(z);
}

static uint8_t *make_zboot(const char *comp, const uint8_t *payload, size_t plen, size_t *out_len)
{
	size_t len = 512 + plen;
	uint8_t *b = calloc(1, len);
	b[0] = 'M';
	b[1] = 'Z';
	memcpy(b + 4, "zimg", 4);
	put_le32(b + 8, 512);
	put_le32(b + 12, (uint32_t)plen);
	memcpy(b + 24, comp, strlen(comp));
	memcpy(b + 512, payload, plen);
	*out_len = len;
	return b;
}

TEST(efi_zboot)
{
	size_t len = 64 << 10, zlen, blen;
	uint8_t *b = make_image(len, 0, 1 << 20, 0);
	uint8_t *z = gzip_buf(b, len, &zlen);
	uint8_t *zb = make_zboot("gzip", z, zlen, &blen);
	struct arm64_image img;
	char err[200] = "";
	CHECK_EQ(arm64_image_decode(zb, blen, &img, err, sizeof(err)), 0);
	CHECK_EQ(img.size, len);
	CHECK(!strcmp(img.packing, "EFI zboot (gzip)"));
	arm64_image_free(&img);
	free(zb);

	zb = make_zboot("zstd", z, zlen, &blen);
	CHECK_EQ(arm64_image_decode(zb, blen, &img, err, sizeof(err)), -1);
	CHECK(strstr(err, "zstd") && strstr(err, "not supported"));
	/* Payload size pointing past the file. */
	put_le32(zb + 12, 0xffffff00u);
	memcpy(zb + 24, "gzip", 4);
	CHECK_EQ(arm64_image_decode(zb, blen, &img, err, sizeof(err)), -1);
	CHECK(strstr(err, "truncated") != NULL);
	free(zb);
	free(z);
	free(b);
}

TEST(load_file_errors)
{
	struct arm64_image img;
	char err[300] = "";
	CHECK_EQ(arm64_image_load_file("/nonexistent/kernel", &img, err, sizeof(err)), -1);
	CHECK(strstr(err, "cannot open") != NULL);
	CHECK_EQ(arm64_image_load_file("/", &img, err, sizeof(err)), -1);
}
