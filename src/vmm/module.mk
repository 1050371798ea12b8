srcs-common += src/vmm/guest_mem.c src/vmm/mmio_bus.c src/vmm/config.c
srcs-vmm += src/vmm/cmd_run.c src/vmm/vm.c src/vmm/console.c src/vmm/vm_gpu.c
libs-vmm += -lfdt -lz

# The virtio devices live in src/virtio (another subsystem); use them once
# they are in the tree.
ifneq ($(wildcard src/virtio/virtio.h),)
CFLAGS_BASE += -DPV_HAVE_VIRTIO=1
endif
