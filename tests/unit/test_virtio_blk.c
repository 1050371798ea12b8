/* virtio-blk through the simulated driver, on a temporary raw image. */
#include <fcntl.h>
#include <unistd.h>

#include "test.h"
#include "virtio_sim.h"

#define IMG_SECTORS 2048   /* 1 MiB */
#define F(bit) (1ull << (bit))
#define BLK_F_RO 5
#define BLK_F_FLUSH 9

struct blk_req {
	uint32_t type, reserved;
	uint64_t sector;
};

static char *make_image(void)
{
	static char path[64];
	strcpy(path, "/tmp/pv-test-blk-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, IMG_SECTORS * 512ll) != 0) {
		perror("mkstemp");
		abort();
	}
	/* Recognisable content: byte i of sector s is (s + i) & 0xff. */
	uint8_t sec[512];
	for (int s = 0; s < 8; s++) {
		for (int i = 0; i < 512; i++)
			sec[i] = (uint8_t)(s + i);
		if (pwrite(fd, sec, 512, s * 512) != 512)
			abort();
	}
	close(fd);
	return path;
}

static void blk_up(struct sim *s, const char *path, bool ro)
{
	struct virtio_device *dev = virtio_blk_create(path, ro);
	CHECK(dev != NULL);
	if (!dev)
		abort();
	sim_init(s, dev);
	uint32_t st = sim_bring_up(s, ~0ull, 1, 64);
	CHECK(st & VIRTIO_STATUS_DRIVER_OK);
}

/* Issue one request: header, optional data (readable for OUT, writable for
 * IN/GET_ID), status. Returns the status byte; *used_len gets the used len. */
static int blk_do(struct sim *s, uint32_t type, uint64_t sector, uint64_t data_gpa,
		  uint32_t data_len, bool data_writable, uint32_t *used_len)
{
	uint64_t hdr = sim_alloc(s, 16), st = sim_alloc(s, 1);
	struct blk_req r = { type, 0, sector };
	memcpy(sim_host(s, hdr), &r, 16);
	*(uint8_t *)sim_host(s, st) = 0xee;
	struct sim_buf b[3];
	unsigned n = 0;
	b[n++] = (struct sim_buf){ hdr, 16, false };
	if (data_len)
		b[n++] = (struct sim_buf){ data_gpa, data_len, data_writable };
	b[n++] = (struct sim_buf){ st, 1, true };
	uint16_t head = sim_post(s, 0, b, n);
	sim_notify(s, 0);
	uint32_t id;
	if (!sim_used(s, 0, &id, used_len) || id != head)
		return -1;
	return *(uint8_t *)sim_host(s, st);
}

static uint64_t cfg64(struct sim *s, uint32_t off)
{
	uint64_t v = 0;
	virtio_mmio_ops.read(s->m, VIRTIO_MMIO_CONFIG + off, &v, 8);
	return v;
}

static uint32_t cfg32(struct sim *s, uint32_t off)
{
	uint32_t v = 0;
	virtio_mmio_ops.read(s->m, VIRTIO_MMIO_CONFIG + off, &v, 4);
	return v;
}

TEST(blk_config_and_features)
{
	char *path = make_image();
	struct sim s;
	blk_up(&s, path, false);
	CHECK_EQ(sim_r32(&s, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	CHECK_EQ(cfg64(&s, 0), IMG_SECTORS);
	CHECK_EQ(cfg32(&s, 12), VIRTQ_MAX_CHAIN - 2);   /* seg_max */
	CHECK_EQ(cfg32(&s, 20), 512);                   /* blk_size */
	CHECK(cfg32(&s, 8) > 0);                        /* size_max */
	uint64_t f = sim_features(&s);
	CHECK(f & F(BLK_F_FLUSH));
	CHECK(!(f & F(BLK_F_RO)));
	/* Config access past the end reads 0 and does not crash. */
	CHECK_EQ(cfg32(&s, 0x100 - 4), 0);
	sim_fini(&s);
	unlink(path);
}

TEST(blk_read_write_flush_get_id)
{
	char *path = make_image();
	struct sim s;
	blk_up(&s, path, false);
	uint32_t used;
	uint64_t buf = sim_alloc(&s, 1024);
	uint8_t *h = sim_host(&s, buf);

	/* Read sectors 2-3. */
	CHECK_EQ(blk_do(&s, 0, 2, buf, 1024, true, &used), 0);
	CHECK_EQ(used, 1025);
	CHECK_EQ(h[0], 2);
	CHECK_EQ(h[511], (uint8_t)(2 + 511));
	CHECK_EQ(h[512], 3);

	/* Write sector 100, then read it back through the device and the file. */
	memset(h, 0x5a, 512);
	CHECK_EQ(blk_do(&s, 1, 100, buf, 512, false, &used), 0);
	memset(h, 0, 1024);
	CHECK_EQ(blk_do(&s, 0, 100, buf, 512, true, &used), 0);
	CHECK_EQ(h[0], 0x5a);
	CHECK_EQ(h[511], 0x5a);
	int fd = open(path, O_RDONLY);
	uint8_t disk[512];
	CHECK_EQ(pread(fd, disk, 512, 100 * 512), 512);
	close(fd);
	CHECK_EQ(disk[0], 0x5a);
	CHECK_EQ(disk[511], 0x5a);

	/* Flush. */
	CHECK_EQ(blk_do(&s, 4, 0, 0, 0, false, &used), 0);
	CHECK_EQ(used, 1);

	/* GET_ID: the image name's last 20 bytes, NUL padded. */
	memset(h, 0xff, 20);
	CHECK_EQ(blk_do(&s, 8, 0, buf, 20, true, &used), 0);
	CHECK_EQ(used, 21);
	const char *name = strrchr(path, '/') + 1;
	CHECK(strncmp((char *)h, name, 20) == 0);

	/* Unsupported type. */
	CHECK_EQ(blk_do(&s, 11, 0, buf, 16, false, &used), 2);

	/* Last sector is readable, one past it is not. */
	CHECK_EQ(blk_do(&s, 0, IMG_SECTORS - 1, buf, 512, true, &used), 0);
	CHECK_EQ(blk_do(&s, 0, IMG_SECTORS, buf, 512, true, &used), 1);
	CHECK_EQ(blk_do(&s, 0, IMG_SECTORS - 1, buf, 1024, true, &used), 1);
	CHECK_EQ(blk_do(&s, 1, IMG_SECTORS, buf, 512, false, &used), 1);
	/* Sector numbers that overflow when scaled. */
	CHECK_EQ(blk_do(&s, 0, UINT64_MAX, buf, 512, true, &used), 1);
	CHECK_EQ(blk_do(&s, 0, UINT64_MAX / 512 + 1, buf, 512, true, &used), 1);
	/* Length not a multiple of the sector size. */
	CHECK_EQ(blk_do(&s, 0, 0, buf, 100, true, &used), 1);
	CHECK(!(sim_r32(&s, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));
	sim_fini(&s);
	unlink(path);
}

TEST(blk_multi_segment_read)
{
	char *path = make_image();
	struct sim s;
	blk_up(&s, path, false);
	/* Header and data split oddly: 10+6 header bytes, 3 data buffers, status. */
	uint64_t h1 = sim_alloc(&s, 10), h2 = sim_alloc(&s, 6);
	uint64_t d1 = sim_alloc(&s, 100), d2 = sim_alloc(&s, 900), d3 = sim_alloc(&s, 24);
	uint64_t st = sim_alloc(&s, 1);
	struct blk_req r = { 0, 0, 4 };
	memcpy(sim_host(&s, h1), &r, 10);
	memcpy(sim_host(&s, h2), (uint8_t *)&r + 10, 6);
	struct sim_buf b[] = { { h1, 10, false }, { h2, 6, false }, { d1, 100, true },
			       { d2, 900, true }, { d3, 24, true }, { st, 1, true } };
	sim_post(&s, 0, b, 6);
	sim_notify(&s, 0);
	uint32_t id, len;
	CHECK(sim_used(&s, 0, &id, &len));
	CHECK_EQ(len, 1025);
	CHECK_EQ(*(uint8_t *)sim_host(&s, st), 0);
	CHECK_EQ(((uint8_t *)sim_host(&s, d1))[0], 4);
	CHECK_EQ(((uint8_t *)sim_host(&s, d2))[0], (uint8_t)(4 + 100));
	CHECK_EQ(((uint8_t *)sim_host(&s, d3))[0], (uint8_t)(5 + 1000 - 512));
	sim_fini(&s);
	unlink(path);
}

TEST(blk_malformed_requests)
{
	char *path = make_image();
	struct sim s;
	blk_up(&s, path, false);
	uint32_t id, len;
	/* No writable byte for the status: dropped with used len 0. */
	uint64_t hdr = sim_alloc(&s, 16);
	struct sim_buf b1 = { hdr, 16, false };
	sim_post(&s, 0, &b1, 1);
	sim_notify(&s, 0);
	CHECK(sim_used(&s, 0, &id, &len));
	CHECK_EQ(len, 0);
	/* Header too short: IOERR. */
	uint64_t st = sim_alloc(&s, 1);
	struct sim_buf b2[] = { { hdr, 8, false }, { st, 1, true } };
	sim_post(&s, 0, b2, 2);
	sim_notify(&s, 0);
	CHECK(sim_used(&s, 0, &id, &len));
	CHECK_EQ(*(uint8_t *)sim_host(&s, st), 1);
	/* The device still works. */
	uint64_t buf = sim_alloc(&s, 512);
	CHECK_EQ(blk_do(&s, 0, 0, buf, 512, true, &len), 0);
	sim_fini(&s);
	unlink(path);
}

TEST(blk_readonly)
{
	char *path = make_image();
	struct sim s;
	blk_up(&s, path, true);
	CHECK(sim_features(&s) & F(BLK_F_RO));
	CHECK(virtio_dev_has_feature(s.dev, BLK_F_RO));
	uint32_t used;
	uint64_t buf = sim_alloc(&s, 512);
	memset(sim_host(&s, buf), 0x77, 512);
	CHECK_EQ(blk_do(&s, 1, 0, buf, 512, false, &used), 1);
	CHECK_EQ(blk_do(&s, 0, 0, buf, 512, true, &used), 0);
	CHECK_EQ(((uint8_t *)sim_host(&s, buf))[1], 1);   /* original content */
	CHECK_EQ(blk_do(&s, 4, 0, 0, 0, false, &used), 0);
	sim_fini(&s);
	unlink(path);
}

/* Runs create with stderr captured; returns the device and the log text. */
static struct virtio_device *create_capture(const char *path, bool ro, char *log, size_t n)
{
	fflush(stderr);
	int saved = dup(2);
	FILE *tmp = tmpfile();
	dup2(fileno(tmp), 2);
	struct virtio_device *dev = virtio_blk_create(path, ro);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t got = fread(log, 1, n - 1, tmp);
	log[got] = 0;
	fclose(tmp);
	return dev;
}

TEST(blk_image_locking)
{
	char *path = make_image();
	char log[512], want[256];
	snprintf(want, sizeof(want), "disk %s is in use by another process", path);

	struct virtio_device *a = virtio_blk_create(path, false);
	CHECK(a != NULL);
	struct virtio_device *b = create_capture(path, false, log, sizeof(log));
	CHECK(b == NULL);
	CHECK(strstr(log, want) != NULL);
	/* A read-only user is refused while a writer holds it. */
	b = create_capture(path, true, log, sizeof(log));
	CHECK(b == NULL);
	CHECK(strstr(log, want) != NULL);
	virtio_device_destroy(a);

	/* Readers share; a writer is refused while any reader holds it. */
	a = virtio_blk_create(path, true);
	b = virtio_blk_create(path, true);
	CHECK(a != NULL && b != NULL);
	struct virtio_device *c = create_capture(path, false, log, sizeof(log));
	CHECK(c == NULL);
	CHECK(strstr(log, want) != NULL);
	virtio_device_destroy(a);
	virtio_device_destroy(b);
	/* Released: a writer gets it now. */
	c = virtio_blk_create(path, false);
	CHECK(c != NULL);
	virtio_device_destroy(c);

	/* A missing file fails cleanly. */
	CHECK(create_capture("/nonexistent/pv.img", false, log, sizeof(log)) == NULL);
	CHECK(strstr(log, "/nonexistent/pv.img") != NULL);
	unlink(path);
}
