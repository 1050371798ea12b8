/* Anonymous shared memory that can be handed to another process by fd. */
#ifndef PV_OS_SHM_H
#define PV_OS_SHM_H

#include <stddef.h>
#include <stdint.h>

/* A sealed-size memfd of size bytes (zero-filled); -errno on failure. */
int os_shm_create(const char *name, uint64_t size);
/* mmap(fd) read-write shared; NULL on failure. */
void *os_shm_map(int fd, uint64_t size);
void os_shm_unmap(void *p, uint64_t size);
size_t os_page_size(void);

#endif
