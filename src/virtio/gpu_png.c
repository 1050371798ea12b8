/* A minimal PNG writer (8-bit RGB, one IDAT, zlib for the compression and
 * the CRC) so screenshots need no libpng. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "os/log.h"
#include "virtio/gpu.h"

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int write_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t hdr[8], crcb[4];
	put_be32(hdr, len);
	memcpy(hdr + 4, type, 4);
	uLong crc = crc32(0, hdr + 4, 4);
	if (len)
		crc = crc32(crc, data, len);
	put_be32(crcb, (uint32_t)crc);
	if (fwrite(hdr, 1, 8, f) != 8 || (len && fwrite(data, 1, len, f) != len) ||
	    fwrite(crcb, 1, 4, f) != 4)
		return -EIO;
	return 0;
}

int pv_png_write_rgb(const char *path, const uint8_t *rgb, uint32_t w, uint32_t h)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	if (!w || !h || w > 16384 || h > 16384)
		return -EINVAL;
	/* Each row gets a filter byte (0 = none). */
	size_t row = (size_t)w * 3 + 1, raw_len = row * h;
	uint8_t *raw = malloc(raw_len);
	uLongf zlen = compressBound(raw_len);
	uint8_t *z = malloc(zlen);
	int err = 0;
	if (!raw || !z) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t y = 0; y < h; y++) {
		raw[y * row] = 0;
		memcpy(raw + y * row + 1, rgb + (size_t)y * w * 3, (size_t)w * 3);
	}
	if (compress2(z, &zlen, raw, raw_len, 6) != Z_OK) {
		err = -EIO;
		goto out;
	}
	uint8_t ihdr[13];
	put_be32(ihdr, w);
	put_be32(ihdr + 4, h);
	ihdr[8] = 8;     /* bit depth */
	ihdr[9] = 2;     /* colour type: truecolour */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	FILE *f = fopen(path, "wb");
	if (!f) {
		err = -errno;
		goto out;
	}
	if (fwrite(sig, 1, 8, f) != 8 || write_chunk(f, "IHDR", ihdr, 13) ||
	    write_chunk(f, "IDAT", z, (uint32_t)zlen) || write_chunk(f, "IEND", NULL, 0))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
out:
	free(raw);
	free(z);
	if (err)
		pv_err("screenshot %s: %s", path, strerror(-err));
	return err;
}
