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

# A fault-injection layer (tests/vulkan/lose_device.c): the driver loses the
# device mid-run, for suite 30's device-lost check. A plain -fPIC shared
# object, never sanitized: it is loaded into the server under test.
ifeq ($(GPU),1)
LOSE_DEVICE := $(BUILD)/lose-device/libpv_lose_device.so
all: $(LOSE_DEVICE)
$(LOSE_DEVICE): tests/vulkan/lose_device.c tests/vulkan/VkLayer_pearvisor_lose_device.json
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -fPIC -shared \
		-fvisibility=hidden -I$(VKSDK)/usr/include -o $@ $<
	$(Q)cp tests/vulkan/VkLayer_pearvisor_lose_device.json $(dir $@)
endif
