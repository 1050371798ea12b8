# Benchmarks built as native programs (run by bench/h100/run.sh and by hand).
ifeq ($(GPU),1)
host-progs += vn-micro
vn-micro-srcs := bench/vn-micro.c
vn-micro-libs := -lvulkan
endif
