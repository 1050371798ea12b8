srcs-common += src/os/log.c
srcs-common += src/os/os_fd.c
