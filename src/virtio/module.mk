srcs-common += src/virtio/virtio.c src/virtio/virtqueue.c src/virtio/iov.c \
	src/virtio/mmio.c src/virtio/blk.c src/virtio/console.c src/virtio/rng.c \
	src/virtio/gpu.c src/virtio/gpu_png.c
# The device's binding to the Venus renderer exists only where the renderer
# is built.
srcs-gpu += src/virtio/gpu_venus.c
