# Portable: the arm64 machine model is built and unit-tested on any host.
srcs-common += src/arch/arm64/layout.c src/arch/arm64/image.c src/arch/arm64/fdt.c
