# Benchmarks built as native programs (run by bench/*.sh and by hand; no
# timing assertions).
ifeq ($(GPU),1)
host-progs += vn-micro
vn-micro-srcs := bench/vn-micro.c
vn-micro-libs := -lvulkan
endif
