srcs-common += src/hw/pl011.c
