/*
 * The Linux arm64 Image format (Documentation/arch/arm64/booting.rst): a
 * 64-byte header with magic "ARM\x64" at 0x38, text_offset, image_size and
 * flags. Debian may ship it gzip-compressed, and newer kernels may be EFI
 * zboot images (a PE stub wrapping a compressed Image); both are unwrapped
 * here when the compression is gzip.
 */
#ifndef PV_ARCH_ARM64_IMAGE_H
#define PV_ARCH_ARM64_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_IMAGE_MAGIC       0x644d5241u   /* "ARM\x64" little-endian */
#define ARM64_IMAGE_MAX_SIZE    (512u << 20)  /* cap on a decompressed kernel */

struct arm64_image_header_info {
	uint64_t text_offset;
	uint64_t image_size;    /* bytes the kernel needs, BSS included */
	uint64_t flags;
};

/* Header check on an uncompressed Image. Returns 0 or -1 with err set. */
int arm64_image_parse_header(const uint8_t *buf, size_t len,
			     struct arm64_image_header_info *info,
			     char *err, size_t errlen);

struct arm64_image {
	uint8_t *data;          /* uncompressed Image, malloc'd */
	size_t size;
	struct arm64_image_header_info hdr;
	const char *packing;    /* "Image", "gzip", "EFI zboot (gzip)" */
};

/* Unwraps (gzip / EFI zboot) and checks an in-memory kernel file. */
int arm64_image_decode(const uint8_t *buf, size_t len, struct arm64_image *out,
		       char *err, size_t errlen);

/* Reads and decodes a kernel file. */
int arm64_image_load_file(const char *path, struct arm64_image *out,
			  char *err, size_t errlen);

void arm64_image_free(struct arm64_image *img);

#endif
