# The vtest server against a scripted renderer (tests/vtest/fake_renderer.c,
# linked only here).
ifeq ($(GPU),1)
unit-tests += test_vtest_server
test_vtest_server-srcs := $(unit-test-main) tests/vtest/test_vtest_server.c \
	tests/vtest/fake_renderer.c tests/vtest/vt_client.c
endif
