/* A Venus command stream built by hand, as a guest driver would encode it. */
#ifndef PV_TESTS_UNIT_VENUS_BUF_H
#define PV_TESTS_UNIT_VENUS_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	uint8_t d[4096];
	size_t n;
};

static inline void u32(struct buf *b, uint32_t v)
{
	if (b->n + 4 > sizeof(b->d))
		abort(); /* a test that outgrew its buffer */
	memcpy(b->d + b->n, &v, 4);
	b->n += 4;
}

static inline void u64(struct buf *b, uint64_t v)
{
	if (b->n + 8 > sizeof(b->d))
		abort();
	memcpy(b->d + b->n, &v, 8);
	b->n += 8;
}

#endif
