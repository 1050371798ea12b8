# pv-vktest: our own Vulkan conformance smoke test; runs natively and, in a
# guest root, through Venus. Linked with --as-needed so it needs only
# libvulkan.so.1 and libc, which every root has.
ifeq ($(GPU),1)
host-progs += pv-vktest
pv-vktest-srcs := tests/vulkan/pv-vktest.c
gen-deps += $(GEN)/pv_vktest_comp.h
$(BUILD)/pv-vktest: LDFLAGS += -Wl,--as-needed

$(GEN)/pv_vktest_comp.h: tests/vulkan/pv-vktest.comp
	@mkdir -p $(dir $@)
	@echo "  GLSL    $<"
	$(Q)glslangValidator -s -V --target-env vulkan1.1 --vn pv_vktest_comp_spv -o $@ $<
endif
