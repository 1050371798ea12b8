/* Small helpers shared by every subsystem. */
#ifndef PV_OS_UTIL_H
#define PV_OS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PV_MAX(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define PV_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))

/*
 * True when [off, off+len) lies inside [0, size). Written so that no
 * intermediate sum can overflow: every guest-supplied range goes through it.
 */
static inline bool pv_range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

#endif
