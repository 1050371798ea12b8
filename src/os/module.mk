srcs-common += src/os/log.c src/os/shm.c src/os/os_fd.c src/os/os_thread.c src/os/os_process.c
