srcs-common += src/os/log.c
srcs-common += src/os/shm.c
