#include "fake_renderer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct pending {
	uint32_t ring;
	uint64_t id;
};

/* Each client's own renderer counts its contexts: destroying it with one
 * still alive aborts, which a process-isolated test sees as a crash. */
struct venus_renderer {
	atomic_int contexts;
};

struct venus_context {
	struct venus_renderer *r;
	struct venus_context_callbacks cb;
	size_t objects;
	bool lost, device_lost;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pending q[256];
	size_t qn;
	bool stop;
	pthread_t retirer;
};

static atomic_int live_contexts;
static atomic_ulong fences_retired;

int fake_live_contexts(void)
{
	return atomic_load(&live_contexts);
}

unsigned long fake_fences_retired(void)
{
	return atomic_load(&fences_retired);
}

static int fake_renderer_create(const struct venus_renderer_options *opts,
				struct venus_renderer **out)
{
	(void)opts;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void fake_renderer_destroy(struct venus_renderer *r)
{
	if (atomic_load(&r->contexts))
		abort();
	free(r);
}

static size_t fake_get_capset(struct venus_renderer *r, void *buf, size_t size)
{
	uint32_t caps[FAKE_CAPSET_SIZE / 4] = { 0 };
	caps[0] = 1;          /* wire format */
	caps[4] = 1;          /* blob id 0 */
	caps[37] = 1;         /* allow wait syncs */
	caps[38] = 1;         /* multiple timelines */
	if (buf && size)
		memcpy(buf, caps, size < sizeof(caps) ? size : sizeof(caps));
	return sizeof(caps);
}

static void *retirer_main(void *arg)
{
	struct venus_context *c = arg;
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		if (!c->qn) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		struct pending p = c->q[0];
		memmove(c->q, c->q + 1, (c->qn - 1) * sizeof(c->q[0]));
		c->qn--;
		pthread_mutex_unlock(&c->lock);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		c->cb.fence_retired(c->cb.opaque, p.ring, p.id);
		atomic_fetch_add(&fences_retired, 1);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static int fake_context_create(struct venus_renderer *r, uint32_t ctx_id, const char *name,
			       const struct venus_context_callbacks *cb,
			       struct venus_context **out)
{
	struct venus_context *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->r = r;
	c->cb = *cb;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_create(&c->retirer, NULL, retirer_main, c);
	atomic_fetch_add(&live_contexts, 1);
	atomic_fetch_add(&r->contexts, 1);
	*out = c;
	return 0;
}

static void fake_context_destroy(struct venus_context *c)
{
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->retirer, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	atomic_fetch_sub(&c->r->contexts, 1);
	free(c);
	atomic_fetch_sub(&live_contexts, 1);
}

static int fake_submit(struct venus_context *c, const void *cmds, size_t size)
{
	if (c->lost || size % 4)
		return -EIO;
	const uint32_t *w = cmds;
	for (size_t i = 0; i < size / 4; i++) {
		if (w[i] == FAKE_OP_CREATE) {
			c->objects++;
		} else if (w[i] == FAKE_OP_DESTROY && c->objects) {
			c->objects--;
		} else if (w[i] == FAKE_OP_CRASH) {
			abort();
		} else if (w[i] == FAKE_OP_LOSE_DEVICE) {
			c->lost = c->device_lost = true;
			return -EIO;
		} else if (w[i] != FAKE_OP_NOP) {
			c->lost = true;
			return -EIO;
		}
	}
	return 0;
}

static bool fake_is_lost(const struct venus_context *c)
{
	return c->lost;
}

static bool fake_device_lost(const struct venus_context *c)
{
	return c->device_lost;
}

static int fake_create_blob(struct venus_context *c, uint32_t res_id, uint32_t blob_mem,
			    uint32_t blob_flags, uint64_t blob_id, uint64_t size,
			    struct venus_blob *out)
{
	if (blob_id != 0 || size > (1u << 24))
		return -EINVAL;
	int fd = memfd_create("fake-blob", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -ENOMEM;
	}
	out->fd = fd;
	out->size = size;
	out->map_info = VENUS_MAP_CACHE_CACHED;
	return 0;
}

static void fake_destroy_resource(struct venus_context *c, uint32_t res_id)
{
}

static int fake_submit_fence(struct venus_context *c, uint32_t ring, uint64_t id)
{
	if (ring == 0) {
		c->cb.fence_retired(c->cb.opaque, ring, id);
		atomic_fetch_add(&fences_retired, 1);
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	int ret = 0;
	if (c->qn == sizeof(c->q) / sizeof(c->q[0])) {
		ret = -EBUSY;
	} else {
		c->q[c->qn++] = (struct pending){ ring, id };
		pthread_cond_signal(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static size_t fake_object_count(const struct venus_context *c)
{
	return c->objects;
}

const struct vtest_backend fake_backend = {
	.renderer_create = fake_renderer_create,
	.renderer_destroy = fake_renderer_destroy,
	.get_capset = fake_get_capset,
	.context_create = fake_context_create,
	.context_destroy = fake_context_destroy,
	.submit = fake_submit,
	.is_lost = fake_is_lost,
	.device_lost = fake_device_lost,
	.create_blob = fake_create_blob,
	.destroy_resource = fake_destroy_resource,
	.submit_fence = fake_submit_fence,
	.object_count = fake_object_count,
};
