# Benchmarks built as native programs (run by bench/*.sh and by hand; no
# timing assertions).
ifeq ($(GPU),1)
host-progs += vn-micro
vn-micro-srcs := bench/vn-micro.c
vn-micro-libs := -lvulkan
endif

# The headless-WSI layer for native vkmark baselines on drivers without
# VK_EXT_headless_surface (bench/headless-wsi/headless_wsi.c). A plain -fPIC
# shared object, never sanitized: it is loaded into other programs.
ifeq ($(GPU),1)
HEADLESS_WSI := $(BUILD)/headless-wsi/libpv_headless_wsi.so
all: $(HEADLESS_WSI)
$(HEADLESS_WSI): bench/headless-wsi/headless_wsi.c bench/headless-wsi/VkLayer_pearvisor_headless_wsi.json
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -fPIC -shared \
		-fvisibility=hidden -I$(VKSDK)/usr/include -o $@ $< -lpthread
	$(Q)cp bench/headless-wsi/VkLayer_pearvisor_headless_wsi.json $(dir $@)
endif
