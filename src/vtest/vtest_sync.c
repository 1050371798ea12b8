#include "vtest/vtest_sync.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/os_fd.h"
#include "os/os_time.h"
#include "vtest/vtest_wire.h"

struct vtest_wait {
	struct vtest_wait *next;
	int fd;
	uint32_t flags;
	uint64_t deadline_ns; /* UINT64_MAX: none */
	uint32_t n;
	struct vtest_sync_entry want[];
};

struct vtest_pending_fence {
	struct vtest_pending_fence *next;
	uint64_t fence_id;
	uint32_t n;
	struct vtest_sync_entry set[];
};

static void decode_triplets(const uint32_t *t, uint32_t n, struct vtest_sync_entry *out)
{
	for (uint32_t i = 0; i < n; i++) {
		out[i].id = t[3 * i];
		out[i].value = t[3 * i + 1] | (uint64_t)t[3 * i + 2] << 32;
	}
}

void vtest_syncs_init(struct vtest_syncs *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->next_id = 1;
	s->ready_fd = -1;
}

void vtest_syncs_fini(struct vtest_syncs *s)
{
	while (s->waits) {
		struct vtest_wait *w = s->waits;
		s->waits = w->next;
		close(w->fd);
		free(w);
	}
	while (s->fences) {
		struct vtest_pending_fence *f = s->fences;
		s->fences = f->next;
		free(f);
	}
	free(s->syncs);
	if (s->ready_fd >= 0)
		close(s->ready_fd);
	pthread_mutex_destroy(&s->lock);
}

static struct vtest_sync_entry *find(struct vtest_syncs *s, uint32_t id)
{
	size_t lo = 0, hi = s->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->syncs[mid].id == id)
			return &s->syncs[mid];
		if (s->syncs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool wait_ready(struct vtest_syncs *s, const struct vtest_wait *w)
{
	uint32_t reached = 0;
	for (uint32_t i = 0; i < w->n; i++) {
		const struct vtest_sync_entry *e = find(s, w->want[i].id);
		if (e && e->value >= w->want[i].value)
			reached++;
	}
	if (w->flags & VTEST_SYNC_WAIT_FLAG_ANY)
		return reached > 0 || w->n == 0;
	return reached == w->n;
}

/* Fires and forgets every wait whose condition now holds or whose client
 * side has long given up (deadline passed). */
static void check_waits(struct vtest_syncs *s)
{
	uint64_t now = 0;
	for (struct vtest_wait **pw = &s->waits; *pw;) {
		struct vtest_wait *w = *pw;
		bool ready = wait_ready(s, w);
		if (!ready && w->deadline_ns != UINT64_MAX) {
			if (!now)
				now = os_now_ns();
			if (now < w->deadline_ns) {
				pw = &w->next;
				continue;
			}
		} else if (!ready) {
			pw = &w->next;
			continue;
		}
		if (ready)
			os_eventfd_signal(w->fd);
		close(w->fd);
		*pw = w->next;
		s->wait_count--;
		free(w);
	}
}

int vtest_sync_create(struct vtest_syncs *s, uint64_t value, uint32_t *id)
{
	int ret = 0;
	pthread_mutex_lock(&s->lock);
	if (s->count >= VTEST_MAX_SYNCS || s->next_id == UINT32_MAX) {
		ret = -ENOSPC;
		goto out;
	}
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct vtest_sync_entry *n = realloc(s->syncs, cap * sizeof(*n));
		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		s->syncs = n;
		s->cap = cap;
	}
	*id = s->next_id++;
	s->syncs[s->count++] = (struct vtest_sync_entry){ .id = *id, .value = value };
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int vtest_sync_unref(struct vtest_syncs *s, uint32_t id)
{
	pthread_mutex_lock(&s->lock);
	struct vtest_sync_entry *e = find(s, id);
	if (e) {
		size_t idx = (size_t)(e - s->syncs);
		memmove(e, e + 1, (s->count - idx - 1) * sizeof(*e));
		s->count--;
	}
	pthread_mutex_unlock(&s->lock);
	return e ? 0 : -ENOENT;
}

int vtest_sync_read(struct vtest_syncs *s, uint32_t id, uint64_t *value)
{
	pthread_mutex_lock(&s->lock);
	struct vtest_sync_entry *e = find(s, id);
	if (e)
		*value = e->value;
	pthread_mutex_unlock(&s->lock);
	return e ? 0 : -ENOENT;
}

int vtest_sync_write(struct vtest_syncs *s, uint32_t id, uint64_t value)
{
	pthread_mutex_lock(&s->lock);
	struct vtest_sync_entry *e = find(s, id);
	if (e) {
		e->value = value;
		check_waits(s);
	}
	pthread_mutex_unlock(&s->lock);
	return e ? 0 : -ENOENT;
}

int vtest_sync_wait(struct vtest_syncs *s, uint32_t flags, uint32_t timeout_ms,
		    const uint32_t *triplets, uint32_t n, struct vtest_wait_reply *out)
{
	*out = (struct vtest_wait_reply){ .fd = -1 };
	struct vtest_wait *w = calloc(1, sizeof(*w) + (size_t)n * sizeof(w->want[0]));
	if (!w)
		return -ENOMEM;
	w->flags = flags;
	w->n = n;
	w->fd = -1;
	w->deadline_ns = timeout_ms == UINT32_MAX ? UINT64_MAX
						  : os_now_ns() + (uint64_t)timeout_ms * 1000000u;
	decode_triplets(triplets, n, w->want);

	int ret = 0;
	bool ready = false, armed = false;
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < n; i++) {
		if (!find(s, w->want[i].id)) {
			ret = -ENOENT;
			break;
		}
	}
	if (!ret && wait_ready(s, w)) {
		ready = true;
		if (s->ready_fd < 0)
			s->ready_fd = os_eventfd_create_readable();
		if (s->ready_fd >= 0) {
			out->fd = s->ready_fd;
			out->shared = true;
		}
	} else if (!ret && timeout_ms != 0) {
		/* A slot is taken now, so that the wait can always be armed
		 * once its fd is out. */
		if (s->wait_count >= VTEST_MAX_WAITS)
			check_waits(s);
		if (s->wait_count >= VTEST_MAX_WAITS) {
			ret = -ENOSPC;
		} else {
			s->wait_count++;
			armed = true;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (ret || out->shared) {
		free(w);
		return ret;
	}
	/* The eventfd is made outside the lock the fence threads retire
	 * under; without a shared ready fd, a fresh signalled one does. */
	int fd = os_eventfd_create();
	if (fd < 0) {
		free(w);
		if (armed) {
			pthread_mutex_lock(&s->lock);
			s->wait_count--;
			pthread_mutex_unlock(&s->lock);
		}
		return fd;
	}
	if (ready)
		os_eventfd_signal(fd);
	out->fd = fd;
	if (armed) {
		w->fd = fd;
		out->arm = w;
	} else {
		/* Ready, or a client that polls with no timeout and re-asks
		 * later: nothing to watch. */
		free(w);
	}
	return 0;
}

void vtest_sync_wait_done(struct vtest_syncs *s, struct vtest_wait_reply *r, bool sent)
{
	struct vtest_wait *w = r->arm;
	if (r->shared)
		return; /* the set keeps it */
	if (!w) {
		close(r->fd);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (sent && !wait_ready(s, w)) {
		/* It lives on the list from here: check_waits fires, closes
		 * and frees it. */
		w->next = s->waits;
		s->waits = w;
		w = NULL;
	} else {
		/* It held by the time its fd was out (a fence retired in
		 * between), or the client never got the fd. */
		if (sent)
			os_eventfd_signal(w->fd);
		s->wait_count--;
	}
	pthread_mutex_unlock(&s->lock);
	if (w) {
		close(w->fd);
		free(w);
	}
}

int vtest_syncs_add_fence(struct vtest_syncs *s, uint64_t fence_id, const uint32_t *triplets,
			  uint32_t n)
{
	struct vtest_pending_fence *f = malloc(sizeof(*f) + (size_t)n * sizeof(f->set[0]));
	if (!f)
		return -ENOMEM;
	f->fence_id = fence_id;
	f->n = n;
	decode_triplets(triplets, n, f->set);
	int ret = 0;
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < n && !ret; i++)
		if (!find(s, f->set[i].id))
			ret = -ENOENT;
	if (!ret && s->fence_count >= VTEST_MAX_PENDING_FENCES)
		ret = -ENOSPC;
	if (!ret) {
		f->next = s->fences;
		s->fences = f;
		s->fence_count++;
	}
	pthread_mutex_unlock(&s->lock);
	if (ret)
		free(f);
	return ret;
}

static struct vtest_pending_fence *unlink_fence(struct vtest_syncs *s, uint64_t fence_id)
{
	for (struct vtest_pending_fence **pf = &s->fences; *pf; pf = &(*pf)->next) {
		if ((*pf)->fence_id == fence_id) {
			struct vtest_pending_fence *f = *pf;
			*pf = f->next;
			s->fence_count--;
			return f;
		}
	}
	return NULL;
}

void vtest_syncs_cancel_fence(struct vtest_syncs *s, uint64_t fence_id)
{
	pthread_mutex_lock(&s->lock);
	free(unlink_fence(s, fence_id));
	pthread_mutex_unlock(&s->lock);
}

void vtest_syncs_fence_retired(struct vtest_syncs *s, uint64_t fence_id)
{
	pthread_mutex_lock(&s->lock);
	struct vtest_pending_fence *f = unlink_fence(s, fence_id);
	if (f) {
		for (uint32_t i = 0; i < f->n; i++) {
			/* A sync unreffed while its fence was in flight is
			 * simply gone. */
			struct vtest_sync_entry *e = find(s, f->set[i].id);
			if (e)
				e->value = f->set[i].value;
		}
		check_waits(s);
		free(f);
	}
	pthread_mutex_unlock(&s->lock);
}
