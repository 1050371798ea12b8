# libFuzzer targets: every tests/fuzz/fuzz_*.c becomes $(BUILD)/fuzz/fuzz_*,
# linked against the whole library. They need clang and an instrumented
# library, so build and run them with tests/fuzz/run.sh NAME SECONDS (it
# calls make with CC=clang into build/fuzz); `make fuzz` alone does the same
# build when CC is clang. (This file is read before the top Makefile defines
# obj and libs-main, hence the spelled-out object path and the $$ deferral.)
fuzz-targets := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

define fuzz-rule
$(BUILD)/fuzz/$(1): $(BUILD)/obj/tests/fuzz/$(1).o $(BUILD)/libpearvisor.a
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$(CC) -fsanitize=fuzzer -o $$@ $$^ $$(ALL_LDFLAGS) $$(libs-main)
endef
$(foreach t,$(fuzz-targets),$(eval $(call fuzz-rule,$(t))))

fuzz: $(addprefix $(BUILD)/fuzz/,$(fuzz-targets))
