#include "arch/arm64/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

int arm64_image_parse_header(const uint8_t *buf, size_t len,
			     struct arm64_image_header_info *info,
			     char *err, size_t errlen)
{
	if (len < ARM64_IMAGE_HEADER_SIZE) {
		snprintf(err, errlen, "not an arm64 Linux Image: file too short (%zu bytes)", len);
		return -1;
	}
	if (le32(buf + 0x38) != ARM64_IMAGE_MAGIC) {
		snprintf(err, errlen, "not an arm64 Linux Image: no \"ARM\\x64\" magic at offset 0x38");
		return -1;
	}
	info->text_offset = le64(buf + 8);
	info->image_size = le64(buf + 16);
	info->flags = le64(buf + 24);
	if (info->flags & 1) {
		snprintf(err, errlen, "big-endian arm64 kernels are not supported");
		return -1;
	}
	/* Kernels before 3.17 leave image_size 0; booting.rst says to assume
	 * text_offset 0x80000 then. Their BSS size is unknown, so reserve the
	 * file size plus generous slack. */
	if (info->image_size == 0) {
		info->text_offset = 0x80000;
		info->image_size = len + (32u << 20);
	}
	if (info->image_size < len)
		info->image_size = len;
	if (info->text_offset % 4096 || info->text_offset >= (2u << 20)) {
		snprintf(err, errlen, "arm64 Image has an invalid text_offset 0x%llx",
			 (unsigned long long)info->text_offset);
		return -1;
	}
	if (info->image_size > ARM64_IMAGE_MAX_SIZE) {
		snprintf(err, errlen, "arm64 Image claims %llu bytes, more than the %u MiB limit",
			 (unsigned long long)info->image_size, ARM64_IMAGE_MAX_SIZE >> 20);
		return -1;
	}
	return 0;
}

/* Inflates a gzip stream into a fresh buffer capped at ARM64_IMAGE_MAX_SIZE. */
static int gunzip(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
		  char *err, size_t errlen)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		snprintf(err, errlen, "zlib init failed");
		return -1;
	}
	size_t cap = in_len * 4 > (64u << 20) ? in_len * 4 : (64u << 20);
	if (cap > ARM64_IMAGE_MAX_SIZE)
		cap = ARM64_IMAGE_MAX_SIZE;
	uint8_t *buf = malloc(cap);
	int zr = Z_OK;
	if (!buf)
		goto nomem;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)(in_len > UINT32_MAX ? UINT32_MAX : in_len);
	for (;;) {
		zs.next_out = buf + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			goto corrupt;
		if (zs.avail_out == 0) {
			if (cap == ARM64_IMAGE_MAX_SIZE) {
				snprintf(err, errlen, "compressed kernel expands beyond %u MiB",
					 ARM64_IMAGE_MAX_SIZE >> 20);
				goto fail;
			}
			cap = cap * 2 > ARM64_IMAGE_MAX_SIZE ? ARM64_IMAGE_MAX_SIZE : cap * 2;
			uint8_t *n = realloc(buf, cap);
			if (!n)
				goto nomem;
			buf = n;
		} else if (zs.avail_in == 0) {
			goto corrupt;   /* input ended before the stream did */
		}
	}
	*out = buf;
	*out_len = zs.total_out;
	inflateEnd(&zs);
	return 0;
corrupt:
	snprintf(err, errlen, "corrupt or truncated gzip-compressed kernel%s%s",
		 zs.msg ? ": " : "", zs.msg ? zs.msg : "");
	goto fail;
nomem:
	snprintf(err, errlen, "out of memory decompressing the kernel");
fail:
	free(buf);
	inflateEnd(&zs);
	return -1;
}

/* EFI zboot (drivers/firmware/efi/libstub/zboot-header.S): "MZ", then
 * "zimg" at 4, payload offset and size at 8 and 12, compression name at 24. */
static int is_zboot(const uint8_t *buf, size_t len)
{
	return len >= 64 && buf[0] == 'M' && buf[1] == 'Z' && !memcmp(buf + 4, "zimg", 4);
}

int arm64_image_decode(const uint8_t *buf, size_t len, struct arm64_image *out,
		       char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const uint8_t *img = buf;
	size_t img_len = len;
	uint8_t *owned = NULL;

	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
		if (gunzip(buf, len, &owned, &img_len, err, errlen))
			return -1;
		out->packing = "gzip";
	} else if (is_zboot(buf, len)) {
		uint32_t off = le32(buf + 8), size = le32(buf + 12);
		char comp[9] = { 0 };
		memcpy(comp, buf + 24, 8);
		if (strcmp(comp, "gzip")) {
			snprintf(err, errlen, "EFI zboot kernel compressed with '%s' is not "
				 "supported: use a gzip zboot image or the plain Image", comp);
			return -1;
		}
		if (off > len || size > len - off) {
			snprintf(err, errlen, "EFI zboot kernel is truncated");
			return -1;
		}
		if (gunzip(buf + off, size, &owned, &img_len, err, errlen))
			return -1;
		out->packing = "EFI zboot (gzip)";
	} else {
		owned = malloc(len ? len : 1);
		if (!owned) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(owned, buf, len);
		out->packing = "Image";
	}
	img = owned;
	if (arm64_image_parse_header(img, img_len, &out->hdr, err, errlen)) {
		free(owned);
		return -1;
	}
	out->data = owned;
	out->size = img_len;
	return 0;
}

int arm64_image_load_file(const char *path, struct arm64_image *out,
			  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open kernel %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "kernel %s is not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > ARM64_IMAGE_MAX_SIZE) {
		snprintf(err, errlen, "kernel %s is larger than %u MiB", path,
			 ARM64_IMAGE_MAX_SIZE >> 20);
		close(fd);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len ? len : 1);
	size_t got = 0;
	while (buf && got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != len) {
		snprintf(err, errlen, "cannot read kernel %s", path);
		free(buf);
		return -1;
	}
	char sub[200];
	int r = arm64_image_decode(buf, len, out, sub, sizeof(sub));
	free(buf);
	if (r)
		snprintf(err, errlen, "%s: %s", path, sub);
	return r;
}

void arm64_image_free(struct arm64_image *img)
{
	free(img->data);
	img->data = NULL;
}
