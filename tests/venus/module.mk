# Venus renderer tests: codec/transport unit tests and vk-smoke, the client
# that tests/suites/30-venus.sh runs against `pearvisor gpu-server`.
ifeq ($(GPU),1)
host-progs += vk-smoke
vk-smoke-srcs := tests/venus/vk_smoke.c
endif
ifeq ($(GPU),1)
unit-tests += test_venus_codec test_venus_context
test_venus_codec-srcs := $(unit-test-main) tests/unit/test_venus_codec.c
test_venus_context-srcs := $(unit-test-main) tests/unit/test_venus_context.c
endif
# vk-smoke's compute shaders, compiled at build time.
$(GEN)/venus/fill_spv.h: tests/venus/fill.comp
	@mkdir -p $(dir $@)
	@echo "  GLSL    $<"
	$(Q)glslangValidator -s -V --vn fill_spv -o $@ $<
$(GEN)/venus/half_exp2_spv.h: tests/venus/half_exp2.comp
	@mkdir -p $(dir $@)
	@echo "  GLSL    $<"
	$(Q)glslangValidator -s -V --vn half_exp2_spv -o $@ $<
ifeq ($(GPU),1)
gen-deps += $(GEN)/venus/fill_spv.h $(GEN)/venus/half_exp2_spv.h
endif
