srcs-common += src/vmm/guest_mem.c src/vmm/mmio_bus.c
srcs-vmm += src/vmm/cmd_run.c
