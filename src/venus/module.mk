# Venus renderer. The protocol tables are generated from the pinned vk.xml
# by tools/gen_venus.py into $(GEN)/venus (see docs/venus-renderer.md).
VENUS_GEN_DIR := $(GEN)/venus
VENUS_GEN_C := $(VENUS_GEN_DIR)/vn_gen_types.c $(VENUS_GEN_DIR)/vn_gen_misc.c \
	$(foreach i,0 1 2,$(VENUS_GEN_DIR)/vn_gen_cmds$(i).c)
VENUS_GEN_IN := tools/gen_venus.py tools/venus/venus_protocol.xml \
	tools/venus/command_types.txt tools/venus/extensions.txt $(VK_XML)

$(VENUS_GEN_DIR)/vn_gen.h: $(VENUS_GEN_IN)
	@mkdir -p $(dir $@)
	@echo "  GEN     $(VENUS_GEN_DIR)"
	$(Q)$(PYTHON) tools/gen_venus.py $(VK_XML) tools/venus $(VENUS_GEN_DIR)
$(VENUS_GEN_C): $(VENUS_GEN_DIR)/vn_gen.h

srcs-gpu += src/venus/venus.c src/venus/vn_codec.c src/venus/vn_objects.c \
	src/venus/vn_dispatch.c src/venus/vn_handlers.c src/venus/vn_memory.c \
	src/venus/vn_transport.c src/venus/vn_fence.c src/venus/vn_drm_modifier.c src/venus/vn_dma_buf.c src/venus/vn_trace.c src/venus/vn_pipeline.c
libs-gpu += -lvulkan
gen-gpu += $(VENUS_GEN_C)
gen-deps += $(VENUS_GEN_DIR)/vn_gen.h
cflags-gpu += -I$(VKSDK)/usr/include
