srcs-gpu += src/gpu/gpu_device.c src/gpu/cmd_gpu_list.c src/gpu/gpu_host_runtime.c
libs-gpu += -lvulkan
cflags-gpu += -I$(VKSDK)/usr/include
