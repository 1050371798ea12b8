#include "vtest/vtest_timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/log.h"
#include "os/os_time.h"

/* 16 bytes an event: 2M events (32 MiB) cover minutes of a busy client. */
#define TL_MAX_EVENTS (2u << 20)

struct tl_event {
	uint64_t t_ns;
	uint32_t type_and_a; /* type in the top 8 bits */
	uint32_t b_lo;       /* fence ids and sync values fit in 32 bits here */
};

struct vtest_timeline {
	uint32_t client_id;
	char dir[256];
	atomic_uint n;
	struct tl_event *ev;
};

struct vtest_timeline *vtest_timeline_open(uint32_t client_id)
{
	const char *dir = getenv("PEARVISOR_VTEST_TIMELINE");
	if (!dir || !*dir)
		return NULL;
	struct vtest_timeline *tl = calloc(1, sizeof(*tl));
	if (tl)
		tl->ev = malloc(TL_MAX_EVENTS * sizeof(*tl->ev));
	if (!tl || !tl->ev) {
		pv_warn("vtest: client %u: no memory for a timeline", client_id);
		free(tl);
		return NULL;
	}
	tl->client_id = client_id;
	snprintf(tl->dir, sizeof(tl->dir), "%s", dir);
	return tl;
}

void vtest_timeline_add(struct vtest_timeline *tl, enum vtest_tl_event type, uint32_t a,
			uint64_t b)
{
	if (!tl)
		return;
	unsigned i = atomic_fetch_add_explicit(&tl->n, 1, memory_order_relaxed);
	if (i >= TL_MAX_EVENTS)
		return;
	tl->ev[i] = (struct tl_event){ os_now_ns(), (uint32_t)type << 24 | (a & 0xffffff),
				       (uint32_t)b };
}

void vtest_timeline_close(struct vtest_timeline *tl)
{
	if (!tl)
		return;
	char path[300];
	snprintf(path, sizeof(path), "%s/client-%u.tl", tl->dir, tl->client_id);
	FILE *f = fopen(path, "w");
	unsigned n = atomic_load(&tl->n);
	if (n > TL_MAX_EVENTS)
		n = TL_MAX_EVENTS;
	if (!f) {
		pv_warn("vtest: cannot write timeline %s: %s", path, strerror(errno));
	} else {
		/* Retire events come from other threads: a slot may be
		 * claimed but not yet filled; those read as zero time. */
		for (unsigned i = 0; i < n; i++)
			if (tl->ev[i].t_ns)
				fprintf(f, "%" PRIu64 " %u %u %u\n", tl->ev[i].t_ns,
					tl->ev[i].type_and_a >> 24, tl->ev[i].type_and_a & 0xffffff,
					tl->ev[i].b_lo);
		fclose(f);
		pv_info("vtest: client %u: timeline of %u events in %s", tl->client_id, n, path);
	}
	free(tl->ev);
	free(tl);
}
