srcs-gpu += src/gpu/gpu_device.c src/gpu/cmd_gpu_list.c
libs-gpu += -lvulkan
cflags-gpu += -I$(VKSDK)/usr/include
