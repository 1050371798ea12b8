srcs-common += src/os/log.c
