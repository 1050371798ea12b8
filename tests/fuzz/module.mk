# libFuzzer targets (clang). `make fuzz` builds them into $(BUILD)/fuzz;
# the script also works on its own.
fuzz:
	$(Q)sh tests/fuzz/build-venus-fuzz.sh $(BUILD)/fuzz
