srcs-common += src/virtio/virtio.c src/virtio/virtqueue.c src/virtio/iov.c \
	src/virtio/mmio.c src/virtio/blk.c src/virtio/console.c src/virtio/rng.c
